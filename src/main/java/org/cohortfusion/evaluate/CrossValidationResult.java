package org.cohortfusion.evaluate;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

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
 *     against {@code reference}, and the fusion against the classical baseline both by pooled AUROC
 *     ({@link #bestPooled}) and chosen on validation ({@link #chosenOnValidation}); binary cohorts
 *     only
 * @param skipped models missing from some fold's evaluation (not pooled), with the folds that lack
 *     them
 * @param repeated repeated k-fold (splits.repeats &gt; 1), by model: each repeat's pooled AUROC and
 *     their mean ± sd; this file's other figures are repeat 0's; empty without repeats
 * @param metricsPath this file
 * @param unimodalBaselines per modality, the unimodal baseline each fold chose on validation and
 *     the pooled model that stands for those choices ({@link FoldBaseline}); empty when the folds
 *     recorded no choice (no encoder heads), and then every unimodal model may be the reference
 * @param reference the comparisons' reference ({@link #bestUnimodal()}), null without one
 * @param referenceRule how {@code reference} was chosen, in words
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
    String metricsPath,
    List<FoldBaseline> unimodalBaselines,
    String reference,
    String referenceRule) {

  @JsonCreator
  public CrossValidationResult {
    unimodalBaselines = unimodalBaselines == null ? List.of() : List.copyOf(unimodalBaselines);
  }

  /** This result with the summaries over repeats. */
  public CrossValidationResult withRepeated(Map<String, Repeated> repeated) {
    return new CrossValidationResult(
        folds,
        numClasses,
        subjects,
        validation,
        minPatternSize,
        removalRates,
        models,
        comparisons,
        skipped,
        repeated,
        metricsPath,
        unimodalBaselines,
        reference,
        referenceRule);
  }

  /** This result with paired comparisons against {@code reference}, chosen by {@code rule}. */
  public CrossValidationResult withComparisons(
      List<EvaluateResult.Comparison> comparisons, String reference, String rule) {
    return new CrossValidationResult(
        folds,
        numClasses,
        subjects,
        validation,
        minPatternSize,
        removalRates,
        models,
        comparisons,
        skipped,
        repeated,
        metricsPath,
        unimodalBaselines,
        reference,
        rule);
  }

  /** Name prefix of the pooled model of a modality whose folds chose different baselines. */
  public static final String BASELINE_PREFIX = "baseline:";

  /**
   * The unimodal baseline of one modality across the folds. Each fold's evaluate chose it on that
   * fold's validation split (metrics.json, {@code unimodalBaselines}); test never took part. When
   * every fold chose the same model, that model's pooled predictions stand for the modality; when
   * they differ, {@code baseline:<m>} pools each subject's prediction from the model its own fold
   * chose, so the reference is a rule applied per fold rather than a model picked on pooled test.
   *
   * @param modality the modality
   * @param pooledAs the pooled model that may be the reference for this modality
   * @param chosenPerFold the model each fold chose, in fold order
   * @param validationMetric {@code auroc}, or {@code C} for a survival outcome
   */
  public record FoldBaseline(
      String modality, String pooledAs, List<String> chosenPerFold, String validationMetric) {
    @JsonCreator
    public FoldBaseline {
      chosenPerFold = List.copyOf(chosenPerFold);
    }

    /** Whether every fold chose the same model. */
    @JsonIgnore
    public boolean unanimous() {
      return chosenPerFold.stream().distinct().count() == 1;
    }

    /** "encoder:m in folds 0, 2; unimodal:m in fold 1". */
    public String describe() {
      Map<String, List<Integer>> folds = new LinkedHashMap<>();
      for (int f = 0; f < chosenPerFold.size(); f++) {
        folds.computeIfAbsent(chosenPerFold.get(f), x -> new ArrayList<>()).add(f);
      }
      StringBuilder s = new StringBuilder();
      folds.forEach(
          (name, fs) -> {
            if (s.length() > 0) {
              s.append("; ");
            }
            s.append(name).append(fs.size() == 1 ? " in fold " : " in folds ");
            s.append(fs.stream().map(String::valueOf).collect(Collectors.joining(", ")));
          });
      return s.toString();
    }
  }

  /**
   * How the reference is chosen, in words, for metrics.json and the console; {@code metric} is the
   * pooled metric ("AUROC", "C").
   */
  static String referenceRule(boolean chosenOnValidation, String metric) {
    return chosenOnValidation
        ? "the unimodal baseline of each modality was chosen on validation in each fold (encoder"
            + " head or head on the frozen embedding, as in single-split evaluate; where the folds"
            + " chose differently, "
            + BASELINE_PREFIX
            + "<modality> pools each subject's prediction from its own fold's choice); the"
            + " reference is the one of these with the highest pooled "
            + metric
        : "no fold recorded a choice on validation (no encoder heads): the reference is the"
            + " unimodal model with the highest pooled "
            + metric;
  }

  /**
   * The candidates for the reference: the pooled models of {@code baselines} (every unimodal model
   * when there are none), then the one with the highest pooled metric. Shared with the survival
   * pooling.
   */
  static <M> Optional<M> bestChosen(
      List<M> models,
      List<FoldBaseline> baselines,
      Function<M, String> name,
      Function<M, String> kind,
      ToDoubleFunction<M> pooled) {
    Set<String> chosen = new HashSet<>();
    baselines.forEach(b -> chosen.add(b.pooledAs()));
    return models.stream()
        .filter(m -> "unimodal".equals(kind.apply(m)))
        .filter(m -> baselines.isEmpty() || chosen.contains(name.apply(m)))
        .filter(m -> !Double.isNaN(pooled.applyAsDouble(m)))
        .max(Comparator.comparingDouble(pooled));
  }

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
  /**
   * One fold's figures of a model.
   *
   * @param fold the held-out fold
   * @param test metrics on the fold's test part
   * @param validationAuroc the model's validation AUROC in that fold (from train), null when train
   *     recorded none
   */
  public record FoldMetrics(int fold, ClassificationMetrics test, Double validationAuroc) {
    public FoldMetrics(int fold, ClassificationMetrics test) {
      this(fold, test, null);
    }
  }

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
      Map<String, MeanSd> ablation) {

    /**
     * The mean over the folds of the model's validation AUROC: what the folds' validation splits
     * say of it without its test parts. NaN unless every fold recorded one.
     */
    public double meanValidationAuroc() {
      if (perFold.isEmpty()
          || perFold.stream()
              .anyMatch(f -> f.validationAuroc() == null || f.validationAuroc().isNaN())) {
        return Double.NaN;
      }
      return perFold.stream()
          .mapToDouble(FoldMetrics::validationAuroc)
          .average()
          .orElse(Double.NaN);
    }
  }

  /** The model of {@code kind} (fusion, classical, ...) with the highest pooled AUROC, if any. */
  public Optional<Model> bestPooled(String kind) {
    return models.stream()
        .filter(m -> kind.equals(m.kind()))
        .filter(m -> !Double.isNaN(m.pooled().auroc()))
        .max(Comparator.comparingDouble(m -> m.pooled().auroc()));
  }

  /**
   * The model of {@code kind} with the highest mean validation AUROC over the folds ({@link
   * Model#meanValidationAuroc}): the choice made without the test parts, unlike {@link
   * #bestPooled}, whose maximum over pooled test AUROCs is optimistic when many models compete.
   */
  public Optional<Model> chosenOnValidation(String kind) {
    return models.stream()
        .filter(m -> kind.equals(m.kind()))
        .filter(m -> !Double.isNaN(m.pooled().auroc()) && !Double.isNaN(m.meanValidationAuroc()))
        .max(Comparator.comparingDouble(Model::meanValidationAuroc));
  }

  /** The paired comparison of {@code model} with {@code reference}, if it was computed. */
  public Optional<EvaluateResult.Comparison> comparison(String model, String reference) {
    return comparisons.stream()
        .filter(c -> c.model().equals(model) && c.reference().equals(reference))
        .findFirst();
  }

  /**
   * The console lines comparing fusion with the classical baselines on the pooled subjects: the
   * best of each by pooled AUROC, and the two chosen on mean validation AUROC; empty without both
   * kinds.
   */
  String fusionAgainstClassical() {
    return FusionAgainstClassical.pooled("AUROC")
        .lines(
            bestPooled("fusion").map(CrossValidationResult::pick),
            bestPooled("classical").map(CrossValidationResult::pick),
            chosenOnValidation("fusion").map(CrossValidationResult::pick),
            chosenOnValidation("classical").map(CrossValidationResult::pick),
            (model, reference) ->
                comparison(model, reference)
                    .map(
                        c ->
                            new FusionAgainstClassical.Interval(
                                c.paired().lower(), c.paired().upper())));
  }

  /** A model's mean validation and pooled AUROC for the fusion-against-classical lines. */
  private static FusionAgainstClassical.Pick pick(Model m) {
    return new FusionAgainstClassical.Pick(m.name(), m.meanValidationAuroc(), m.pooled().auroc());
  }

  /**
   * The reference of the paired comparisons: among the unimodal baselines chosen on validation in
   * each fold ({@link #unimodalBaselines()}; every unimodal model when the folds recorded none),
   * the one with the highest pooled AUROC, as {@link EvaluateResult#bestUnimodal()} on one split.
   */
  public Optional<Model> bestUnimodal() {
    return bestChosen(models, unimodalBaselines, Model::name, Model::kind, m -> m.pooled().auroc());
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
            "vs reference, paired 95% CI"));
    String reference = bestUnimodal().map(Model::name).orElse(null);
    s.append(referenceLine(reference, unimodalBaselines, "AUROC"));
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
    s.append(fusionAgainstClassical());
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
   * The console lines naming the reference and how it was chosen, then each modality's choices per
   * fold; shared with the survival summary.
   */
  public static String referenceLine(
      String reference, List<FoldBaseline> baselines, String metric) {
    StringBuilder s = new StringBuilder();
    if (reference == null) {
      s.append("Reference: none (no unimodal model was pooled)\n");
      return s.toString();
    }
    s.append("Reference: ")
        .append(reference)
        .append(" (")
        .append(
            baselines.isEmpty()
                ? "the unimodal model with the highest pooled "
                    + metric
                    + "; the folds recorded no choice on validation"
                : "chosen on validation per fold; among the modalities' baselines, the highest"
                    + " pooled "
                    + metric)
        .append(")\n");
    for (FoldBaseline b : baselines) {
      s.append(
          String.format(
              Locale.ROOT,
              "  unimodal baseline %-12s %-22s chosen on validation %s: %s%n",
              b.modality(),
              b.pooledAs(),
              EvaluateResult.UnimodalBaseline.C.equals(b.validationMetric()) ? "C" : "AUROC",
              b.describe()));
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
