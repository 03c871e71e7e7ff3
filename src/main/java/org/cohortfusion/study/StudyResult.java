package org.cohortfusion.study;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * The content of {@code <output.dir>/study/study.json}: one row per cell and model.
 *
 * @param name the cohort's name (config name)
 * @param baseSizes the config's own embedding size per modality (the base cell's)
 * @param models the fusion models trained in every cell
 * @param cells the cells in the order they ran
 * @param removalRates the MCAR test-time removal rates of evaluate's robustness curves, over which
 *     robustnessArea is taken
 * @param rows one per cell × model, cells in run order, models in study order
 * @param seconds wall seconds of the whole study (ingest, or its reuse, included)
 * @param outcome "survival" when the rows read Harrell's C; absent (null) for class labels, as in
 *     evaluate's metrics.json, so a class study's JSON is what it was before survival studies
 * @param crossValidated true when every cell was cross-validated (splits.folds = k): the rows then
 *     read each cell's pooled out-of-fold metric (its cv/metrics.json) instead of one test split;
 *     absent (null) otherwise, so a single-split study's JSON is what it was before
 * @param folds k of a cross-validated study (else absent)
 * @param repeats splits.repeats of a cross-validated study (else absent)
 */
public record StudyResult(
    String name,
    Map<String, Integer> baseSizes,
    List<String> models,
    List<StudyGrid.Cell> cells,
    List<Double> removalRates,
    List<Row> rows,
    double seconds,
    @JsonInclude(JsonInclude.Include.NON_NULL) String outcome,
    @JsonInclude(JsonInclude.Include.NON_NULL) Boolean crossValidated,
    @JsonInclude(JsonInclude.Include.NON_NULL) Integer folds,
    @JsonInclude(JsonInclude.Include.NON_NULL) Integer repeats) {
  /** Marks a study of a survival outcome, as evaluate marks its metrics.json. */
  public static final String SURVIVAL = "survival";

  public StudyResult {
    // Sorted, so the json and the page list the modalities in the same order on every run.
    baseSizes = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(baseSizes));
    models = List.copyOf(models);
    cells = List.copyOf(cells);
    removalRates = List.copyOf(removalRates);
    rows = List.copyOf(rows);
  }

  /** Whether the rows read Harrell's C rather than AUROC. */
  @JsonIgnore
  public boolean survival() {
    return SURVIVAL.equals(outcome);
  }

  /** Whether the rows read pooled out-of-fold metrics of cross-validated cells. */
  @JsonIgnore
  public boolean cv() {
    return Boolean.TRUE.equals(crossValidated);
  }

  /** Name of the rows' test metric, for tables and plots. */
  @JsonIgnore
  public String metricName() {
    return survival() ? "C" : "AUROC";
  }

  /**
   * One model in one cell, on the cell's test split; in a cross-validated study, on the pooled
   * out-of-fold predictions of the cell's folds (repeat 0's; the cell's cv/metrics.json), the
   * "test" fields then holding the pooled figures.
   *
   * @param cell the cell's name
   * @param varied the modality whose embedding size the cell changes (null: base cell)
   * @param sizes embedding size per modality in this cell
   * @param model the fusion model
   * @param testSubjects labeled test subjects
   * @param testAuroc test AUROC (evaluate's metrics.json)
   * @param testAurocLower lower bound of DeLong's 95% interval of the test AUROC (binary outcomes;
   *     else NaN)
   * @param testAurocUpper upper bound of that interval
   * @param testAuprc test AUPRC (evaluate's metrics.json; NaN on a survival outcome)
   * @param parameters trainable parameters of the fusion network (train's summary.json; null if not
   *     recorded; cross-validated: the count every fold's train recorded, null if they differ)
   * @param trainSeconds wall seconds train spent on the model (train's summary.json; null if not
   *     recorded; cross-validated: the MEAN over every fold of every repeat)
   * @param robustnessArea area under the robustness curve (test AUROC, or C on a survival outcome,
   *     against the MCAR removal rate), divided by the span of the rates, so it reads as the mean
   *     metric over removal rates 0 to 0.9; cross-validated: the mean over every fold of every
   *     repeat of that fold's area on its own test part (removal is drawn per fold, so the curve is
   *     not pooled), NaN if some fold's curve is undefined
   * @param testEvents events among the test subjects (survival outcome; else null)
   * @param testCIndex Harrell's C of the test risks (evaluate's metrics.json; survival outcome,
   *     else null)
   * @param testCLower lower bound of evaluate's 95% bootstrap interval of C (survival; else null)
   * @param testCUpper upper bound of that interval
   * @param foldMean cross-validated study: mean of the per-fold test AUROC (C on a survival
   *     outcome) over every fold of every repeat; else absent
   * @param foldSd their sample standard deviation
   * @param repeatsMean repeated k-fold (splits.repeats &gt; 1): mean over the repeats of each
   *     repeat's pooled out-of-fold metric; else absent
   * @param repeatsSd their sample standard deviation
   */
  public record Row(
      String cell,
      String varied,
      Map<String, Integer> sizes,
      String model,
      long testSubjects,
      double testAuroc,
      double testAurocLower,
      double testAurocUpper,
      double testAuprc,
      Long parameters,
      Double trainSeconds,
      double robustnessArea,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long testEvents,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double testCIndex,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double testCLower,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double testCUpper,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double foldMean,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double foldSd,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double repeatsMean,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double repeatsSd) {
    public Row {
      sizes = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(sizes));
    }

    /** The row's test metric: C on a survival outcome, else AUROC. */
    @JsonIgnore
    public double metric() {
      return testCIndex != null ? testCIndex : testAuroc;
    }

    /** Lower bound of the metric's 95% interval. */
    @JsonIgnore
    public double metricLower() {
      return testCLower != null ? testCLower : testAurocLower;
    }

    /** Upper bound of the metric's 95% interval. */
    @JsonIgnore
    public double metricUpper() {
      return testCUpper != null ? testCUpper : testAurocUpper;
    }
  }

  /** The row of {@code model} in {@code cell}. */
  public Row row(String cell, String model) {
    return rows.stream()
        .filter(r -> r.cell().equals(cell) && r.model().equals(model))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "Cannot find model '" + model + "' in study cell '" + cell + "'"));
  }

  /**
   * One line per row: cell, model, AUROC (C on a survival outcome) with its interval, AUPRC (events
   * on a survival outcome), robustness area, parameters (no subject data).
   */
  public String summary() {
    StringBuilder s =
        new StringBuilder(
            String.format(
                java.util.Locale.ROOT,
                "Study: %d cell(s) x %d model(s) in %.0f s%n",
                cells.size(),
                models.size(),
                seconds));
    if (cv()) {
      s.append(
          String.format(
              java.util.Locale.ROOT,
              "Cross-validated: %d folds x %d repeat(s); %s of the pooled out-of-fold predictions%n",
              folds,
              repeats,
              metricName()));
    }
    s.append(
        String.format(
            java.util.Locale.ROOT,
            "%-16s %-14s %-22s %-8s %-10s %-8s%s%n",
            "cell",
            "model",
            (cv() ? "pooled " : "test ") + metricName() + " [95% CI]",
            survival() ? "events" : "AUPRC",
            "robustness",
            "params",
            cv() ? " fold mean ± sd" : ""));
    for (Row r : rows) {
      s.append(
          String.format(
              java.util.Locale.ROOT,
              survival()
                  ? "%-16s %-14s %.3f [%.3f, %.3f]   %-8d %.3f      %-8s%s%n"
                  : "%-16s %-14s %.3f [%.3f, %.3f]   %.3f    %.3f      %-8s%s%n",
              r.cell(),
              r.model(),
              r.metric(),
              r.metricLower(),
              r.metricUpper(),
              survival() ? (Object) r.testEvents() : (Object) r.testAuprc(),
              r.robustnessArea(),
              r.parameters() == null ? "-" : r.parameters().toString(),
              r.foldMean() == null
                  ? ""
                  : String.format(
                      java.util.Locale.ROOT, " %.3f ± %.3f", r.foldMean(), r.foldSd())));
    }
    return s.toString();
  }
}
