package org.cohortfusion.evaluate;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What evaluate measured on the test split; also the content of {@code
 * <output.dir>/evaluate/metrics.json}.
 *
 * @param split the split evaluated (test)
 * @param numClasses number of classes
 * @param subjects labeled subjects of the split
 * @param bayesOptimalAuroc AUROC of the generator's true probability against the label (the best
 *     any model can do), or null when the cohort has no true_probability column or is not binary
 * @param minPatternSize patterns with fewer subjects are flagged too small
 * @param removalRates the MCAR test-time removal rates of the robustness curves
 * @param models one entry per trained model, in summary.json order
 * @param predictionsPath Parquet predictions (subject_id, model, probability, label, pattern)
 * @param metricsPath this file
 * @param comparisons paired AUROC differences on the same test subjects (binary cohorts): every
 *     model against the best unimodal model, and the best fusion against the best classical
 *     baseline, both by test AUROC and both chosen on validation
 * @param observableOptimalAuroc AUROC of the generator's observable-optimal probability (P(label |
 *     the modality rows the subject has, and which it has): the best any model of the observed data
 *     can do), or null when the cohort has no observable_probability column or is not binary
 * @param unimodalBaselines per modality, which unimodal model is the comparisons' baseline, chosen
 *     on validation; empty when the embeddings carry no encoder-head probabilities (then every
 *     unimodal model is a baseline)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record EvaluateResult(
    String split,
    int numClasses,
    long subjects,
    Double bayesOptimalAuroc,
    int minPatternSize,
    List<Double> removalRates,
    List<ModelEvaluation> models,
    String predictionsPath,
    String metricsPath,
    List<Comparison> comparisons,
    Double observableOptimalAuroc,
    List<UnimodalBaseline> unimodalBaselines) {
  @JsonCreator
  public EvaluateResult {
    removalRates = List.copyOf(removalRates);
    models = List.copyOf(models);
    comparisons = comparisons == null ? List.of() : List.copyOf(comparisons);
    unimodalBaselines = unimodalBaselines == null ? List.of() : List.copyOf(unimodalBaselines);
  }

  /**
   * The unimodal baseline of one modality in the comparisons: the stronger on validation AUROC of
   * pretrain's encoder with its own softmax head and train's head on the frozen embedding (see
   * {@link EncoderHeads}).
   *
   * @param modality the modality
   * @param chosen the model name used as this modality's baseline
   * @param encoderHead the encoder-head model's name ("encoder:m")
   * @param encoderHeadValidationAuroc its AUROC on every validation subject (absent ones at the
   *     train prevalence)
   * @param frozenHead train's unimodal model's name ("unimodal:m"), or null if none was trained
   * @param frozenHeadValidationAuroc its validation AUROC (from train), or null
   * @param validationMetric what the two validation numbers are: {@code auroc} for class labels,
   *     {@code C} for a survival outcome (Harrell's C at the intervals' resolution, which train's
   *     validation metrics also keep under "auroc", and the encoder is then pretrain's encoder with
   *     its hazard head); null (older metrics.json) reads as {@code auroc}
   * @param encoderHeadSkipped why the encoder head was not scored (so {@code chosen} is the frozen
   *     head), or null when it was
   */
  public record UnimodalBaseline(
      String modality,
      String chosen,
      String encoderHead,
      Double encoderHeadValidationAuroc,
      String frozenHead,
      Double frozenHeadValidationAuroc,
      String validationMetric,
      String encoderHeadSkipped) {
    /** The validation metric of a class-label choice. */
    public static final String AUROC = "auroc";

    /** The validation metric of a survival choice. */
    public static final String C = "C";

    @JsonCreator
    public UnimodalBaseline {
      validationMetric = validationMetric == null ? AUROC : validationMetric;
    }

    /** A choice between two scored candidates on {@code validationMetric}. */
    public UnimodalBaseline(
        String modality,
        String chosen,
        String encoderHead,
        Double encoderHeadValidationAuroc,
        String frozenHead,
        Double frozenHeadValidationAuroc,
        String validationMetric) {
      this(
          modality,
          chosen,
          encoderHead,
          encoderHeadValidationAuroc,
          frozenHead,
          frozenHeadValidationAuroc,
          validationMetric,
          null);
    }

    /**
     * The choice for the console: "unimodal baseline of m: chosen (validation AUROC: encoder head
     * x, head on frozen embedding y)".
     */
    public String describe() {
      return String.format(
          java.util.Locale.ROOT,
          "unimodal baseline of %s: %s (validation %s: encoder head %s, head on frozen embedding %s)",
          modality,
          chosen,
          AUROC.equals(validationMetric) ? "AUROC" : validationMetric,
          encoderHeadSkipped == null ? score(encoderHeadValidationAuroc) : "skipped",
          frozenHead == null ? "not trained" : score(frozenHeadValidationAuroc));
    }

    private static String score(Double d) {
      return d == null ? "-" : String.format(java.util.Locale.ROOT, "%.4f", d);
    }

    /** A choice on validation AUROC (class labels). */
    public UnimodalBaseline(
        String modality,
        String chosen,
        String encoderHead,
        Double encoderHeadValidationAuroc,
        String frozenHead,
        Double frozenHeadValidationAuroc) {
      this(
          modality,
          chosen,
          encoderHead,
          encoderHeadValidationAuroc,
          frozenHead,
          frozenHeadValidationAuroc,
          AUROC);
    }

    /** Whether the choice was made on validation C (a survival outcome). */
    public boolean survival() {
      return C.equals(validationMetric);
    }

    /** What the chosen model is, in words. */
    public String describeChoice() {
      return chosen.equals(encoderHead)
          ? "pretrain's encoder with its " + (survival() ? "hazard" : "softmax") + " head"
          : "a head on the frozen embedding";
    }
  }

  /** This result with {@code comparisons} (computed from the models of this one). */
  public EvaluateResult withComparisons(List<Comparison> comparisons) {
    return new EvaluateResult(
        split,
        numClasses,
        subjects,
        bayesOptimalAuroc,
        minPatternSize,
        removalRates,
        models,
        predictionsPath,
        metricsPath,
        comparisons,
        observableOptimalAuroc,
        unimodalBaselines);
  }

  /**
   * How far a model's test probabilities are from a reference probability on the same subjects
   * (binary cohorts).
   *
   * @param aurocGap the reference's AUROC minus the model's
   * @param meanAbsoluteDifference mean over subjects of |p_model - p_reference|
   * @param brierGap the model's Brier score minus the reference's (positive: the model is worse
   *     calibrated or ranks worse)
   */
  public record ReferenceDistance(
      double aurocGap, double meanAbsoluteDifference, double brierGap) {}

  /**
   * {@code model} minus {@code reference} on the same test subjects, with DeLong's confidence
   * interval.
   */
  public record Comparison(String model, String reference, PairedAuroc paired) {}

  /** The comparison of {@code model} with {@code reference}, if it was computed. */
  public Optional<PairedAuroc> comparison(String model, String reference) {
    return comparisons.stream()
        .filter(c -> c.model().equals(model) && c.reference().equals(reference))
        .map(Comparison::paired)
        .findFirst();
  }

  private String interval(String model, String reference) {
    return comparison(model, reference)
        .map(
            p ->
                String.format(
                    Locale.ROOT, " (paired 95%% CI %+.4f to %+.4f)", p.lower(), p.upper()))
        .orElse("");
  }

  /**
   * One model on the test split.
   *
   * @param name model name (summary.json)
   * @param kind fusion, unimodal, early, late or classical
   * @param describe fusion spec in the review's notation (arXiv 2408.02686), FusionSpec.describe()
   * @param validationAuroc validation AUROC of the published model (from train)
   * @param test metrics on every labeled test subject
   * @param distanceToBayes Bayes-optimal AUROC minus this model's test AUROC (null without a truth)
   * @param patterns metrics per missingness pattern
   * @param robustness metrics per MCAR removal rate (same order as removalRates)
   * @param ablation metrics with one modality removed from every subject, by modality
   * @param toBayes distance to the true probability (null without one)
   * @param toObservable distance to the observable-optimal probability (null without one)
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record ModelEvaluation(
      String name,
      String kind,
      String describe,
      Double validationAuroc,
      ClassificationMetrics test,
      Double distanceToBayes,
      List<PatternMetrics> patterns,
      List<ClassificationMetrics> robustness,
      Map<String, ClassificationMetrics> ablation,
      ReferenceDistance toBayes,
      ReferenceDistance toObservable) {
    @JsonCreator
    public ModelEvaluation {
      patterns = List.copyOf(patterns);
      robustness = List.copyOf(robustness);
      ablation = Map.copyOf(ablation);
    }

    /** An evaluation without reference distances. */
    public ModelEvaluation(
        String name,
        String kind,
        String describe,
        Double validationAuroc,
        ClassificationMetrics test,
        Double distanceToBayes,
        List<PatternMetrics> patterns,
        List<ClassificationMetrics> robustness,
        Map<String, ClassificationMetrics> ablation) {
      this(
          name,
          kind,
          describe,
          validationAuroc,
          test,
          distanceToBayes,
          patterns,
          robustness,
          ablation,
          null,
          null);
    }

    @JsonIgnore
    public boolean isUnimodal() {
      return "unimodal".equals(kind);
    }

    /** The pattern with the lowest AUROC among those with enough subjects (and both classes). */
    public Optional<PatternMetrics> worstPattern() {
      return patterns.stream()
          .filter(p -> !p.tooSmall() && !Double.isNaN(p.metrics().auroc()))
          .min(Comparator.comparingDouble(p -> p.metrics().auroc()));
    }
  }

  /**
   * Metrics of the subjects with one missingness pattern.
   *
   * @param pattern modalities present, joined by '+' ("none" for no modality)
   * @param n subjects with this pattern
   * @param tooSmall fewer than minPatternSize subjects: report, do not trust
   * @param metrics metrics on those subjects
   */
  public record PatternMetrics(
      String pattern, long n, boolean tooSmall, ClassificationMetrics metrics) {}

  public ModelEvaluation get(String name) {
    return models.stream()
        .filter(m -> m.name().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException("Cannot find model '" + name + "' in the evaluation"));
  }

  /** The model with the highest test AUROC. */
  public ModelEvaluation best() {
    return models.stream()
        .filter(m -> !Double.isNaN(m.test().auroc()))
        .max(Comparator.comparingDouble(m -> m.test().auroc()))
        .orElseThrow(
            () ->
                new IllegalStateException("Cannot pick the best model: no model has a test AUROC"));
  }

  /**
   * The best unimodal baseline: among the per-modality baselines chosen on validation ({@link
   * #unimodalBaselines()}; every unimodal model when there is no choice), the one with the highest
   * test AUROC.
   */
  public Optional<ModelEvaluation> bestUnimodal() {
    return EncoderHeads.bestChosen(
        models,
        unimodalBaselines,
        ModelEvaluation::isUnimodal,
        ModelEvaluation::name,
        m -> m.test().auroc());
  }

  /**
   * The choice of unimodal baseline for the modality a unimodal model belongs to, if one was made.
   */
  public Optional<UnimodalBaseline> baselineOf(String modelName) {
    return unimodalBaselines.stream()
        .filter(b -> modelName.equals(b.encoderHead()) || modelName.equals(b.frozenHead()))
        .findFirst();
  }

  /**
   * The model of {@code kind} (fusion, classical, ...) with the highest validation AUROC among
   * those scored on test: the choice a user can make without looking at the test split, unlike
   * {@link #best(String)}, whose maximum over test AUROCs is optimistic when several models
   * compete.
   */
  public Optional<ModelEvaluation> chosenOnValidation(String kind) {
    return models.stream()
        .filter(m -> kind.equals(m.kind()))
        .filter(m -> m.validationAuroc() != null && !Double.isNaN(m.validationAuroc()))
        .filter(m -> !Double.isNaN(m.test().auroc()))
        .max(Comparator.comparingDouble(ModelEvaluation::validationAuroc));
  }

  /** The model of {@code kind} (fusion, classical, ...) with the highest test AUROC, if any. */
  public Optional<ModelEvaluation> best(String kind) {
    return models.stream()
        .filter(m -> kind.equals(m.kind()))
        .filter(m -> !Double.isNaN(m.test().auroc()))
        .max(Comparator.comparingDouble(m -> m.test().auroc()));
  }

  /**
   * Console summary: best model, its margin over the best unimodal model, the best fusion against
   * the best classical baseline, the best model's worst missingness pattern.
   */
  public String summary() {
    ModelEvaluation best = best();
    StringBuilder s =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "Best model (test AUROC): %s  %.4f  [%s]%n",
                best.name(),
                best.test().auroc(),
                best.describe()));
    bestUnimodal()
        .ifPresentOrElse(
            u ->
                s.append(
                    String.format(
                        Locale.ROOT,
                        "Margin over the best unimodal model (%s%s, %.4f): %+.4f%s%n",
                        u.name(),
                        baselineOf(u.name())
                            .map(b -> ": " + b.describeChoice() + ", chosen on validation")
                            .orElse(""),
                        u.test().auroc(),
                        best.test().auroc() - u.test().auroc(),
                        interval(best.name(), u.name()))),
            () ->
                s.append(
                    "Margin over the best unimodal model: no unimodal baseline was trained\n"));
    for (UnimodalBaseline b : unimodalBaselines) {
      s.append(
          String.format(
              Locale.ROOT,
              "  unimodal baseline %-12s %-20s validation AUROC: encoder head %s, head on frozen"
                  + " embedding %s%n",
              b.modality(),
              b.chosen(),
              auroc(b.encoderHeadValidationAuroc()),
              b.frozenHead() == null ? "not trained" : auroc(b.frozenHeadValidationAuroc())));
    }
    s.append(
        FusionAgainstClassical.singleSplit()
            .lines(
                best("fusion").map(EvaluateResult::pick),
                best("classical").map(EvaluateResult::pick),
                chosenOnValidation("fusion").map(EvaluateResult::pick),
                chosenOnValidation("classical").map(EvaluateResult::pick),
                (model, reference) ->
                    comparison(model, reference)
                        .map(p -> new FusionAgainstClassical.Interval(p.lower(), p.upper()))));
    best.worstPattern()
        .ifPresentOrElse(
            p ->
                s.append(
                    String.format(
                        Locale.ROOT,
                        "Worst missingness pattern of %s: %s  AUROC %.4f (n = %d)%n",
                        best.name(),
                        p.pattern(),
                        p.metrics().auroc(),
                        p.n())),
            () ->
                s.append(
                    "Worst missingness pattern: no pattern has at least "
                        + minPatternSize
                        + " subjects of both classes\n"));
    if (bayesOptimalAuroc != null) {
      s.append(
          String.format(
              Locale.ROOT,
              "Bayes-optimal AUROC (true probability): %.4f  (best model is %.4f below)%n",
              bayesOptimalAuroc,
              bayesOptimalAuroc - best.test().auroc()));
    }
    if (observableOptimalAuroc != null) {
      s.append(
          String.format(
              Locale.ROOT,
              "Observable-optimal AUROC (best possible from the data each subject has): %.4f"
                  + "  (best model is %.4f below)%n",
              observableOptimalAuroc,
              observableOptimalAuroc - best.test().auroc()));
    }
    for (ModelEvaluation m : models) {
      if (m.toBayes() != null || m.toObservable() != null) {
        s.append(
            String.format(
                Locale.ROOT,
                "  %-26s to observable-optimal: AUROC gap %s, mean |p - p_ref| %s, Brier gap %s;"
                    + " to Bayes: AUROC gap %s, mean |p - p_ref| %s, Brier gap %s%n",
                m.name(),
                gap(m.toObservable(), ReferenceDistance::aurocGap),
                gap(m.toObservable(), ReferenceDistance::meanAbsoluteDifference),
                gap(m.toObservable(), ReferenceDistance::brierGap),
                gap(m.toBayes(), ReferenceDistance::aurocGap),
                gap(m.toBayes(), ReferenceDistance::meanAbsoluteDifference),
                gap(m.toBayes(), ReferenceDistance::brierGap)));
      }
    }
    return s.toString();
  }

  /** A model's validation and test AUROC for the fusion-against-classical lines. */
  private static FusionAgainstClassical.Pick pick(ModelEvaluation m) {
    return new FusionAgainstClassical.Pick(
        m.name(), m.validationAuroc() == null ? Double.NaN : m.validationAuroc(), m.test().auroc());
  }

  private static String auroc(Double v) {
    return v == null ? "-" : String.format(Locale.ROOT, "%.4f", v);
  }

  private static String gap(
      ReferenceDistance d, java.util.function.ToDoubleFunction<ReferenceDistance> f) {
    return d == null ? "-" : String.format(Locale.ROOT, "%+.4f", f.applyAsDouble(d));
  }
}
