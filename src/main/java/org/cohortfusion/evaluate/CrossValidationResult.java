package org.cohortfusion.evaluate;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What k-fold cross-validation measured; the content of {@code <output.dir>/cv/metrics.json}.
 *
 * @param folds k
 * @param numClasses number of classes
 * @param subjects labeled subjects with an out-of-fold prediction (each exactly once per model)
 * @param validation how the validation split of each fold was chosen
 * @param minPatternSize the pooled table's threshold: evaluate.min-pattern-size times k, since the
 *     pooled predictions cover k test parts (the per-fold tables keep evaluate.min-pattern-size)
 * @param removalRates the MCAR test-time removal rates of the robustness curves
 * @param models one entry per model evaluated in every fold
 * @param comparisons paired DeLong differences on the pooled out-of-fold predictions: every model
 *     against the best unimodal model (by pooled AUROC); binary cohorts only
 * @param skipped models missing from some fold's evaluation (not pooled), with the folds that lack
 *     them
 * @param repeated repeated k-fold (splits.repeats &gt; 1), by model: each repeat's pooled AUROC and
 *     their mean ± sd; this file's other figures are repeat 0's; empty without repeats
 * @param metricsPath this file
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CrossValidationResult(
    int folds,
    int numClasses,
    long subjects,
    String validation,
    int minPatternSize,
    List<Double> removalRates,
    List<Model> models,
    List<EvaluateResult.Comparison> comparisons,
    Map<String, List<Integer>> skipped,
    Map<String, Repeated> repeated,
    String metricsPath) {

  /**
   * One model over the repeats of repeated k-fold.
   *
   * @param pooledAuroc the pooled out-of-fold AUROC of each repeat, in repeat order
   * @param pooledAurocOverRepeats their mean ± sd
   * @param foldAuroc mean ± sd of the test AUROCs of every fold of every repeat
   */
  public record Repeated(
      List<Double> pooledAuroc, MeanSd pooledAurocOverRepeats, MeanSd foldAuroc) {}

  /** Mean and sample standard deviation of a metric over the folds (sd NaN for one fold). */
  public record MeanSd(double mean, double sd) {
    static MeanSd of(double[] v) {
      double s = 0;
      for (double x : v) {
        s += x;
      }
      double mean = s / v.length;
      double ss = 0;
      for (double x : v) {
        ss += (x - mean) * (x - mean);
      }
      return new MeanSd(mean, v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : Double.NaN);
    }
  }

  /** One fold's test-part metrics of a model (from that fold's evaluate metrics.json). */
  public record FoldMetrics(int fold, ClassificationMetrics test) {}

  /**
   * One model across the folds.
   *
   * @param pooled metrics of the pooled out-of-fold predictions (every labeled subject once)
   * @param pooledAurocLower lower bound of DeLong's 95% interval of the pooled AUROC (binary only,
   *     else NaN)
   * @param pooledAurocUpper upper bound
   * @param perFold each fold's test metrics
   * @param auroc mean ± sd of the per-fold test AUROCs (likewise auprc, brier, ece)
   * @param patterns pooled metrics per missingness pattern (too small below minPatternSize)
   * @param robustness mean ± sd over the folds of the AUROC at each MCAR removal rate
   * @param ablation mean ± sd over the folds of the AUROC with one modality removed, by modality
   */
  public record Model(
      String name,
      String kind,
      String describe,
      ClassificationMetrics pooled,
      double pooledAurocLower,
      double pooledAurocUpper,
      List<FoldMetrics> perFold,
      MeanSd auroc,
      MeanSd auprc,
      MeanSd brier,
      MeanSd ece,
      List<EvaluateResult.PatternMetrics> patterns,
      List<MeanSd> robustness,
      Map<String, MeanSd> ablation) {}

  /** The unimodal model with the highest pooled AUROC, if any. */
  public Optional<Model> bestUnimodal() {
    return models.stream()
        .filter(m -> "unimodal".equals(m.kind()))
        .filter(m -> !Double.isNaN(m.pooled().auroc()))
        .max(Comparator.comparingDouble(m -> m.pooled().auroc()));
  }

  /**
   * Console summary: one line per model, pooled AUROC with its interval, mean ± sd over folds,
   * paired margin.
   */
  public String summary() {
    StringBuilder s =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "Cross-validation: %d folds, %d labeled subjects, each with one out-of-fold prediction per model (%s)%n",
                folds,
                subjects,
                validation));
    s.append(
        String.format(
            Locale.ROOT,
            "%-22s %-9s %-24s %-16s %s%n",
            "model",
            "kind",
            "pooled AUROC [95% CI]",
            "fold mean ± sd",
            "vs best unimodal, paired 95% CI"));
    String reference = bestUnimodal().map(Model::name).orElse(null);
    models.stream()
        .sorted(Comparator.comparingDouble((Model m) -> -m.pooled().auroc()))
        .forEach(
            m -> {
              String vs =
                  comparisons.stream()
                      .filter(c -> c.model().equals(m.name()) && c.reference().equals(reference))
                      .findFirst()
                      .map(
                          c ->
                              String.format(
                                  Locale.ROOT,
                                  "%+.3f [%+.3f, %+.3f]",
                                  c.paired().difference(),
                                  c.paired().lower(),
                                  c.paired().upper()))
                      .orElse(m.name().equals(reference) ? "(reference)" : "");
              s.append(
                  String.format(
                      Locale.ROOT,
                      "%-22s %-9s %.3f [%.3f, %.3f]     %.3f ± %.3f    %s%n",
                      m.name(),
                      m.kind(),
                      m.pooled().auroc(),
                      m.pooledAurocLower(),
                      m.pooledAurocUpper(),
                      m.auroc().mean(),
                      m.auroc().sd(),
                      vs));
            });
    if (repeated != null && !repeated.isEmpty()) {
      Map<String, MeanSd> overRepeats = new java.util.LinkedHashMap<>();
      repeated.forEach((name, r) -> overRepeats.put(name, r.pooledAurocOverRepeats()));
      s.append(
          repeatsSummary(
              "AUROC", repeated.values().iterator().next().pooledAuroc().size(), overRepeats));
    }
    if (!skipped.isEmpty()) {
      s.append("Not pooled (missing from some folds): ").append(skipped).append('\n');
    }
    return s.toString();
  }

  /**
   * The console lines of repeated k-fold: each model's pooled {@code metric}, mean ± sd over the
   * {@code repeats} repeats.
   */
  static String repeatsSummary(String metric, int repeats, Map<String, MeanSd> overRepeats) {
    StringBuilder s =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "Repeated k-fold, %d repeats: pooled %s mean ± sd over repeats%n",
                repeats,
                metric));
    overRepeats.forEach(
        (name, m) ->
            s.append(String.format(Locale.ROOT, "  %-22s %.3f ± %.3f%n", name, m.mean(), m.sd())));
    return s.toString();
  }
}
