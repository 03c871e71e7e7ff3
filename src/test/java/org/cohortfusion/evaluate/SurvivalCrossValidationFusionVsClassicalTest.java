package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.evaluate.report.CvReport;
import org.cohortfusion.io.Json;
import org.cohortfusion.testing.AllPairsC;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cv stage's fusion against the classical baselines for a survival outcome, on two hand-made
 * folds where the pooled C and the folds' validation C rank the models differently: by pooled C
 * (Harrell's C over all pairs of the pooled out-of-fold risks, {@link AllPairsC}) the best fusion
 * is {@code wide} and the best classical {@code lin}; by mean validation C over the folds (recorded
 * per fold below) {@code deep} and {@code gbt}. Both pairs get a paired bootstrap comparison whose
 * difference is that of the all-pairs C of the pooled columns, recorded in cv/metrics.json, and
 * both are printed in the summary with those figures.
 */
class SurvivalCrossValidationFusionVsClassicalTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private static final List<String> MODELS = List.of("unimodal:x", "deep", "wide", "lin", "gbt");

  /** Validation C per model in folds 0 and 1: deep (0.70) over wide (0.66), gbt over lin. */
  private static final Map<String, double[]> VALIDATION =
      Map.of(
          "unimodal:x", new double[] {0.55, 0.57},
          "deep", new double[] {0.72, 0.68},
          "wide", new double[] {0.65, 0.67},
          "lin", new double[] {0.60, 0.62},
          "gbt", new double[] {0.64, 0.63});

  /** Subject, duration, event, then the risk of each of {@link #MODELS}. */
  private static final Object[][] FOLD_0 = {
    {"A1", 1.0, 1, 0.6, 0.5, 0.9, 0.8, 0.4},
    {"A2", 4.0, 1, 0.4, 0.7, 0.6, 0.5, 0.3},
    {"A3", 6.0, 0, 0.5, 0.6, 0.2, 0.4, 0.5},
    {"A4", 8.0, 1, 0.3, 0.2, 0.3, 0.2, 0.6},
    {"A5", 9.0, 0, 0.2, 0.4, 0.1, 0.3, 0.2},
  };

  private static final Object[][] FOLD_1 = {
    {"B1", 2.0, 1, 0.7, 0.3, 0.8, 0.9, 0.7},
    {"B2", 3.0, 0, 0.1, 0.8, 0.5, 0.6, 0.1},
    {"B3", 5.0, 1, 0.8, 0.1, 0.7, 0.35, 0.8},
    {"B4", 7.0, 1, 0.35, 0.9, 0.4, 0.1, 0.9},
    {"B5", 10.0, 0, 0.45, 0.2, 0.15, 0.15, 0.05},
  };

  @Test
  void theBestOnPooledCAndTheChoiceOnValidationCAreBothCompared() throws Exception {
    HandMadeSurvivalFolds folds =
        new HandMadeSurvivalFolds(
            MODELS,
            m ->
                m.startsWith("unimodal")
                    ? "unimodal"
                    : m.equals("lin") || m.equals("gbt") ? "classical" : "fusion",
            (f, m) -> 0.6,
            (f, m) -> VALIDATION.get(m)[f]);
    String f0 = folds.write(spark, dir, 0, Arrays.asList(FOLD_0), List.of());
    String f1 = folds.write(spark, dir, 1, Arrays.asList(FOLD_1), List.of());
    String out = dir.resolve("cv").toString();
    SurvivalCrossValidation.Result r =
        SurvivalCrossValidation.of(spark, List.of(List.of(f0, f1)), List.of(out), 7, 1).execute();

    double deep = pooled(4);
    double wide = pooled(5);
    double lin = pooled(6);
    double gbt = pooled(7);
    assertTrue(
        wide > deep && lin > gbt && wide > lin && gbt > deep,
        "the data's premise: " + List.of(deep, wide, lin, gbt));
    assertEquals("wide", r.bestPooled("fusion").orElseThrow().name());
    assertEquals("lin", r.bestPooled("classical").orElseThrow().name());
    assertEquals("deep", r.chosenOnValidation("fusion").orElseThrow().name());
    assertEquals("gbt", r.chosenOnValidation("classical").orElseThrow().name());
    assertEquals(0.70, r.chosenOnValidation("fusion").orElseThrow().meanValidationC(), 1e-12);
    assertEquals(
        Arrays.asList(0.72, 0.68), r.chosenOnValidation("fusion").orElseThrow().foldValidationC());

    SurvivalEvaluation.PairedC best = r.comparison("wide", "lin").orElseThrow();
    SurvivalEvaluation.PairedC chosen = r.comparison("deep", "gbt").orElseThrow();
    assertEquals(wide - lin, best.difference(), 1e-12);
    assertEquals(deep - gbt, chosen.difference(), 1e-12);
    assertTrue(best.lower() <= best.upper() && chosen.lower() <= chosen.upper());
    // Every model against the reference (unimodal:x, the only unimodal model), then the two pairs.
    assertEquals("unimodal:x", r.reference());
    assertEquals(MODELS.size() - 1 + 2, r.comparisons().size(), r.comparisons().toString());

    SurvivalCrossValidation.Result written =
        Json.read(
            spark.sparkContext().hadoopConfiguration(),
            out + "/metrics.json",
            SurvivalCrossValidation.Result.class);
    assertEquals(r.comparisons(), written.comparisons());
    assertEquals(r.models(), written.models());
    assertEquals("deep", written.chosenOnValidation("fusion").orElseThrow().name());

    String summary = r.summary();
    assertTrue(
        summary.contains(
            String.format(
                Locale.ROOT,
                "Best fusion (wide, pooled %.3f) beats the best classical baseline (lin, pooled"
                    + " %.3f) by %.3f (paired 95%% CI %+.3f to %+.3f)",
                wide,
                lin,
                wide - lin,
                best.lower(),
                best.upper())),
        summary);
    assertTrue(
        summary.contains(
            String.format(
                Locale.ROOT,
                "Chosen on mean validation C over the folds: fusion deep (val 0.700, pooled %.3f)"
                    + " trails classical gbt (val 0.635, pooled %.3f) by %.3f (paired 95%% CI"
                    + " %+.3f to %+.3f)",
                deep,
                gbt,
                gbt - deep,
                chosen.lower(),
                chosen.upper())),
        summary);
    String page =
        Files.readString(
            Path.of(
                CvReport.writeSurvival(spark.sparkContext().hadoopConfiguration(), out, r, "t")
                    .replace("file:", "")));
    assertTrue(page.contains("Chosen on mean validation C over the folds: fusion deep"), page);
  }

  /** Harrell's C over all pairs of the pooled out-of-fold risks in column {@code column}. */
  private static double pooled(int column) {
    List<double[]> out = new ArrayList<>();
    for (Object[][] fold : new Object[][][] {FOLD_0, FOLD_1}) {
      for (Object[] s : fold) {
        out.add(new double[] {(double) s[column], (double) s[1], (int) s[2]});
      }
    }
    return AllPairsC.of(out);
  }
}
