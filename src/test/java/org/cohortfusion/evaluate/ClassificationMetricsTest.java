package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Every metric against values computed by hand on tiny inputs (the arithmetic is in the comments).
 */
class ClassificationMetricsTest {
  private static final double EPS = 1e-9;

  /** Positive-class probabilities 0.1, 0.38, 0.33, 0.8, 0.2 with labels 0, 0, 1, 1, 0. */
  static double[][] binaryProbabilities() {
    double[] p1 = {0.1, 0.38, 0.33, 0.8, 0.2};
    double[][] p = new double[p1.length][];
    for (int i = 0; i < p1.length; i++) {
      p[i] = new double[] {1 - p1[i], p1[i]};
    }
    return p;
  }

  static final int[] BINARY_LABELS = {0, 0, 1, 1, 0};

  @Test
  void binaryMetricsEqualHandComputedValues() {
    ClassificationMetrics m = ClassificationMetrics.of(binaryProbabilities(), BINARY_LABELS, 2);
    // AUROC: positives {0.33, 0.8} vs negatives {0.1, 0.38, 0.2}: 0.33 beats 2, 0.8 beats 3 -> 5 of
    // 6 pairs.
    assertEquals(5.0 / 6.0, m.auroc(), EPS);
    // AUPRC (ND4J: trapezoids between the PR points, starting at recall 0, precision 1): ranked
    // 0.8(P) 0.38(N)
    // 0.33(P) 0.2(N) 0.1(N) give (0, 1), (0.5, 1), (0.5, 1/2), (1, 2/3), (1, 1/2): 0.5 * 1 + 0.5 *
    // (1/2 + 2/3) / 2.
    assertEquals(0.5 + 0.5 * (0.5 + 2.0 / 3.0) / 2, m.auprc(), 1e-6);
    // Arg-max: 0, 0, 0, 1, 0 -> 4 of 5 correct; recall class 0 = 3/3, class 1 = 1/2.
    assertEquals(0.8, m.accuracy(), EPS);
    assertEquals((1.0 + 0.5) / 2, m.balancedAccuracy(), EPS);
    // Brier: (0.01 + 0.1444 + 0.4489 + 0.04 + 0.04) / 5.
    assertEquals(0.6833 / 5, m.brier(), EPS);
    // ECE, bins of width 0.1: 0.1 -> bin 1 |0 - 0.1|; 0.2 -> bin 2 |0 - 0.2|; 0.33 and 0.38 -> bin
    // 3 |1 - 0.71|;
    // 0.8 -> bin 8 |1 - 0.8|; weighted by n: (0.1 + 0.2 + 0.29 + 0.2) / 5.
    assertEquals(0.79 / 5, m.ece(), EPS);
    assertEquals(5, m.n());
  }

  @Test
  void tiedScoresEnterThePrCurveTogether() {
    // Ranked 0.9(P), then 0.5 held by a positive and a negative, then 0.1(N): the points (0, 1),
    // (1/2, 1), (1, 2/3), (1, 1/2), so 1/2 * 1 + 1/2 * (1 + 2/3) / 2 = 11/12. The tie split
    // positive first would give 1, negative first 0.854.
    double[] scores = {0.5, 0.1, 0.9, 0.5};
    boolean[] positive = {false, false, true, true};
    assertEquals(11.0 / 12.0, ClassificationMetrics.auprc(scores, positive), EPS);
    assertTrue(Double.isNaN(ClassificationMetrics.auprc(scores, new boolean[4])));
  }

  @Test
  void multiclassMetricsEqualHandComputedValues() {
    double[][] p = {{0.7, 0.2, 0.1}, {0.2, 0.5, 0.3}, {0.3, 0.3, 0.4}, {0.1, 0.55, 0.35}};
    int[] y = {0, 1, 2, 2};
    ClassificationMetrics m = ClassificationMetrics.of(p, y, 3);
    // One-vs-rest AUROC: class 0 -> 1 (0.7 above all); class 1 -> 2/3 (0.5 above 0.2, 0.3, not
    // 0.55);
    // class 2 -> 1 (0.4, 0.35 above 0.1, 0.3). Macro mean.
    assertEquals((1 + 2.0 / 3.0 + 1) / 3, m.auroc(), EPS);
    // One-vs-rest trapezoidal AUPRC: class 0 -> 1; class 1 -> its positive ranks second: (0, 1),
    // (0, 0), (1, 1/2)
    // -> 1 * (0 + 1/2) / 2 = 1/4; class 2 -> 1.
    assertEquals((1 + 0.25 + 1) / 3, m.auprc(), 1e-6);
    // Arg-max 0, 1, 2, 1: 3 of 4; recalls 1, 1, 1/2.
    assertEquals(0.75, m.accuracy(), EPS);
    assertEquals((1 + 1 + 0.5) / 3, m.balancedAccuracy(), EPS);
    // Brier (sum over classes): 0.14 + 0.38 + 0.54 + 0.735 over 4.
    assertEquals(1.795 / 4, m.brier(), EPS);
    // Top-label ECE: 0.7 bin 7 correct |1 - 0.7|; 0.5 (correct) and 0.55 (wrong) bin 5 |1 - 1.05|;
    // 0.4 bin 4 correct
    // |1 - 0.4|: (0.3 + 0.05 + 0.6) / 4.
    assertEquals(0.95 / 4, m.ece(), EPS);
  }

  @Test
  void perfectAndCertainPredictionsHaveZeroErrors() {
    double[][] p = {{1, 0}, {0, 1}, {0, 1}};
    ClassificationMetrics m = ClassificationMetrics.of(p, new int[] {0, 1, 1}, 2);
    assertEquals(1.0, m.auroc(), EPS);
    assertEquals(1.0, m.auprc(), EPS);
    assertEquals(0.0, m.brier(), EPS);
    assertEquals(0.0, m.ece(), EPS); // confidence 1.0 falls in the last bin, not past it
  }

  @Test
  void oneClassOnlyGivesUndefinedRankingMetrics() {
    ClassificationMetrics m =
        ClassificationMetrics.of(new double[][] {{0.8, 0.2}, {0.4, 0.6}}, new int[] {0, 0}, 2);
    assertTrue(Double.isNaN(m.auroc()));
    assertTrue(Double.isNaN(m.auprc()));
    assertEquals(0.5, m.accuracy(), EPS);
    assertEquals(0.5, m.balancedAccuracy(), EPS);
  }

  @Test
  void undefinedMetricsSurviveTheJsonRoundTrip() throws Exception {
    ClassificationMetrics m =
        ClassificationMetrics.of(new double[][] {{0.8, 0.2}, {0.4, 0.6}}, new int[] {0, 0}, 2);
    String json = org.cohortfusion.io.Json.MAPPER.writeValueAsString(m);
    assertEquals(m, org.cohortfusion.io.Json.MAPPER.readValue(json, ClassificationMetrics.class));
  }

  @Test
  void badEvaluateConfigIsAnErrorNamingTheKey() {
    var e =
        assertThrows(
            org.cohortfusion.config.ConfigException.class,
            () ->
                org.cohortfusion.config.PipelineConfigLoader.parse(
                    "subjects { path = s.csv }\n"
                        + "modalities { clinical { kind = tabular, path = c.csv } }\noutput { dir = out }\n",
                    java.util.List.of("evaluate.min-pattern-size=0")));
    assertTrue(e.getMessage().contains("evaluate.min-pattern-size"), e.getMessage());
    assertEquals(
        20,
        org.cohortfusion.config.PipelineConfigLoader.parse(
                "subjects { path = s.csv }\n"
                    + "modalities { clinical { kind = tabular, path = c.csv } }\noutput { dir = out }\n",
                java.util.List.of())
            .evaluate()
            .minPatternSize());
  }

  @Test
  void badInputsAreRejectedNamingTheValue() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ClassificationMetrics.of(new double[][] {{0.5, 0.5}}, new int[] {2}, 2));
    assertTrue(e.getMessage().startsWith("Cannot compute metrics: label 2"), e.getMessage());
  }

  @Test
  void perPatternMetricsEqualTheMetricsOfTheFilteredSubset() {
    double[][] p = binaryProbabilities();
    String[] patterns = {"clinical", "clinical+labs", "clinical", "clinical+labs", "clinical"};
    var byPattern = EvaluateAction.perPattern(p, BINARY_LABELS, patterns, 2, 3);
    assertEquals(2, byPattern.size());
    EvaluateResult.PatternMetrics clinical = byPattern.get(0);
    assertEquals("clinical", clinical.pattern());
    assertEquals(3, clinical.n());
    assertEquals(false, clinical.tooSmall());
    assertEquals(
        ClassificationMetrics.of(new double[][] {p[0], p[2], p[4]}, new int[] {0, 1, 0}, 2),
        clinical.metrics());
    EvaluateResult.PatternMetrics both = byPattern.get(1);
    assertEquals("clinical+labs", both.pattern());
    assertEquals(2, both.n());
    assertTrue(both.tooSmall());
    assertEquals(
        ClassificationMetrics.of(new double[][] {p[1], p[3]}, new int[] {0, 1}, 2), both.metrics());
    // Subset {0.1 (0), 0.33 (1), 0.2 (0)}: the positive is above both negatives.
    assertEquals(1.0, clinical.metrics().auroc(), EPS);
  }
}
