package org.cohortfusion.evaluate;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.cohort.survival.IntervalConcordance;
import org.cohortfusion.stage.EmbeddingsSpec;

/**
 * Evaluation of survival models (embeddings with {@link EmbeddingsSpec#survivalIntervals}): every
 * model's hazards on the test split, turned into a survival curve ({@link DiscreteTimeHazard}), and
 * scored against the exact follow-up times — Harrell's C with a bootstrap interval, time-dependent
 * AUROC and Brier score at the horizons, the integrated Brier score over the intervals' bounds
 * ({@link SurvivalMetrics}) — overall, per missingness pattern, under MCAR test-time removal of
 * modalities and with each modality removed (the C-index), and paired against the best unimodal
 * model (a bootstrap of the difference in C over the same resampled subjects).
 */
public final class SurvivalEvaluation {
  /** Bootstrap replicates of every interval. */
  static final int REPLICATES = 1000;

  static final double CONFIDENCE = 0.95;

  private SurvivalEvaluation() {}

  /**
   * One model's survival metrics on a set of subjects.
   *
   * @param cIndex Harrell's C of the risk 1 - S(last interval bound)
   * @param cLower lower bound of the bootstrap interval of C
   * @param cUpper upper bound
   * @param timeDependentAuroc at each horizon, the cumulative/dynamic AUROC of 1 - S(horizon)
   *     (IPCW)
   * @param brier at each horizon, the IPCW Brier score of S(horizon)
   * @param integratedBrier the integrated Brier score over the intervals' bounds up to the last
   *     time observed
   */
  public record Scores(
      long n,
      long events,
      double cIndex,
      double cLower,
      double cUpper,
      Map<String, Double> timeDependentAuroc,
      Map<String, Double> brier,
      double integratedBrier) {}

  /**
   * Scores of the subjects with one missingness pattern ({@code small}: fewer than
   * evaluate.min-pattern-size).
   */
  public record PatternScores(String pattern, long n, boolean small, double cIndex) {}

  /**
   * A model's C-index minus the reference model's on the same subjects, with its paired bootstrap
   * interval.
   */
  public record PairedC(
      String model, String reference, double difference, double lower, double upper) {}

  /** One model: scores overall, per pattern, the C-index under test-time removal and ablation. */
  public record ModelSurvival(
      String name,
      String kind,
      String describe,
      Double validationConcordance,
      Scores test,
      List<PatternScores> patterns,
      List<Double> robustness,
      Map<String, Double> ablation) {}

  /**
   * The content of metrics.json for a survival outcome.
   *
   * @param outcome always "survival", so a reader can tell this file from a classification one
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Result(
      String outcome,
      long subjects,
      long events,
      List<Double> intervals,
      List<Double> horizons,
      List<Double> removalRates,
      List<ModelSurvival> models,
      List<PairedC> comparisons,
      List<EvaluateResult.UnimodalBaseline> unimodalBaselines) {
    @com.fasterxml.jackson.annotation.JsonCreator
    public Result {
      unimodalBaselines = unimodalBaselines == null ? List.of() : List.copyOf(unimodalBaselines);
    }

    /** A result without a unimodal-baseline choice (no encoder heads to choose from). */
    public Result(
        String outcome,
        long subjects,
        long events,
        List<Double> intervals,
        List<Double> horizons,
        List<Double> removalRates,
        List<ModelSurvival> models,
        List<PairedC> comparisons) {
      this(
          outcome,
          subjects,
          events,
          intervals,
          horizons,
          removalRates,
          models,
          comparisons,
          List.of());
    }

    /**
     * The best unimodal baseline: among the per-modality baselines chosen on validation C ({@link
     * #unimodalBaselines()}; every unimodal model when there is no choice), the one with the
     * highest test C — as {@link EvaluateResult#bestUnimodal()} for class labels.
     */
    public Optional<ModelSurvival> bestUnimodal() {
      return SurvivalEvaluation.bestUnimodal(models, unimodalBaselines);
    }

    /** The choice of unimodal baseline that {@code modelName} took part in, if one was made. */
    public Optional<EvaluateResult.UnimodalBaseline> baselineOf(String modelName) {
      return unimodalBaselines.stream()
          .filter(b -> modelName.equals(b.encoderHead()) || modelName.equals(b.frozenHead()))
          .findFirst();
    }

    /** The model called {@code name}. */
    public ModelSurvival get(String name) {
      return models.stream()
          .filter(m -> m.name().equals(name))
          .findFirst()
          .orElseThrow(
              () ->
                  new IllegalArgumentException(
                      "Cannot find model '"
                          + name
                          + "' in the survival evaluation (models "
                          + models.stream().map(ModelSurvival::name).toList()
                          + ")"));
    }

    public Optional<ModelSurvival> best() {
      return models.stream().max(Comparator.comparingDouble(m -> m.test().cIndex()));
    }

    /**
     * The console summary: every model's C with its interval, and the best against the best
     * unimodal model.
     */
    public String summary() {
      StringBuilder s =
          new StringBuilder(
              String.format(
                  Locale.ROOT,
                  "Survival evaluation: %d test subjects, %d events; C-index [95%% bootstrap CI], time-dependent AUROC and"
                      + " Brier at %s, integrated Brier%n",
                  subjects,
                  events,
                  horizons));
      models.stream()
          .sorted(Comparator.comparingDouble((ModelSurvival m) -> -m.test().cIndex()))
          .forEach(
              m ->
                  s.append(
                      String.format(
                          Locale.ROOT,
                          "  %-22s C %.3f [%.3f, %.3f]  tdAUROC %s  Brier %s  IBS %.3f%n",
                          m.name(),
                          m.test().cIndex(),
                          m.test().cLower(),
                          m.test().cUpper(),
                          format(m.test().timeDependentAuroc()),
                          format(m.test().brier()),
                          m.test().integratedBrier())));
      best()
          .ifPresent(
              b ->
                  comparisons.stream()
                      .filter(c -> c.model().equals(b.name()))
                      .findFirst()
                      .ifPresent(
                          c ->
                              s.append(
                                  line(
                                      c,
                                      "the best unimodal model"
                                          + baselineOf(c.reference())
                                              .map(
                                                  u ->
                                                      ": "
                                                          + u.describeChoice()
                                                          + ", chosen on validation")
                                              .orElse("")))));
      for (EvaluateResult.UnimodalBaseline u : unimodalBaselines) {
        s.append(
            String.format(
                Locale.ROOT,
                "  unimodal baseline %-12s %-20s validation C: encoder hazard head %s, head on"
                    + " frozen embedding %s%n",
                u.modality(),
                u.chosen(),
                u.encoderHeadSkipped() != null ? "skipped" : c(u.encoderHeadValidationAuroc()),
                u.frozenHead() == null ? "not trained" : c(u.frozenHeadValidationAuroc())));
      }
      // The fusion against the classical baselines, in the lines class labels and cv print.
      s.append(
          FusionAgainstClassical.singleSplitSurvival()
              .lines(
                  best("fusion").map(Result::pick),
                  best("classical").map(Result::pick),
                  chosenOnValidation("fusion").map(Result::pick),
                  chosenOnValidation("classical").map(Result::pick),
                  (model, reference) ->
                      comparisons.stream()
                          .filter(c -> c.model().equals(model) && c.reference().equals(reference))
                          .findFirst()
                          .map(c -> new FusionAgainstClassical.Interval(c.lower(), c.upper()))));
      return s.toString();
    }

    /** The model of {@code kind} (fusion, classical, ...) with the highest test C, if any. */
    public Optional<ModelSurvival> best(String kind) {
      return SurvivalEvaluation.best(models, kind);
    }

    /** The model of {@code kind} chosen on validation C (see {@link SurvivalEvaluation}). */
    public Optional<ModelSurvival> chosenOnValidation(String kind) {
      return SurvivalEvaluation.chosenOnValidation(models, kind);
    }

    private static FusionAgainstClassical.Pick pick(ModelSurvival m) {
      return new FusionAgainstClassical.Pick(
          m.name(),
          m.validationConcordance() == null ? Double.NaN : m.validationConcordance(),
          m.test().cIndex());
    }

    private static String line(PairedC c, String what) {
      boolean excludesZero = c.lower() > 0 || c.upper() < 0;
      return excludesZero
          ? String.format(
              Locale.ROOT,
              "%s %s %s (%s) by %+.3f C [%+.3f, %+.3f]%n",
              c.model(),
              c.difference() > 0 ? "beats" : "trails",
              what,
              c.reference(),
              c.difference(),
              c.lower(),
              c.upper())
          : String.format(
              Locale.ROOT,
              "%s against %s (%s): %+.3f C [%+.3f, %+.3f], no evidence of a difference%n",
              c.model(),
              what,
              c.reference(),
              c.difference(),
              c.lower(),
              c.upper());
    }

    private static String c(Double value) {
      return value == null ? "-" : String.format(Locale.ROOT, "%.4f", value);
    }

    private static String format(Map<String, Double> byHorizon) {
      StringBuilder s = new StringBuilder();
      byHorizon.forEach(
          (h, v) ->
              s.append(s.length() == 0 ? "" : " ")
                  .append(h)
                  .append(':')
                  .append(String.format(Locale.ROOT, "%.3f", v)));
      return s.toString();
    }
  }

  /** The model of {@code kind} (fusion, classical, ...) with the highest test C, if any. */
  static Optional<ModelSurvival> best(List<ModelSurvival> models, String kind) {
    return models.stream()
        .filter(m -> kind.equals(m.kind()))
        .filter(m -> !Double.isNaN(m.test().cIndex()))
        .max(Comparator.comparingDouble(m -> m.test().cIndex()));
  }

  /**
   * The model of {@code kind} with the highest validation C: the choice made without the test
   * split, unlike {@link #best}.
   */
  static Optional<ModelSurvival> chosenOnValidation(List<ModelSurvival> models, String kind) {
    return models.stream()
        .filter(m -> kind.equals(m.kind()))
        .filter(m -> m.validationConcordance() != null && !Double.isNaN(m.validationConcordance()))
        .filter(m -> !Double.isNaN(m.test().cIndex()))
        .max(Comparator.comparingDouble(ModelSurvival::validationConcordance));
  }

  /**
   * The best unimodal baseline among {@code models}: of the per-modality baselines chosen on
   * validation C ({@code baselines}; every unimodal model when there is no choice), the one with
   * the highest test C. Evaluate needs it before it has a {@link Result} to ask.
   */
  static Optional<ModelSurvival> bestUnimodal(
      List<ModelSurvival> models, List<EvaluateResult.UnimodalBaseline> baselines) {
    return EncoderHeads.bestChosen(
        models,
        baselines,
        m -> "unimodal".equals(m.kind()),
        ModelSurvival::name,
        m -> m.test().cIndex());
  }

  /** Follow-up time and event of every test subject, in {@code test}'s order. */
  record Outcomes(double[] time, boolean[] event) {
    static Outcomes of(TestSplit test) {
      double[] time = test.durations();
      if (time == null || java.util.Arrays.stream(time).anyMatch(Double::isNaN)) {
        throw new IllegalStateException(
            "Cannot evaluate a survival outcome: a labeled test subject has no duration in the"
                + " embeddings table");
      }
      boolean[] event = new boolean[test.size()];
      for (int i = 0; i < test.size(); i++) {
        event[i] = test.labels()[i] == 1;
      }
      return new Outcomes(time.clone(), event);
    }

    Outcomes subset(int[] rows) {
      double[] t = new double[rows.length];
      boolean[] e = new boolean[rows.length];
      for (int k = 0; k < rows.length; k++) {
        t[k] = time[rows[k]];
        e[k] = event[rows[k]];
      }
      return new Outcomes(t, e);
    }
  }

  /**
   * The risk Harrell's C ranks, 1 - S(last interval bound), of every subject from its hazards:
   * {@link IntervalConcordance#risk}, the risk pretrain's and train's validation C rank.
   */
  static double[] risk(double[][] hazards) {
    double[] r = new double[hazards.length];
    for (int i = 0; i < hazards.length; i++) {
      r[i] = IntervalConcordance.risk(hazards[i]);
    }
    return r;
  }

  /** Risk 1 - S(t) of every subject from its hazards. */
  static double[] risk(double[][] hazards, DiscreteTimeHazard model, double t) {
    double[] r = new double[hazards.length];
    for (int i = 0; i < hazards.length; i++) {
      r[i] = 1 - model.survivalAt(hazards[i], t);
    }
    return r;
  }

  static Scores scores(
      double[][] hazards, Outcomes o, DiscreteTimeHazard model, List<Double> horizons, long seed) {
    double[] overall = risk(hazards);
    SurvivalMetrics.BootstrapInterval c =
        SurvivalMetrics.bootstrapHarrellC(
            o.time(), o.event(), overall, REPLICATES, CONFIDENCE, seed);
    Map<String, Double> auroc = new TreeMap<>(Comparator.comparingDouble(Double::parseDouble));
    Map<String, Double> brier = new TreeMap<>(Comparator.comparingDouble(Double::parseDouble));
    for (double h : horizons) {
      String key = String.format(Locale.ROOT, "%s", h);
      auroc.put(
          key, SurvivalMetrics.timeDependentAuroc(o.time(), o.event(), risk(hazards, model, h), h));
      brier.put(key, brierOrNaN(o, hazards, model, h));
    }
    return new Scores(
        o.time().length,
        countEvents(o),
        c.estimate(),
        c.lower(),
        c.upper(),
        auroc,
        brier,
        integratedBrier(o, hazards, model));
  }

  private static double brierOrNaN(
      Outcomes o, double[][] hazards, DiscreteTimeHazard model, double h) {
    double[] s = new double[hazards.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = model.survivalAt(hazards[i], h);
    }
    try {
      return SurvivalMetrics.brierScore(o.time(), o.event(), s, h);
    } catch (IllegalArgumentException e) {
      return Double.NaN; // a censoring weight of zero: no estimate at this horizon
    }
  }

  /**
   * Over the intervals' bounds up to the last observed time (the weights are undefined beyond it).
   */
  private static double integratedBrier(Outcomes o, double[][] hazards, DiscreteTimeHazard model) {
    double last = java.util.Arrays.stream(o.time()).max().orElse(0);
    double[] grid = java.util.Arrays.stream(model.cuts()).filter(t -> t < last).toArray();
    if (grid.length < 2) {
      return Double.NaN;
    }
    double[][] s = new double[hazards.length][grid.length];
    for (int i = 0; i < hazards.length; i++) {
      for (int k = 0; k < grid.length; k++) {
        s[i][k] = model.survivalAt(hazards[i], grid[k]);
      }
    }
    try {
      return SurvivalMetrics.integratedBrierScore(o.time(), o.event(), s, grid);
    } catch (IllegalArgumentException e) {
      return Double.NaN;
    }
  }

  static long countEvents(Outcomes o) {
    long k = 0;
    for (boolean e : o.event()) {
      k += e ? 1 : 0;
    }
    return k;
  }

  /** Harrell's C of one scenario's hazards (NaN without a comparable pair). */
  static double cIndex(double[][] hazards, Outcomes o, DiscreteTimeHazard model) {
    return SurvivalMetrics.harrellC(o.time(), o.event(), risk(hazards)).cIndex();
  }

  /** C per missingness pattern, patterns by descending size. */
  static List<PatternScores> perPattern(
      double[][] hazards,
      Outcomes o,
      String[] patterns,
      DiscreteTimeHazard model,
      int minPatternSize) {
    return perPattern(risk(hazards), o, patterns, minPatternSize);
  }

  /**
   * {@link #perPattern} on risks 1 - S(last interval bound) already computed, e.g. the pooled
   * out-of-fold risks of cross-validation.
   */
  static List<PatternScores> perPattern(
      double[] risk, Outcomes o, String[] patterns, int minPatternSize) {
    List<PatternScores> out = new ArrayList<>();
    EvaluateAction.rowsByPattern(patterns)
        .forEach(
            (p, r) -> {
              double[] q = new double[r.length];
              for (int k = 0; k < r.length; k++) {
                q[k] = risk[r[k]];
              }
              Outcomes s = o.subset(r);
              out.add(
                  new PatternScores(
                      p,
                      r.length,
                      r.length < minPatternSize,
                      SurvivalMetrics.harrellC(s.time(), s.event(), q).cIndex()));
            });
    return out;
  }

  /**
   * The paired bootstrap of C(model) - C(reference): both C-indices on the same resampled subjects,
   * replicate by replicate; percentile interval. Replicates where either is undefined are left out.
   */
  static PairedC paired(
      String model,
      double[][] hazards,
      String reference,
      double[][] referenceHazards,
      Outcomes o,
      DiscreteTimeHazard dth,
      long seed) {
    return pairedOnRisk(model, risk(hazards), reference, risk(referenceHazards), o, seed);
  }

  /**
   * {@link #paired} on risks 1 - S(last interval bound) already computed, e.g. read back from
   * predictions/ when cross-validation folds are pooled.
   */
  static PairedC pairedOnRisk(
      String model, double[] a, String reference, double[] b, Outcomes o, long seed) {
    return pairedOnRisk(model, a, reference, b, o.time(), o.event(), CONFIDENCE, seed);
  }

  /**
   * {@link #paired} on risks already computed, at a chosen two-sided confidence level: the retrain
   * gate pairs the challenger and the champion read back from their predictions.
   */
  public static PairedC pairedOnRisk(
      String model,
      double[] a,
      String reference,
      double[] b,
      double[] time,
      boolean[] event,
      double confidence,
      long seed) {
    Outcomes o = new Outcomes(time, event);
    double observed =
        SurvivalMetrics.harrellC(o.time(), o.event(), a).cIndex()
            - SurvivalMetrics.harrellC(o.time(), o.event(), b).cIndex();
    int n = a.length;
    SplittableRandom rnd = new SplittableRandom(seed);
    List<Double> diffs = new ArrayList<>();
    for (int rep = 0; rep < REPLICATES; rep++) {
      int[] rows = new int[n];
      for (int i = 0; i < n; i++) {
        rows[i] = rnd.nextInt(n);
      }
      Outcomes s = o.subset(rows);
      double[] ra = new double[n];
      double[] rb = new double[n];
      for (int i = 0; i < n; i++) {
        ra[i] = a[rows[i]];
        rb[i] = b[rows[i]];
      }
      double d =
          SurvivalMetrics.harrellC(s.time(), s.event(), ra).cIndex()
              - SurvivalMetrics.harrellC(s.time(), s.event(), rb).cIndex();
      if (!Double.isNaN(d)) {
        diffs.add(d);
      }
    }
    double[] sorted = diffs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    double alpha = (1 - confidence) / 2;
    return new PairedC(
        model,
        reference,
        observed,
        SurvivalMetrics.quantile(sorted, alpha),
        SurvivalMetrics.quantile(sorted, 1 - alpha));
  }
}
