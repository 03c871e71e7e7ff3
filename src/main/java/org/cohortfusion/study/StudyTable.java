package org.cohortfusion.study;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.evaluate.ClassificationMetrics;
import org.cohortfusion.evaluate.CrossValidationAction;
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.evaluate.SurvivalEvaluation;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EvaluateOutputs;
import org.cohortfusion.stage.TrainOutputs;

/**
 * Reads the study's rows back from what each cell's stages wrote: evaluate's metrics.json (AUROC,
 * AUPRC, robustness curve), evaluate's predictions (DeLong's interval of the AUROC, which
 * metrics.json does not carry) and train's summary.json (parameters, seconds). On a survival
 * outcome metrics.json carries everything the row needs (n, events, Harrell's C with its bootstrap
 * interval, C under test-time removal), so the predictions are not read. Nothing is recomputed that
 * a stage already reported, so the table agrees with the cells' own files. A cross-validated study
 * (splits.folds = k) is read by {@link CrossValidatedCells} from each cell's pooled cv/metrics.json
 * and its folds' outputs.
 */
public final class StudyTable {
  private StudyTable() {}

  public static StudyResult collect(
      SparkSession spark, PipelineConfig config, List<StudyGrid.Cell> cells, double seconds) {
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    List<String> models = config.study().modelsOr(config.fusion());
    List<StudyResult.Row> rows = new ArrayList<>();
    List<Double> rates = List.of();
    boolean survival = config.subjects().outcome().survival();
    if (config.splits().folds() > 0) {
      return CrossValidatedCells.collect(hconf, config, cells, seconds);
    }
    for (StudyGrid.Cell cell : cells) {
      String dir = StudyGrid.cellDir(config, cell);
      if (survival) {
        SurvivalEvaluation.Result eval = EvaluateAction.readSurvival(hconf, dir + "/evaluate");
        rates = eval.removalRates();
        rows.addAll(survivalRows(cell, models, eval, trained(hconf, dir)));
        continue;
      }
      EvaluateResult eval = EvaluateAction.read(hconf, dir + "/evaluate");
      rates = eval.removalRates();
      Map<String, TrainOutputs.Entry> trained = trained(hconf, dir);
      Map<String, double[]> intervals =
          eval.numClasses() == 2
              ? aurocIntervals(spark, dir + "/evaluate/" + EvaluateOutputs.PREDICTIONS, models)
              : Map.of();
      for (String model : models) {
        EvaluateResult.ModelEvaluation m = eval.get(model);
        TrainOutputs.Entry t = trained.get(model);
        double[] ci = intervals.getOrDefault(model, new double[] {Double.NaN, Double.NaN});
        rows.add(
            new StudyResult.Row(
                cell.name(),
                cell.varied(),
                cell.sizes(),
                model,
                m.test().n(),
                m.test().auroc(),
                ci[0],
                ci[1],
                m.test().auprc(),
                t == null ? null : t.parameters(),
                t == null ? null : t.trainSeconds(),
                robustnessArea(eval.removalRates(), m.robustness()),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null));
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
        null,
        null,
        null);
  }

  /** Train's summary.json entries of a cell, by model name. */
  static Map<String, TrainOutputs.Entry> trained(Configuration hconf, String dir) {
    TrainOutputs.Summary summary = TrainOutputs.Summary.read(hconf, dir + "/train");
    Map<String, TrainOutputs.Entry> trained = new HashMap<>();
    summary.models().forEach(e -> trained.put(e.name(), e));
    return trained;
  }

  /** The rows of one cell of a survival study, from evaluate's survival metrics.json. */
  private static List<StudyResult.Row> survivalRows(
      StudyGrid.Cell cell,
      List<String> models,
      SurvivalEvaluation.Result eval,
      Map<String, TrainOutputs.Entry> trained) {
    List<StudyResult.Row> rows = new ArrayList<>();
    for (String model : models) {
      SurvivalEvaluation.ModelSurvival m = eval.get(model);
      TrainOutputs.Entry t = trained.get(model);
      rows.add(
          new StudyResult.Row(
              cell.name(),
              cell.varied(),
              cell.sizes(),
              model,
              m.test().n(),
              Double.NaN,
              Double.NaN,
              Double.NaN,
              Double.NaN,
              t == null ? null : t.parameters(),
              t == null ? null : t.trainSeconds(),
              area(eval.removalRates(), m.robustness()),
              m.test().events(),
              m.test().cIndex(),
              m.test().cLower(),
              m.test().cUpper(),
              null,
              null,
              null,
              null));
    }
    return rows;
  }

  /**
   * Trapezoidal area under test AUROC against removal rate, divided by the span of the rates: the
   * mean AUROC over the curve, comparable between studies whatever rates evaluate uses. NaN if the
   * curve has fewer than two points.
   */
  public static double robustnessArea(List<Double> rates, List<ClassificationMetrics> curve) {
    return area(rates, curve.stream().map(ClassificationMetrics::auroc).toList());
  }

  /**
   * {@link #robustnessArea} of any metric against the removal rate (a survival outcome's C-index).
   */
  static double area(List<Double> rates, List<Double> curve) {
    if (rates.size() < 2 || curve.size() != rates.size()) {
      return Double.NaN;
    }
    double area = 0;
    for (int i = 1; i < rates.size(); i++) {
      area += (rates.get(i) - rates.get(i - 1)) * (curve.get(i) + curve.get(i - 1)) / 2;
    }
    return area / (rates.get(rates.size() - 1) - rates.get(0));
  }

  /**
   * DeLong's 95% interval of each model's test AUROC from evaluate's predictions (binary: the
   * probability column is the positive class's). The rows are collected to the driver only to
   * compute the interval; nothing is logged.
   */
  private static Map<String, double[]> aurocIntervals(
      SparkSession spark, String predictions, List<String> models) {
    Map<String, List<double[]>> byModel = new HashMap<>();
    for (Row r :
        spark
            .read()
            .parquet(predictions)
            .where(col(EvaluateOutputs.MODEL).isin(models.toArray()))
            .select(
                col(EvaluateOutputs.MODEL), col(EvaluateOutputs.PROBABILITY), col(Columns.LABEL))
            .collectAsList()) {
      byModel
          .computeIfAbsent(r.getString(0), k -> new ArrayList<>())
          .add(new double[] {r.getDouble(1), r.getInt(2)});
    }
    Map<String, double[]> out = new HashMap<>();
    byModel.forEach(
        (model, rows) -> {
          double[] scores = new double[rows.size()];
          int[] labels = new int[rows.size()];
          int positives = 0;
          for (int i = 0; i < rows.size(); i++) {
            scores[i] = rows.get(i)[0];
            labels[i] = (int) rows.get(i)[1];
            positives += labels[i];
          }
          // DeLong's variance needs two subjects of each class; fewer leaves the interval undefined
          // (NaN).
          if (positives >= 2 && rows.size() - positives >= 2) {
            out.put(model, CrossValidationAction.aurocInterval(scores, labels, 0.95));
          }
        });
    return out;
  }
}
