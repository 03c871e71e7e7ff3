package org.cohortfusion.study;

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
 */
public record StudyResult(
    String name,
    Map<String, Integer> baseSizes,
    List<String> models,
    List<StudyGrid.Cell> cells,
    List<Double> removalRates,
    List<Row> rows,
    double seconds) {
  public StudyResult {
    baseSizes = Map.copyOf(baseSizes);
    models = List.copyOf(models);
    cells = List.copyOf(cells);
    removalRates = List.copyOf(removalRates);
    rows = List.copyOf(rows);
  }

  /**
   * One model in one cell, on the cell's test split.
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
   * @param testAuprc test AUPRC (evaluate's metrics.json)
   * @param parameters trainable parameters of the fusion network (train's summary.json; null if not
   *     recorded)
   * @param trainSeconds wall seconds train spent on the model (train's summary.json; null if not
   *     recorded)
   * @param robustnessArea area under the robustness curve (test AUROC against the MCAR removal
   *     rate), divided by the span of the rates, so it reads as the mean AUROC over removal rates 0
   *     to 0.9
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
      double robustnessArea) {
    public Row {
      sizes = Map.copyOf(sizes);
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
   * One line per row: cell, model, AUROC with its interval, robustness area, parameters, seconds
   * (no subject data).
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
    s.append(
        String.format(
            java.util.Locale.ROOT,
            "%-16s %-14s %-22s %-8s %-10s %-8s%n",
            "cell",
            "model",
            "test AUROC [95% CI]",
            "AUPRC",
            "robustness",
            "params"));
    for (Row r : rows) {
      s.append(
          String.format(
              java.util.Locale.ROOT,
              "%-16s %-14s %.3f [%.3f, %.3f]   %.3f    %.3f      %s%n",
              r.cell(),
              r.model(),
              r.testAuroc(),
              r.testAurocLower(),
              r.testAurocUpper(),
              r.testAuprc(),
              r.robustnessArea(),
              r.parameters() == null ? "-" : r.parameters().toString()));
    }
    return s.toString();
  }
}
