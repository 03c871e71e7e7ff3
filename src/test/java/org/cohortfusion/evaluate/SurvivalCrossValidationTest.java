package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.evaluate.report.CvReport;
import org.cohortfusion.io.Json;
import org.cohortfusion.testing.AllPairsC;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SurvivalCrossValidation} on two hand-made folds (predictions/ as small Parquet tables and
 * metrics.json): the pooled C equals Harrell's C over all pairs ({@link AllPairsC}; for one model,
 * a value worked out by hand), overall and per missingness pattern, the per-fold C mean ± sd those
 * of the folds' metrics.json; with two repeats, repeat 0's file carries every repeat's pooled C and
 * their mean ± sd; a subject predicted in two folds stops the pooling without naming the subject.
 */
class SurvivalCrossValidationTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private static final String BOTH = "clinical+labs";
  private static final String CLINICAL = "clinical";

  /**
   * Subject, duration, event, risk of "clin", risk of "concat", missingness pattern; fold 0 is S1,
   * S3, S5, fold 1 S2, S4, S6.
   */
  private static final Object[][] SUBJECTS = {
    {"S1", 1.0, 1, 0.9, 0.8, BOTH},
    {"S3", 3.0, 0, 0.5, 0.7, BOTH},
    {"S5", 5.0, 1, 0.1, 0.3, CLINICAL},
    {"S2", 2.0, 1, 0.6, 0.9, BOTH},
    {"S4", 4.0, 1, 0.7, 0.4, BOTH},
    {"S6", 6.0, 0, 0.1, 0.4, CLINICAL},
  };

  /** A second repeat: other folds (S1, S2, S6 and S3, S4, S5), other risks. */
  private static final Object[][] REPEAT_1 = {
    {"S1", 1.0, 1, 0.4, 0.6, BOTH},
    {"S2", 2.0, 1, 0.8, 0.5, BOTH},
    {"S6", 6.0, 0, 0.3, 0.2, CLINICAL},
    {"S3", 3.0, 0, 0.2, 0.1, BOTH},
    {"S4", 4.0, 1, 0.6, 0.7, BOTH},
    {"S5", 5.0, 1, 0.5, 0.3, CLINICAL},
  };

  /** evaluate.min-pattern-size: with 2 folds, patterns below 4 subjects are too small. */
  private static final int MIN_PATTERN_SIZE = 2;

  @Test
  void pooledCIsHarrellsCOverEveryOutOfFoldPrediction() throws Exception {
    String f0 = writeFold("r0", 0, List.of(SUBJECTS[0], SUBJECTS[1], SUBJECTS[2]), 0.7, 0.6);
    String f1 = writeFold("r0", 1, List.of(SUBJECTS[3], SUBJECTS[4], SUBJECTS[5]), 0.9, 0.8);
    String out = dir.resolve("cv").toString();
    SurvivalCrossValidation.Result r =
        SurvivalCrossValidation.of(
                spark, List.of(List.of(f0, f1)), List.of(out), 7, MIN_PATTERN_SIZE)
            .execute();

    assertEquals("survival", r.outcome());
    assertEquals(2, r.folds());
    assertEquals(6, r.subjects());
    assertEquals(4, r.events());
    double clinC = AllPairsC.of(oof(SUBJECTS, 3, null));
    double concatC = AllPairsC.of(oof(SUBJECTS, 4, null));
    // By hand for clin, by time: S1 ranks above all 5 later subjects; S2 (0.6) above S3, S5, S6 and
    // below S4 (0.7); S4 above S5 and S6; S5 ties S6 (0.1): (10 + 0.5) / 12.
    assertEquals(0.875, clinC, 1e-15);
    SurvivalCrossValidation.Model c = model(r, "clin");
    SurvivalCrossValidation.Model f = model(r, "concat");
    assertEquals(0.875, c.pooledC(), 1e-12);
    assertEquals(concatC, f.pooledC(), 1e-12);
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
    assertEquals(concatC - clinC, d.difference(), 1e-12);
    assertEquals(Map.of(), r.repeated(), "no summary over repeats with one repeat");

    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    SurvivalCrossValidation.Result written =
        Json.read(hconf, out + "/metrics.json", SurvivalCrossValidation.Result.class);
    assertEquals(r.models(), written.models());
    assertTrue(r.summary().contains("clin"), r.summary());
  }

  @Test
  void pooledCPerPatternIsHarrellsCOfThatPatternsPredictions() throws Exception {
    String f0 = writeFold("r0", 0, List.of(SUBJECTS[0], SUBJECTS[1], SUBJECTS[2]), 0.7, 0.6);
    String f1 = writeFold("r0", 1, List.of(SUBJECTS[3], SUBJECTS[4], SUBJECTS[5]), 0.9, 0.8);
    String out = dir.resolve("cv").toString();
    SurvivalCrossValidation.Result r =
        SurvivalCrossValidation.of(
                spark, List.of(List.of(f0, f1)), List.of(out), 7, MIN_PATTERN_SIZE)
            .execute();

    assertEquals(2 * MIN_PATTERN_SIZE, r.minPatternSize());
    // By hand for clin: clinical+labs (S1, S2, S3, S4): S1 (0.9) above S2, S3, S4; S2 (0.6) above
    // S3 (0.5), below S4 (0.7): 4 / 5. clinical (S5, S6): S5 ties S6 (0.1): 1 / 2.
    assertEquals(0.8, AllPairsC.of(oof(SUBJECTS, 3, BOTH)), 1e-15);
    assertEquals(0.5, AllPairsC.of(oof(SUBJECTS, 3, CLINICAL)), 1e-15);
    for (int col : new int[] {3, 4}) {
      SurvivalCrossValidation.Model m = model(r, col == 3 ? "clin" : "concat");
      assertEquals(2, m.patterns().size(), m.name());
      SurvivalEvaluation.PatternScores both = m.patterns().get(0);
      SurvivalEvaluation.PatternScores clinical = m.patterns().get(1);
      assertEquals(BOTH, both.pattern(), "largest pattern first");
      assertEquals(4, both.n());
      assertFalse(both.small(), "4 subjects reach 2 x min-pattern-size");
      assertEquals(AllPairsC.of(oof(SUBJECTS, col, BOTH)), both.cIndex(), 1e-12, m.name());
      assertEquals(CLINICAL, clinical.pattern());
      assertEquals(2, clinical.n());
      assertTrue(clinical.small(), "2 subjects are below 2 x min-pattern-size");
      assertEquals(AllPairsC.of(oof(SUBJECTS, col, CLINICAL)), clinical.cIndex(), 1e-12, m.name());
    }
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    SurvivalCrossValidation.Result written =
        Json.read(hconf, out + "/metrics.json", SurvivalCrossValidation.Result.class);
    assertEquals(r.models(), written.models());
    String page =
        Files.readString(Path.of(CvReport.writeSurvival(hconf, out, r, "t").replace("file:", "")));
    assertTrue(page.contains("Missingness patterns (pooled)"), page);
    assertTrue(page.contains("<td class=\"l\">" + BOTH + "</td><td>4</td>"), page);
    assertTrue(page.contains("fewer than 4 subjects each"), page);
  }

  @Test
  void withRepeatsRepeatZeroSummarisesEveryRepeatsPooledC() throws Exception {
    String r0f0 = writeFold("r0", 0, List.of(SUBJECTS[0], SUBJECTS[1], SUBJECTS[2]), 0.7, 0.6);
    String r0f1 = writeFold("r0", 1, List.of(SUBJECTS[3], SUBJECTS[4], SUBJECTS[5]), 0.9, 0.8);
    String r1f0 = writeFold("r1", 0, List.of(REPEAT_1[0], REPEAT_1[1], REPEAT_1[2]), 0.5, 0.4);
    String r1f1 = writeFold("r1", 1, List.of(REPEAT_1[3], REPEAT_1[4], REPEAT_1[5]), 0.6, 1.0);
    String out0 = dir.resolve("cv").toString();
    String out1 = dir.resolve("repeats/1/cv").toString();
    SurvivalCrossValidation.Result r =
        SurvivalCrossValidation.of(
                spark,
                List.of(List.of(r0f0, r0f1), List.of(r1f0, r1f1)),
                List.of(out0, out1),
                7,
                MIN_PATTERN_SIZE)
            .execute();

    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    SurvivalCrossValidation.Result written0 =
        Json.read(hconf, out0 + "/metrics.json", SurvivalCrossValidation.Result.class);
    SurvivalCrossValidation.Result written1 =
        Json.read(hconf, out1 + "/metrics.json", SurvivalCrossValidation.Result.class);
    assertEquals(r.repeated(), written0.repeated());
    assertEquals(Map.of(), written1.repeated(), "the summary is in repeat 0's file only");
    assertEquals(Set.of("clin", "concat"), r.repeated().keySet());
    double[][] foldC = {{0.7, 0.9, 0.5, 0.6}, {0.6, 0.8, 0.4, 1.0}};
    for (int col : new int[] {3, 4}) {
      String name = col == 3 ? "clin" : "concat";
      double c0 = AllPairsC.of(oof(SUBJECTS, col, null));
      double c1 = AllPairsC.of(oof(REPEAT_1, col, null));
      assertEquals(c0, model(r, name).pooledC(), 1e-12, "repeat 0's figures: " + name);
      assertEquals(c1, model(written1, name).pooledC(), 1e-12, name);
      SurvivalCrossValidation.Repeated rep = r.repeated().get(name);
      assertEquals(2, rep.pooledC().size());
      assertEquals(c0, rep.pooledC().get(0), 1e-12, name);
      assertEquals(c1, rep.pooledC().get(1), 1e-12, name);
      assertEquals((c0 + c1) / 2, rep.pooledCOverRepeats().mean(), 1e-12, name);
      assertEquals(Math.abs(c0 - c1) / Math.sqrt(2), rep.pooledCOverRepeats().sd(), 1e-12, name);
      double[] fc = foldC[col - 3];
      double mean = (fc[0] + fc[1] + fc[2] + fc[3]) / 4;
      double ss = 0;
      for (double x : fc) {
        ss += (x - mean) * (x - mean);
      }
      assertEquals(mean, rep.foldC().mean(), 1e-12, name);
      assertEquals(Math.sqrt(ss / 3), rep.foldC().sd(), 1e-12, name);
    }
    assertTrue(r.summary().contains("Repeated k-fold, 2 repeats"), r.summary());
    String page =
        Files.readString(Path.of(CvReport.writeSurvival(hconf, out0, r, "t").replace("file:", "")));
    assertTrue(page.contains("<h2>Repeats</h2>"), page);
  }

  @Test
  void aSubjectPredictedInTwoFoldsStopsThePooling() throws Exception {
    String f0 = writeFold("r0", 0, List.of(SUBJECTS[0], SUBJECTS[1], SUBJECTS[2]), 0.7, 0.6);
    String f1 =
        writeFold("r0", 1, List.of(SUBJECTS[3], SUBJECTS[4], SUBJECTS[5], SUBJECTS[1]), 0.9, 0.8);
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                SurvivalCrossValidation.of(
                        spark,
                        List.of(List.of(f0, f1)),
                        List.of(dir.resolve("cv").toString()),
                        7,
                        MIN_PATTERN_SIZE)
                    .execute());
    assertTrue(
        e.getMessage().contains("predictions in fold 0 and fold 1")
            && e.getMessage().contains("every subject must be held out once"),
        e.getMessage());
    assertFalse(e.getMessage().contains("S3"), "the message names no subject");
  }

  /**
   * Subject, duration, event, risk of "encoder:clin", of "unimodal:clin", of "concat"; fold 0 is
   * S1, S3, S5 and chose the encoder head on validation C, fold 1 S2, S4, S6 and chose the frozen
   * head. The encoder head ranks every pair right, so it has the highest pooled C of all.
   */
  private static final Object[][] CHOICES = {
    {"S1", 1.0, 1, 0.9, 0.1, 0.8},
    {"S3", 3.0, 0, 0.7, 0.3, 0.7},
    {"S5", 5.0, 1, 0.5, 0.2, 0.3},
    {"S2", 2.0, 1, 0.8, 0.6, 0.9},
    {"S4", 4.0, 1, 0.6, 0.7, 0.4},
    {"S6", 6.0, 0, 0.4, 0.9, 0.4},
  };

  @Test
  void theReferenceIsEachFoldsBaselineChosenOnValidationC() throws Exception {
    String f0 = writeChoiceFold(0, List.of(CHOICES[0], CHOICES[1], CHOICES[2]), "encoder:clin");
    String f1 = writeChoiceFold(1, List.of(CHOICES[3], CHOICES[4], CHOICES[5]), "unimodal:clin");
    String out = dir.resolve("cv").toString();
    SurvivalCrossValidation.Result r =
        SurvivalCrossValidation.of(
                spark, List.of(List.of(f0, f1)), List.of(out), 7, MIN_PATTERN_SIZE)
            .execute();

    // By hand: fold 0's subjects with the encoder head's risk, fold 1's with the frozen head's.
    List<double[]> chosen = new ArrayList<>();
    for (int i = 0; i < CHOICES.length; i++) {
      Object[] s = CHOICES[i];
      chosen.add(new double[] {(double) s[i < 3 ? 3 : 4], (double) s[1], (int) s[2]});
    }
    double baselineC = AllPairsC.of(chosen);
    double encoderC = AllPairsC.of(oof(CHOICES, 3, null));
    double concatC = AllPairsC.of(oof(CHOICES, 5, null));
    assertEquals(1.0, encoderC, 1e-15);
    assertTrue(baselineC < encoderC, "the data's premise: the encoder head is best on test");

    SurvivalCrossValidation.Model b = model(r, "baseline:clin");
    assertEquals("unimodal", b.kind());
    assertEquals(baselineC, b.pooledC(), 1e-12);
    // Its per-fold C: fold 0's encoder head, fold 1's frozen head (the folds' metrics.json).
    assertEquals(0.71, b.foldC().get(0), 1e-12);
    assertEquals(0.62, b.foldC().get(1), 1e-12);
    assertEquals(encoderC, model(r, "encoder:clin").pooledC(), 1e-12);

    assertEquals("baseline:clin", r.reference());
    assertEquals("baseline:clin", r.bestUnimodal().orElseThrow().name());
    assertTrue(r.referenceRule().contains("chosen on validation in each fold"), r.referenceRule());
    assertEquals(3, r.comparisons().size());
    r.comparisons().forEach(c -> assertEquals("baseline:clin", c.reference(), c.model()));
    SurvivalEvaluation.PairedC concat =
        r.comparisons().stream().filter(c -> c.model().equals("concat")).findFirst().orElseThrow();
    assertEquals(concatC - baselineC, concat.difference(), 1e-12);
    assertEquals(
        List.of("encoder:clin", "unimodal:clin"), r.unimodalBaselines().get(0).chosenPerFold());
    assertEquals("C", r.unimodalBaselines().get(0).validationMetric());

    SurvivalCrossValidation.Result written =
        Json.read(
            spark.sparkContext().hadoopConfiguration(),
            out + "/metrics.json",
            SurvivalCrossValidation.Result.class);
    assertEquals("baseline:clin", written.reference());
    assertEquals(r.unimodalBaselines(), written.unimodalBaselines());
    assertTrue(
        r.summary().contains("Reference: baseline:clin (chosen on validation per fold"),
        r.summary());
    assertTrue(
        r.summary().contains("encoder:clin in fold 0; unimodal:clin in fold 1"), r.summary());
  }

  /**
   * A fold of {@link #CHOICES}: predictions of its three models, a metrics.json with fold C 0.7 -
   * fold / 10 + (index + 1) / 100 (index in encoder:clin, unimodal:clin, concat) and the choice of
   * the clin baseline on validation C.
   */
  private String writeChoiceFold(int fold, List<Object[]> subjects, String chosen) {
    List<String> names = List.of("encoder:clin", "unimodal:clin", "concat");
    return new HandMadeSurvivalFolds(
            names,
            m -> m.equals("concat") ? "fusion" : "unimodal",
            (f, m) -> 0.7 - 0.1 * f + 0.01 * (names.indexOf(m) + 1),
            (f, m) -> null)
        .write(
            spark,
            dir.resolve("choices"),
            fold,
            subjects,
            List.of(
                new EvaluateResult.UnimodalBaseline(
                    "clin",
                    chosen,
                    "encoder:clin",
                    0.6,
                    "unimodal:clin",
                    0.6,
                    EvaluateResult.UnimodalBaseline.C)));
  }

  /**
   * {risk, duration, event} of every subject of {@code subjects} with {@code pattern} (all when
   * null), the risk from column {@code riskColumn}.
   */
  private static List<double[]> oof(Object[][] subjects, int riskColumn, String pattern) {
    List<double[]> out = new ArrayList<>();
    for (Object[] s : subjects) {
      if (pattern == null || pattern.equals(s[5])) {
        out.add(new double[] {(double) s[riskColumn], (double) s[1], (int) s[2]});
      }
    }
    return out;
  }

  private static SurvivalCrossValidation.Model model(
      SurvivalCrossValidation.Result r, String name) {
    return r.models().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
  }

  /** One fold's evaluate directory: predictions of both models and a metrics.json with fold C. */
  private String writeFold(
      String repeat, int fold, List<Object[]> subjects, double clinC, double concatC) {
    return new HandMadeSurvivalFolds(
            List.of("clin", "concat"),
            m -> m.equals("clin") ? "unimodal" : "fusion",
            (f, m) -> m.equals("clin") ? clinC : concatC,
            (f, m) -> null)
        .write(spark, dir.resolve(repeat), fold, subjects, List.of());
  }
}
