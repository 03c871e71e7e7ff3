package org.cohortfusion.evaluate;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.ToDoubleBiFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.io.Json;

/**
 * Writes one fold's evaluate output of a survival outcome by hand, as {@link
 * SurvivalCrossValidation} reads it: the predictions table and metrics.json; the survival
 * counterpart of {@link HandMadeFolds}.
 *
 * @param models the models, in the order of the subjects' risk columns
 * @param kind each model's kind
 * @param testC the test C metrics.json records for (fold, model)
 * @param validationC the validation C metrics.json records for (fold, model), or null
 */
record HandMadeSurvivalFolds(
    List<String> models,
    Function<String, String> kind,
    ToDoubleBiFunction<Integer, String> testC,
    BiFunction<Integer, String, Double> validationC) {

  /** The missingness pattern of a subject whose row gives none. */
  static final String DEFAULT_PATTERN = "clinical";

  private static final StructType PREDICTIONS =
      new StructType()
          .add("subject_id", DataTypes.StringType, false)
          .add("model", DataTypes.StringType, false)
          .add("risk", DataTypes.DoubleType, false)
          .add("duration", DataTypes.DoubleType, false)
          .add("event", DataTypes.IntegerType, false)
          .add("pattern", DataTypes.StringType, false);

  /**
   * Writes fold {@code fold} under {@code dir}/folds/<fold>/evaluate and returns that directory.
   *
   * @param subjects per subject: id, duration, event (1 or 0), the risk of each model, then
   *     optionally its missingness pattern ({@link #DEFAULT_PATTERN} without one)
   * @param choices the unimodal baselines the fold chose on validation C
   */
  String write(
      SparkSession spark,
      Path dir,
      int fold,
      List<Object[]> subjects,
      List<EvaluateResult.UnimodalBaseline> choices) {
    String evaluate = dir.resolve("folds/" + fold + "/evaluate").toString();
    List<Row> rows = new ArrayList<>();
    for (Object[] s : subjects) {
      Object pattern = s.length > 3 + models.size() ? s[3 + models.size()] : DEFAULT_PATTERN;
      for (int m = 0; m < models.size(); m++) {
        rows.add(RowFactory.create(s[0], models.get(m), s[3 + m], s[1], s[2], pattern));
      }
    }
    spark.createDataFrame(rows, PREDICTIONS).write().parquet(evaluate + "/predictions");
    List<SurvivalEvaluation.ModelSurvival> evaluations = new ArrayList<>();
    for (String m : models) {
      double c = testC.applyAsDouble(fold, m);
      evaluations.add(
          new SurvivalEvaluation.ModelSurvival(
              m,
              kind.apply(m),
              m,
              validationC.apply(fold, m),
              new SurvivalEvaluation.Scores(
                  subjects.size(), 1, c, c - 0.1, c + 0.1, Map.of(), Map.of(), 0.2),
              List.of(),
              List.of(c),
              Map.of()));
    }
    Json.write(
        spark.sparkContext().hadoopConfiguration(),
        evaluate + "/metrics.json",
        new SurvivalEvaluation.Result(
            "survival",
            subjects.size(),
            1,
            List.of(2.0, 6.0),
            List.of(2.0),
            List.of(0.5),
            evaluations,
            List.of(),
            choices));
    return evaluate;
  }
}
