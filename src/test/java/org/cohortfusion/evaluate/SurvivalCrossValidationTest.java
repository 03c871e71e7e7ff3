package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.io.Json;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SurvivalCrossValidation} on two hand-made folds (predictions/ as small Parquet tables and
 * metrics.json): the pooled C equals Harrell's C over all pairs written out here (and, for one
 * model, a value worked out by hand), the per-fold C mean ± sd those of the folds' metrics.json,
 * and a subject predicted in two folds stops the pooling without naming the subject.
 */
class SurvivalCrossValidationTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private static final StructType PREDICTIONS =
      new StructType()
          .add("subject_id", DataTypes.StringType, false)
          .add("model", DataTypes.StringType, false)
          .add("risk", DataTypes.DoubleType, false)
          .add("duration", DataTypes.DoubleType, false)
          .add("event", DataTypes.IntegerType, false)
          .add("pattern", DataTypes.StringType, false);

  /** Subject, duration, event, risk of "clin", risk of "concat"; fold 0 is S1-S3, fold 1 S4-S6. */
  private static final Object[][] SUBJECTS = {
    {"S1", 1.0, 1, 0.9, 0.8},
    {"S3", 3.0, 0, 0.5, 0.7},
    {"S5", 5.0, 1, 0.1, 0.3},
    {"S2", 2.0, 1, 0.6, 0.9},
    {"S4", 4.0, 1, 0.7, 0.4},
    {"S6", 6.0, 0, 0.1, 0.4},
  };

  @Test
  void pooledCIsHarrellsCOverEveryOutOfFoldPrediction() throws Exception {
    String f0 = writeFold(0, List.of(SUBJECTS[0], SUBJECTS[1], SUBJECTS[2]), 0.7, 0.6);
    String f1 = writeFold(1, List.of(SUBJECTS[3], SUBJECTS[4], SUBJECTS[5]), 0.9, 0.8);
    String out = dir.resolve("cv").toString();
    SurvivalCrossValidation.Result r =
        SurvivalCrossValidation.of(spark, List.of(f0, f1), out, 7).execute();

    assertEquals("survival", r.outcome());
    assertEquals(2, r.folds());
    assertEquals(6, r.subjects());
    assertEquals(4, r.events());
    double[] time = new double[6];
    boolean[] event = new boolean[6];
    double[] clin = new double[6];
    double[] concat = new double[6];
    for (int i = 0; i < 6; i++) {
      time[i] = (double) SUBJECTS[i][1];
      event[i] = (int) SUBJECTS[i][2] == 1;
      clin[i] = (double) SUBJECTS[i][3];
      concat[i] = (double) SUBJECTS[i][4];
    }
    // By hand for clin, by time: S1 ranks above all 5 later subjects; S2 (0.6) above S3, S5, S6 and
    // below S4 (0.7); S4 above S5 and S6; S5 ties S6 (0.1): (10 + 0.5) / 12.
    assertEquals(0.875, allPairsC(time, event, clin), 1e-15);
    SurvivalCrossValidation.Model c = model(r, "clin");
    SurvivalCrossValidation.Model f = model(r, "concat");
    assertEquals(0.875, c.pooledC(), 1e-12);
    assertEquals(allPairsC(time, event, concat), f.pooledC(), 1e-12);
    assertTrue(c.pooledCLower() <= c.pooledC() && c.pooledC() <= c.pooledCUpper());
    assertEquals("unimodal", c.kind());
    // Per-fold C: the folds' metrics.json (0.7, 0.9 for clin; 0.6, 0.8 for concat).
    assertEquals(List.of(0.7, 0.9), c.foldC());
    assertEquals(0.8, c.foldCIndex().mean(), 1e-12);
    assertEquals(Math.sqrt(0.02), c.foldCIndex().sd(), 1e-12);
    assertEquals(0.7, f.foldCIndex().mean(), 1e-12);
    // concat against the best unimodal model (clin, the only one) on the pooled subjects.
    assertEquals(1, r.comparisons().size());
    SurvivalEvaluation.PairedC d = r.comparisons().get(0);
    assertEquals("concat", d.model());
    assertEquals("clin", d.reference());
    assertEquals(
        allPairsC(time, event, concat) - allPairsC(time, event, clin), d.difference(), 1e-12);

    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    SurvivalCrossValidation.Result written =
        Json.read(hconf, out + "/metrics.json", SurvivalCrossValidation.Result.class);
    assertEquals(r.models(), written.models());
    assertTrue(r.summary().contains("clin"), r.summary());
  }

  @Test
  void aSubjectPredictedInTwoFoldsStopsThePooling() throws Exception {
    String f0 = writeFold(0, List.of(SUBJECTS[0], SUBJECTS[1], SUBJECTS[2]), 0.7, 0.6);
    String f1 = writeFold(1, List.of(SUBJECTS[3], SUBJECTS[4], SUBJECTS[5], SUBJECTS[1]), 0.9, 0.8);
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                SurvivalCrossValidation.of(spark, List.of(f0, f1), dir.resolve("cv").toString(), 7)
                    .execute());
    assertTrue(
        e.getMessage().contains("predictions in fold 0 and fold 1")
            && e.getMessage().contains("every subject must be held out once"),
        e.getMessage());
    assertFalse(e.getMessage().contains("S3"), "the message names no subject");
  }

  /**
   * Harrell's C over all pairs: (i, j) comparable when i had the event and t_i &lt; t_j, or t_i ==
   * t_j with j censored; concordant when i's risk is higher, one half when equal.
   */
  private static double allPairsC(double[] t, boolean[] e, double[] risk) {
    double score = 0;
    long comparable = 0;
    for (int i = 0; i < t.length; i++) {
      for (int j = 0; j < t.length; j++) {
        if (i != j && e[i] && (t[i] < t[j] || (t[i] == t[j] && !e[j]))) {
          comparable++;
          score += risk[i] > risk[j] ? 1 : risk[i] == risk[j] ? 0.5 : 0;
        }
      }
    }
    return score / comparable;
  }

  private static SurvivalCrossValidation.Model model(
      SurvivalCrossValidation.Result r, String name) {
    return r.models().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
  }

  /** One fold's evaluate directory: predictions of both models and a metrics.json with fold C. */
  private String writeFold(int fold, List<Object[]> subjects, double clinC, double concatC) {
    String evaluate = dir.resolve("folds/" + fold + "/evaluate").toString();
    List<Row> rows = new ArrayList<>();
    for (Object[] s : subjects) {
      rows.add(RowFactory.create(s[0], "clin", s[3], s[1], s[2], "clin"));
      rows.add(RowFactory.create(s[0], "concat", s[4], s[1], s[2], "clin"));
    }
    spark.createDataFrame(rows, PREDICTIONS).write().parquet(evaluate + "/predictions");
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
            List.of(model("clin", "unimodal", clinC), model("concat", "fusion", concatC)),
            List.of()));
    return evaluate;
  }

  private static SurvivalEvaluation.ModelSurvival model(String name, String kind, double c) {
    return new SurvivalEvaluation.ModelSurvival(
        name,
        kind,
        name,
        null,
        new SurvivalEvaluation.Scores(3, 1, c, c - 0.1, c + 0.1, Map.of(), Map.of(), 0.2),
        List.of(),
        List.of(c),
        Map.of());
  }
}
