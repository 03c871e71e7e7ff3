package org.cohortfusion.evaluate;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.io.Json;

/**
 * Writes one fold's evaluate output by hand, as {@link CrossValidationAction} reads it: the
 * predictions table and metrics.json.
 *
 * @param models the models, in the order of the subjects' probability columns
 * @param kind each model's kind
 * @param testAuroc the test AUROC metrics.json records for (fold, model)
 * @param validationAuroc the validation AUROC metrics.json records for (fold, model), or null
 */
record HandMadeFolds(
    List<String> models,
    Function<String, String> kind,
    java.util.function.ToDoubleBiFunction<Integer, String> testAuroc,
    java.util.function.BiFunction<Integer, String, Double> validationAuroc) {

  private static final StructType PREDICTIONS =
      new StructType()
          .add("subject_id", DataTypes.StringType, false)
          .add("model", DataTypes.StringType, false)
          .add("probability", DataTypes.DoubleType, false)
          .add("label", DataTypes.IntegerType, false)
          .add("pattern", DataTypes.StringType, false);

  /**
   * Writes fold {@code fold} under {@code dir}/folds/<fold>/evaluate and returns that directory.
   *
   * @param subjects per subject: id, label, then the probability of each model
   */
  String write(
      SparkSession spark,
      Path dir,
      int fold,
      Object[][] subjects,
      List<EvaluateResult.UnimodalBaseline> choices) {
    String evaluate = dir.resolve("folds/" + fold + "/evaluate").toString();
    List<Row> rows = new ArrayList<>();
    for (Object[] s : subjects) {
      for (int m = 0; m < models.size(); m++) {
        rows.add(RowFactory.create(s[0], models.get(m), s[2 + m], s[1], "clin+labs"));
      }
    }
    spark.createDataFrame(rows, PREDICTIONS).write().parquet(evaluate + "/predictions");
    List<EvaluateResult.ModelEvaluation> evaluations = new ArrayList<>();
    for (String m : models) {
      double a = testAuroc.applyAsDouble(fold, m);
      evaluations.add(
          new EvaluateResult.ModelEvaluation(
              m,
              kind.apply(m),
              m,
              validationAuroc.apply(fold, m),
              new ClassificationMetrics(a, a, a, a, 0.2, 0.1, subjects.length),
              null,
              List.of(),
              List.of(),
              Map.of()));
    }
    Json.write(
        spark.sparkContext().hadoopConfiguration(),
        evaluate + "/metrics.json",
        new EvaluateResult(
            "test",
            2,
            subjects.length,
            null,
            1,
            List.of(),
            evaluations,
            evaluate + "/predictions",
            evaluate + "/metrics.json",
            List.of(),
            null,
            choices));
    return evaluate;
  }
}
