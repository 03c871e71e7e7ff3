package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.testing.MannWhitneyAuroc;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cv stage's fusion against the classical baselines, on two hand-made folds where the pooled
 * test AUROCs and the folds' validation AUROCs rank the models differently: by pooled AUROC the
 * best fusion is {@code wide} and the best classical {@code lin}; by mean validation AUROC over the
 * folds (recorded per fold below) {@code deep} and {@code gbt}. Both pairs get a paired comparison
 * whose difference is that of the Mann–Whitney AUROCs of the pooled columns, computed here.
 */
class CrossValidationFusionVsClassicalTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private static final List<String> MODELS = List.of("unimodal:x", "deep", "wide", "lin", "gbt");

  /** Validation AUROC per model in folds 0 and 1: deep (0.70) over wide (0.66), gbt over lin. */
  private static final Map<String, double[]> VALIDATION =
      Map.of(
          "unimodal:x", new double[] {0.55, 0.57},
          "deep", new double[] {0.72, 0.68},
          "wide", new double[] {0.65, 0.67},
          "lin", new double[] {0.60, 0.62},
          "gbt", new double[] {0.64, 0.63});

  /** Subject, label, then the probability of each of {@link #MODELS}. */
  private static final Object[][] FOLD_0 = {
    {"A1", 1, 0.6, 0.55, 0.9, 0.8, 0.6},
    {"A2", 1, 0.4, 0.35, 0.7, 0.6, 0.3},
    {"A3", 0, 0.5, 0.45, 0.2, 0.7, 0.5},
    {"A4", 0, 0.3, 0.60, 0.1, 0.2, 0.4},
    {"A5", 1, 0.2, 0.50, 0.6, 0.9, 0.45},
  };

  private static final Object[][] FOLD_1 = {
    {"B1", 1, 0.7, 0.40, 0.8, 0.75, 0.2},
    {"B2", 0, 0.6, 0.30, 0.3, 0.65, 0.6},
    {"B3", 0, 0.1, 0.50, 0.4, 0.10, 0.3},
    {"B4", 1, 0.3, 0.45, 0.5, 0.55, 0.7},
    {"B5", 0, 0.4, 0.20, 0.2, 0.30, 0.1},
  };

  @Test
  void theBestOnPooledAurocAndTheChoiceOnValidationAreBothCompared() throws Exception {
    HandMadeFolds folds =
        new HandMadeFolds(
            MODELS,
            m ->
                m.startsWith("unimodal")
                    ? "unimodal"
                    : m.equals("lin") || m.equals("gbt") ? "classical" : "fusion",
            (f, m) -> 0.6,
            (f, m) -> VALIDATION.get(m)[f]);
    String f0 = folds.write(spark, dir, 0, FOLD_0, List.of());
    String f1 = folds.write(spark, dir, 1, FOLD_1, List.of());
    CrossValidationResult r =
        CrossValidationAction.of(spark, List.of(f0, f1), dir.resolve("cv").toString(), 1).execute();

    double deep = pooled(3);
    double wide = pooled(4);
    double lin = pooled(5);
    double gbt = pooled(6);
    assertTrue(wide > deep && lin > gbt, "the data's premise: " + List.of(deep, wide, lin, gbt));
    assertEquals("wide", r.bestPooled("fusion").orElseThrow().name());
    assertEquals("lin", r.bestPooled("classical").orElseThrow().name());
    assertEquals("deep", r.chosenOnValidation("fusion").orElseThrow().name());
    assertEquals("gbt", r.chosenOnValidation("classical").orElseThrow().name());
    assertEquals(0.70, r.chosenOnValidation("fusion").orElseThrow().meanValidationAuroc(), 1e-12);

    assertEquals(
        wide - lin, r.comparison("wide", "lin").orElseThrow().paired().difference(), 1e-12);
    assertEquals(
        deep - gbt, r.comparison("deep", "gbt").orElseThrow().paired().difference(), 1e-12);
    String summary = r.summary();
    assertTrue(
        summary.contains(
            String.format(
                java.util.Locale.ROOT,
                "Best fusion (wide, pooled %.3f) %s the best classical baseline (lin, pooled %.3f)",
                wide,
                wide >= lin ? "beats" : "trails",
                lin)),
        summary);
    assertTrue(
        summary.contains(
            String.format(
                java.util.Locale.ROOT,
                "Chosen on mean validation AUROC over the folds: fusion deep (val 0.700, pooled"
                    + " %.3f) %s classical gbt (val 0.635, pooled %.3f)",
                deep,
                deep >= gbt ? "beats" : "trails",
                gbt)),
        summary);
  }

  private static double pooled(int column) {
    List<double[]> out = new ArrayList<>();
    for (Object[][] fold : new Object[][][] {FOLD_0, FOLD_1}) {
      for (Object[] s : fold) {
        out.add(new double[] {(double) s[column], (int) s[1]});
      }
    }
    return MannWhitneyAuroc.of(out);
  }
}
