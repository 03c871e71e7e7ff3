package org.cohortfusion.evaluate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.ClassicalConfig;
import org.cohortfusion.features.FeatureTestCohorts;
import org.cohortfusion.testing.HazardsByHand;
import org.cohortfusion.testing.SparkTestSession;
import org.cohortfusion.train.ClassicalBaselines;
import org.cohortfusion.train.classical.ClassicalModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classical scorer applies each scenario's presence to the right subject: its probabilities
 * equal those of the model scoring the aligned rows with {@code has_<m>} set false by hand, subject
 * by subject, in the test split's order.
 */
class ClassicalScorerTest {
  @TempDir Path tmp;

  @Test
  void removalsReachTheRightSubjects() {
    SparkSession spark = SparkTestSession.get();
    String cohort =
        FeatureTestCohorts.writeCohort(
            spark, FeatureTestCohorts.rows(100, 5), tmp.resolve("cohort").toString(), "fp");
    String out = tmp.resolve("train").toString();
    ClassicalConfig config =
        new ClassicalConfig(
            List.of("linear"),
            new ClassicalConfig.Linear(List.of(0.01), List.of(0.0), null),
            null,
            4,
            64,
            null);
    new ClassicalBaselines(spark, cohort, out, config, System.out::println)
        .train(List.of("linear"));
    ClassicalModels.Loaded model =
        ClassicalModels.load(new Configuration(), out + "/linear/" + ClassicalModels.DIR);
    Dataset<Row> labeled = ClassicalBaselines.labeled(spark, cohort);

    // The test subjects in an order of our own, two modalities in the batches ('vec' carries the
    // signal).
    List<String> ids = new ArrayList<>();
    labeled
        .where("split = 'test'")
        .select("subject_id")
        .collectAsList()
        .forEach(r -> ids.add(r.getString(0)));
    java.util.Collections.reverse(ids);
    int n = ids.size();
    List<String> mods = List.of("vec", "txt");
    float[] all = new float[n * 2];
    float[] removed = new float[n * 2];
    java.util.Arrays.fill(all, 1f);
    for (int r = 0; r < n; r++) {
      removed[r * 2] = r % 2 == 0 ? 0f : 1f; // vec removed from every other subject
      removed[r * 2 + 1] = 1f;
    }
    int[] labels = new int[n];
    TestSplit test = new TestSplit(ids, labels, null, all, mods);
    List<double[][]> scored =
        new ClassicalScorer(model, labeled, test)
            .score(new Scenarios(List.of(0.0), 0, 2), List.of(all, removed));

    Map<String, Double> asIs = probabilities(model.score(labeled.where("split = 'test'")));
    Dataset<Row> withoutVec = labeled.where("split = 'test'").withColumn("has_vec", lit(false));
    Map<String, Double> noVec = probabilities(model.score(withoutVec));
    // Not vacuous: removing 'vec' changes the probabilities.
    assertTrue(ids.stream().anyMatch(id -> Math.abs(asIs.get(id) - noVec.get(id)) > 1e-6));
    for (int r = 0; r < n; r++) {
      assertEquals(asIs.get(ids.get(r)), scored.get(0)[r][1], 1e-12, "as is, subject " + r);
      double expected = r % 2 == 0 ? noVec.get(ids.get(r)) : asIs.get(ids.get(r));
      assertEquals(expected, scored.get(1)[r][1], 1e-12, "scenario, subject " + r);
    }
  }

  /**
   * A survival baseline returns, per scenario and subject in the test split's order, the hazard of
   * every interval in interval order: each equal to the logistic function of the fitted
   * coefficients applied by hand to the subject's features and that interval's indicators.
   */
  @Test
  void survivalBaselinesReturnEveryIntervalsHazardInOrder() {
    SparkSession spark = SparkTestSession.get();
    String cohort =
        FeatureTestCohorts.writeSurvivalCohort(
            spark, 150, 7, tmp.resolve("cohort").toString(), new HashMap<>(), new ArrayList<>());
    String out = tmp.resolve("train").toString();
    ClassicalConfig config =
        new ClassicalConfig(
            List.of("linear"),
            new ClassicalConfig.Linear(List.of(0.01), List.of(0.0), null),
            null,
            4,
            64,
            null);
    List<Double> cuts = List.of(0.5, 1.0, 2.0, 4.0);
    new ClassicalBaselines(spark, cohort, out, config, System.out::println)
        .survival(cuts)
        .train(List.of("linear"));
    ClassicalModels.Loaded model =
        ClassicalModels.load(new Configuration(), out + "/linear/" + ClassicalModels.DIR);
    Dataset<Row> labeled = ClassicalBaselines.labeled(spark, cohort);
    List<String> ids = new ArrayList<>();
    labeled
        .where("split = 'test'")
        .select("subject_id")
        .collectAsList()
        .forEach(r -> ids.add(r.getString(0)));
    java.util.Collections.reverse(ids);
    int n = ids.size();
    float[] all = new float[n];
    float[] removed = new float[n];
    java.util.Arrays.fill(all, 1f);
    for (int r = 0; r < n; r++) {
      removed[r] = r % 2 == 0 ? 0f : 1f;
    }
    TestSplit test = new TestSplit(ids, new int[n], null, all, List.of("vec"));
    List<double[][]> scored =
        new ClassicalScorer(model, labeled, test)
            .score(new Scenarios(List.of(0.0), 0, 1), List.of(all, removed));

    org.apache.spark.ml.Transformer[] stages = model.pipeline().stages();
    org.apache.spark.ml.classification.LogisticRegressionModel lr =
        (org.apache.spark.ml.classification.LogisticRegressionModel) stages[stages.length - 1];
    Dataset<Row> testRows = labeled.where("split = 'test'");
    Map<String, double[]> asIs =
        HazardsByHand.of(stages[0], lr, testRows, model.description().modalities(), cuts.size());
    Map<String, double[]> noVec =
        HazardsByHand.of(
            stages[0],
            lr,
            testRows.withColumn("has_vec", lit(false)),
            model.description().modalities(),
            cuts.size());
    assertTrue(
        ids.stream().anyMatch(id -> Math.abs(asIs.get(id)[0] - noVec.get(id)[0]) > 1e-6),
        "removing 'vec' changes the hazards");
    for (int r = 0; r < n; r++) {
      double[] expected = r % 2 == 0 ? noVec.get(ids.get(r)) : asIs.get(ids.get(r));
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          asIs.get(ids.get(r)), scored.get(0)[r], 1e-9, "as is, subject " + r);
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          expected, scored.get(1)[r], 1e-9, "scenario, subject " + r);
    }
  }

  private static Map<String, Double> probabilities(Dataset<Row> scored) {
    Map<String, Double> out = new HashMap<>();
    scored
        .select(col("subject_id"), col(ClassicalModels.PROBABILITY))
        .collectAsList()
        .forEach(r -> out.put(r.getString(0), r.getDouble(1)));
    return out;
  }
}
