package org.cohortfusion.multijvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.ClassicalConfig;
import org.cohortfusion.features.FeatureTestCohorts;
import org.cohortfusion.testing.HazardsByHand;
import org.cohortfusion.train.ClassicalBaselines;
import org.cohortfusion.train.TrainResult;
import org.cohortfusion.train.classical.ClassicalModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The linear classical survival baseline fitted and scored with executors in JVMs of their own: the
 * person-period rows are built, the grid fitted and the hazards gathered per subject (a shuffle) on
 * the two executors, and every test subject's hazards must come back in interval order, equal to
 * the fitted coefficients applied by hand on the driver.
 */
class ClassicalSurvivalMultiJvmTest {
  private static final List<Double> CUTS = List.of(0.5, 1.0, 2.0, 4.0);

  private final SparkSession spark = LocalClusterSession.get();
  @TempDir Path dir;

  @Test
  void hazardsScoredOnExecutorJvmsEqualTheCoefficientsAppliedByHand() {
    String cohort =
        FeatureTestCohorts.writeSurvivalCohort(
            spark, 300, 7, dir.resolve("cohort").toString(), new HashMap<>(), new ArrayList<>());
    ClassicalConfig config =
        new ClassicalConfig(
            List.of("linear"),
            new ClassicalConfig.Linear(List.of(0.01, 0.1), List.of(0.0), null),
            null,
            4,
            64,
            null);
    LocalClusterSession.executorsSinceLastCall();
    TrainResult.ModelResult trained =
        new ClassicalBaselines(spark, cohort, dir.resolve("train").toString(), config, s -> {})
            .survival(CUTS)
            .train(List.of("linear"))
            .get(0);
    assertEquals(
        LocalClusterSession.EXECUTORS,
        LocalClusterSession.executorsSinceLastCall().size(),
        "executors that ran the fit");

    ClassicalModels.Loaded model =
        ClassicalModels.load(spark.sparkContext().hadoopConfiguration(), trained.modelDir());
    Dataset<Row> test = ClassicalBaselines.labeled(spark, cohort).where("split = 'test'");
    Map<String, double[]> scored = new HashMap<>();
    for (Row r : model.hazards(test).collectAsList()) {
      scored.put(
          r.getString(0), r.<Double>getList(1).stream().mapToDouble(Double::doubleValue).toArray());
    }
    assertEquals(
        LocalClusterSession.EXECUTORS,
        LocalClusterSession.executorsSinceLastCall().size(),
        "executors that scored");

    Transformer[] stages = model.pipeline().stages();
    Map<String, double[]> expected =
        HazardsByHand.of(
            stages[0],
            (LogisticRegressionModel) stages[stages.length - 1],
            test,
            model.description().modalities(),
            CUTS.size());
    // Not vacuous: the hazards differ between intervals and between subjects, so a shifted
    // interval indicator or a subject's hazards given to another would show.
    assertTrue(expected.values().stream().anyMatch(h -> h[0] != h[1]), "hazards per interval");
    assertTrue(
        expected.values().stream().map(h -> h[0]).distinct().count() > 1, "hazards per subject");
    assertEquals(expected.keySet(), scored.keySet());
    int subject = 0;
    for (Map.Entry<String, double[]> e : expected.entrySet()) {
      subject++;
      assertArrayEquals(e.getValue(), scored.get(e.getKey()), 1e-9, "test subject " + subject);
    }
  }
}
