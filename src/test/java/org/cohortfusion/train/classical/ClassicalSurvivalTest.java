package org.cohortfusion.train.classical;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.config.ClassicalConfig;
import org.cohortfusion.evaluate.SurvivalMetrics;
import org.cohortfusion.features.FeatureTestCohorts;
import org.cohortfusion.testing.SparkTestSession;
import org.cohortfusion.train.ClassicalBaselines;
import org.cohortfusion.train.TrainResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classical baselines on a survival outcome: the person-period rows against a hand listing, and
 * the linear hazard model on a cohort whose event times follow a proportional-hazards model of a
 * known risk score.
 */
class ClassicalSurvivalTest {
  private static final double[] CUTS = {0.5, 1, 2, 4};

  @TempDir Path tmp;

  /**
   * Three intervals. Codes (2 * survived + event): 0 censored early in the first interval, no row;
   * 1 event in the first, one row with the event; 2 survived one interval then censored, one row; 5
   * event in the third, three rows, the event in the last; 6 survived all three, three rows without
   * an event.
   */
  @Test
  void personPeriodRowsEqualAHandListing() {
    SparkSession spark = SparkTestSession.get();
    StructType schema =
        new StructType()
            .add("subject_id", DataTypes.StringType)
            .add("code", DataTypes.IntegerType)
            .add(ClassicalFeatures.FEATURES, DataTypes.StringType);
    Dataset<Row> subjects =
        spark.createDataFrame(
            List.of(
                RowFactory.create("a", 0, "x"),
                RowFactory.create("b", 1, "x"),
                RowFactory.create("c", 2, "x"),
                RowFactory.create("d", 5, "x"),
                RowFactory.create("e", 6, "x")),
            schema);
    List<String> got = new ArrayList<>();
    for (Row r :
        PersonPeriod.atRisk(subjects, functions.col("code"), 3)
            .orderBy("subject_id", PersonPeriod.INTERVAL)
            .collectAsList()) {
      got.add(
          r.getString(r.fieldIndex("subject_id"))
              + r.getInt(r.fieldIndex(PersonPeriod.INTERVAL))
              + ":"
              + (int) r.getDouble(r.fieldIndex(PersonPeriod.EVENT))
              + " "
              + (int) r.getDouble(r.fieldIndex(PersonPeriod.INTERVAL + "_1"))
              + (int) r.getDouble(r.fieldIndex(PersonPeriod.INTERVAL + "_2")));
    }
    assertEquals(
        List.of(
            "b0:1 00", "c0:0 00", "d0:0 00", "d1:0 10", "d2:1 01", "e0:0 00", "e1:0 10", "e2:0 01"),
        got);
  }

  /**
   * Event times exponential with rate 0.5 * exp(z), z = (vec[0] + vec[1]) / 2 of the subject's
   * 'vec' modality, censored uniformly on (0, 5): z is the true risk score. The linear hazard model
   * on raw features must rank the 100 test subjects almost as well as z itself: Harrell's C at
   * least that of z minus 0.07 (fixed before running: about two standard errors of a C on 100
   * subjects), and above 0.6.
   */
  @Test
  void theLinearHazardModelRanksAlmostAsWellAsTheTrueRisk() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Map<String, Double> risk = new HashMap<>();
    List<Row> outcomes = new ArrayList<>();
    String cohort =
        FeatureTestCohorts.writeSurvivalCohort(
            spark, 500, 13, tmp.resolve("cohort").toString(), risk, outcomes);

    ClassicalConfig linear =
        new ClassicalConfig(
            List.of("linear"),
            new ClassicalConfig.Linear(List.of(0.01), List.of(0.0), null),
            null,
            4,
            64,
            null);
    String out = tmp.resolve("train").toString();
    List<TrainResult.ModelResult> results =
        new ClassicalBaselines(spark, cohort, out, linear, System.out::println)
            .survival(java.util.Arrays.stream(CUTS).boxed().toList())
            .train(List.of("linear"));
    ClassicalModels.Loaded loaded =
        ClassicalModels.load(new Configuration(), results.get(0).modelDir());
    assertTrue(loaded.description().survival());
    assertEquals(results.get(0).sha256(), loaded.sha256());

    Map<String, Row> byId = new HashMap<>();
    for (Row r : outcomes) {
      byId.put(r.getString(0), r);
    }
    List<Row> scored =
        loaded
            .hazards(ClassicalBaselines.labeled(spark, cohort).where("split = 'test'"))
            .collectAsList();
    int n = scored.size();
    assertEquals(100, n);
    double[] time = new double[n];
    boolean[] event = new boolean[n];
    double[] modelRisk = new double[n];
    double[] trueRisk = new double[n];
    for (int i = 0; i < n; i++) {
      Row r = scored.get(i);
      String id = r.getString(0);
      double[] h = r.<Double>getList(1).stream().mapToDouble(Double::doubleValue).toArray();
      assertEquals(CUTS.length, h.length);
      for (double x : h) {
        assertTrue(x > 0 && x < 1, "hazard " + x);
      }
      double[] s = DiscreteTimeHazard.survival(h);
      modelRisk[i] = 1 - s[s.length - 1];
      trueRisk[i] = risk.get(id);
      time[i] = byId.get(id).getDouble(2);
      event[i] = byId.get(id).getInt(1) == 1;
    }
    double model = SurvivalMetrics.harrellC(time, event, modelRisk).cIndex();
    double truth = SurvivalMetrics.harrellC(time, event, trueRisk).cIndex();
    System.out.printf("test C: linear hazard model %.4f, true risk %.4f%n", model, truth);
    assertTrue(model > 0.6, "C " + model);
    assertTrue(model >= truth - 0.07, "C " + model + " against the true risk's " + truth);
    assertArrayEquals(
        CUTS,
        loaded.description().survivalIntervals().stream()
            .mapToDouble(Double::doubleValue)
            .toArray(),
        0.0);
  }
}
