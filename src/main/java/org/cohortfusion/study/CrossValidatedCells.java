package org.cohortfusion.study;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.evaluate.CrossValidationResult;
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.evaluate.SurvivalCrossValidation;
import org.cohortfusion.evaluate.SurvivalEvaluation;
import org.cohortfusion.io.Json;
import org.cohortfusion.stage.EvaluateOutputs;
import org.cohortfusion.stage.TrainOutputs;

/**
 * The rows of a cross-validated study (splits.folds = k), read back from what each cell's stages
 * wrote in the layout of a cross-validated run with the cell's directory as output.dir: the cell's
 * pooled {@code cv/metrics.json} (the cv stage's; {@link CrossValidationResult}, or {@link
 * SurvivalCrossValidation.Result} on a survival outcome) gives the pooled out-of-fold AUROC with
 * DeLong's interval (or Harrell's C with its bootstrap interval), the pooled n (and events), the
 * per-fold mean ± sd and, with repeats, the mean ± sd over repeats; the folds' own outputs give
 * what the pooling does not carry: parameters and training seconds (train's summary.json of every
 * fold) and the robustness area (each fold's evaluate metrics.json). The pooled figures are repeat
 * 0's, as in cv/metrics.json. Nothing is recomputed that a stage already reported.
 */
final class CrossValidatedCells {
  private CrossValidatedCells() {}

  static StudyResult collect(
      Configuration hconf, PipelineConfig config, List<StudyGrid.Cell> cells, double seconds) {
    List<String> models = config.study().modelsOr(config.fusion());
    boolean survival = config.subjects().outcome().survival();
    int k = config.splits().folds();
    int repeats = config.splits().repeats();
    List<StudyResult.Row> rows = new ArrayList<>();
    List<Double> rates = List.of();
    for (StudyGrid.Cell cell : cells) {
      List<String> foldDirs = new ArrayList<>();
      for (int r = 0; r < repeats; r++) {
        for (int f = 0; f < k; f++) {
          foldDirs.add(StudyGrid.inCell(config, cell, config.foldOutputDir(r, f)));
        }
      }
      String pooled =
          StudyGrid.inCell(config, cell, config.cvOutputDir()) + "/" + EvaluateOutputs.METRICS;
      Folds folds = Folds.read(hconf, foldDirs, models, survival);
      rates = folds.rates();
      if (survival) {
        SurvivalCrossValidation.Result cv =
            Json.read(hconf, pooled, SurvivalCrossValidation.Result.class);
        for (String model : models) {
          SurvivalCrossValidation.Model m =
              cv.models().stream()
                  .filter(x -> x.name().equals(model))
                  .findFirst()
                  .orElseThrow(() -> notPooled(cell, model, pooled, cv.skipped()));
          SurvivalCrossValidation.Repeated over = cv.repeated().get(model);
          CrossValidationResult.MeanSd fold = over != null ? over.foldC() : m.foldCIndex();
          rows.add(
              new StudyResult.Row(
                  cell.name(),
                  cell.varied(),
                  cell.sizes(),
                  model,
                  cv.subjects(),
                  Double.NaN,
                  Double.NaN,
                  Double.NaN,
                  Double.NaN,
                  folds.parameters(model),
                  folds.meanTrainSeconds(model),
                  folds.meanRobustnessArea(model),
                  cv.events(),
                  m.pooledC(),
                  m.pooledCLower(),
                  m.pooledCUpper(),
                  fold.mean(),
                  fold.sd(),
                  over == null ? null : over.pooledCOverRepeats().mean(),
                  over == null ? null : over.pooledCOverRepeats().sd()));
        }
        continue;
      }
      CrossValidationResult cv = Json.read(hconf, pooled, CrossValidationResult.class);
      for (String model : models) {
        CrossValidationResult.Model m =
            cv.models().stream()
                .filter(x -> x.name().equals(model))
                .findFirst()
                .orElseThrow(() -> notPooled(cell, model, pooled, cv.skipped()));
        CrossValidationResult.Repeated over =
            cv.repeated() == null ? null : cv.repeated().get(model);
        CrossValidationResult.MeanSd fold = over != null ? over.foldAuroc() : m.auroc();
        rows.add(
            new StudyResult.Row(
                cell.name(),
                cell.varied(),
                cell.sizes(),
                model,
                m.pooled().n(),
                m.pooled().auroc(),
                m.pooledAurocLower(),
                m.pooledAurocUpper(),
                m.pooled().auprc(),
                folds.parameters(model),
                folds.meanTrainSeconds(model),
                folds.meanRobustnessArea(model),
                null,
                null,
                null,
                null,
                fold.mean(),
                fold.sd(),
                over == null ? null : over.pooledAurocOverRepeats().mean(),
                over == null ? null : over.pooledAurocOverRepeats().sd()));
      }
    }
    return new StudyResult(
        config.name() == null ? "cohort-fusion" : config.name(),
        StudyGrid.baseSizes(config),
        models,
        cells,
        rates,
        rows,
        seconds,
        survival ? StudyResult.SURVIVAL : null,
        true,
        k,
        repeats);
  }

  private static IllegalStateException notPooled(
      StudyGrid.Cell cell, String model, String pooled, Map<String, List<Integer>> skipped) {
    return new IllegalStateException(
        "Cannot read the study row of model '"
            + model
            + "' in cell '"
            + cell.name()
            + "': "
            + pooled
            + " has no pooled result for it"
            + (skipped != null && skipped.containsKey(model)
                ? " (missing from folds " + skipped.get(model) + ")"
                : ""));
  }

  /**
   * What every fold of one cell recorded per model: parameters and training seconds (train's
   * summary.json), and the area of the fold's robustness curve (evaluate's metrics.json).
   */
  private record Folds(
      List<Double> rates,
      Map<String, List<Long>> parameters,
      Map<String, List<Double>> trainSeconds,
      Map<String, List<Double>> areas) {

    static Folds read(
        Configuration hconf, List<String> foldDirs, List<String> models, boolean survival) {
      Map<String, List<Long>> parameters = new java.util.HashMap<>();
      Map<String, List<Double>> seconds = new java.util.HashMap<>();
      Map<String, List<Double>> areas = new java.util.HashMap<>();
      List<Double> rates = List.of();
      for (String dir : foldDirs) {
        Map<String, TrainOutputs.Entry> trained = StudyTable.trained(hconf, dir);
        String evaluate = dir + "/evaluate";
        SurvivalEvaluation.Result s =
            survival ? EvaluateAction.readSurvival(hconf, evaluate) : null;
        EvaluateResult e = survival ? null : EvaluateAction.read(hconf, evaluate);
        rates = survival ? s.removalRates() : e.removalRates();
        for (String model : models) {
          TrainOutputs.Entry t = trained.get(model);
          parameters
              .computeIfAbsent(model, x -> new ArrayList<>())
              .add(t == null ? null : t.parameters());
          seconds
              .computeIfAbsent(model, x -> new ArrayList<>())
              .add(t == null ? null : t.trainSeconds());
          areas
              .computeIfAbsent(model, x -> new ArrayList<>())
              .add(
                  survival
                      ? StudyTable.area(s.removalRates(), s.get(model).robustness())
                      : StudyTable.robustnessArea(e.removalRates(), e.get(model).robustness()));
        }
      }
      return new Folds(rates, parameters, seconds, areas);
    }

    /** The parameter count every fold recorded (the same network), or null if not one number. */
    Long parameters(String model) {
      List<Long> p = parameters.get(model);
      return p.stream().distinct().count() == 1 ? p.get(0) : null;
    }

    /** Mean training seconds over the folds, or null if some fold did not record them. */
    Double meanTrainSeconds(String model) {
      List<Double> s = trainSeconds.get(model);
      return s.contains(null)
          ? null
          : s.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** Mean over the folds of each fold's robustness area (NaN if some fold's is undefined). */
    double meanRobustnessArea(String model) {
      return areas.get(model).stream()
          .mapToDouble(Double::doubleValue)
          .average()
          .orElse(Double.NaN);
    }
  }
}
