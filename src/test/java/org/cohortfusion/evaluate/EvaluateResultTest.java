package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The evaluation's picks and distances on small cases whose answers are worked out by hand. */
class EvaluateResultTest {
  /**
   * AUROC by counting pairs: the share of (positive, negative) pairs whose positive scores higher,
   * ties one half. A plain reference for other tests, independent of {@link ClassificationMetrics}.
   */
  static double pairCountingAuroc(double[] scores, int[] labels) {
    double wins = 0;
    long pairs = 0;
    for (int i = 0; i < scores.length; i++) {
      for (int j = 0; j < scores.length; j++) {
        if (labels[i] == 1 && labels[j] == 0) {
          wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
          pairs++;
        }
      }
    }
    return wins / pairs;
  }

  @Test
  void pairCountingAurocOnAHandCase() {
    // positives 0.7 and 0.5, negatives 0.5 and 0.1: 0.7 beats both, 0.5 ties 0.5 and beats 0.1: 3.5
    // of 4 pairs.
    assertEquals(
        0.875, pairCountingAuroc(new double[] {0.7, 0.5, 0.5, 0.1}, new int[] {1, 0, 1, 0}), 1e-15);
  }

  private static ClassificationMetrics auroc(double auroc) {
    return new ClassificationMetrics(
        auroc, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 100);
  }

  private static EvaluateResult.ModelEvaluation model(
      String name, String kind, double testAuroc, List<EvaluateResult.PatternMetrics> patterns) {
    return new EvaluateResult.ModelEvaluation(
        name, kind, "d-" + name, null, auroc(testAuroc), null, patterns, List.of(), Map.of());
  }

  /**
   * Test AUROCs mean 0.81, unimodal:clinical 0.72, unimodal:labs 0.77, early 0.83, late NaN: the
   * best is early, the best unimodal labs, the margin 0.83 - 0.77 = +0.06, and 0.90 - 0.83 = 0.07
   * below Bayes. early's patterns: clinical+labs 0.74 (n 40), labs 0.55 but too small, imaging NaN
   * (one class), clinical 0.69 (n 30): the worst is clinical.
   */
  @Test
  void bestBestUnimodalWorstPatternAndTheSummaryOnAHandCase() {
    List<EvaluateResult.PatternMetrics> patterns =
        List.of(
            new EvaluateResult.PatternMetrics("clinical+labs", 40, false, auroc(0.74)),
            new EvaluateResult.PatternMetrics("labs", 10, true, auroc(0.55)),
            new EvaluateResult.PatternMetrics("imaging", 30, false, auroc(Double.NaN)),
            new EvaluateResult.PatternMetrics("clinical", 30, false, auroc(0.69)));
    List<EvaluateResult.ModelEvaluation> models =
        List.of(
            model("mean", "fusion", 0.81, List.of()),
            model("unimodal:clinical", "unimodal", 0.72, List.of()),
            model("unimodal:labs", "unimodal", 0.77, List.of()),
            model("early", "early", 0.83, patterns),
            model("late", "late", Double.NaN, List.of()));
    EvaluateResult r =
        new EvaluateResult(
            "test", 2, 100, 0.90, 25, List.of(0.0), models, "p", "m", List.of(), null, List.of());
    assertEquals("early", r.best().name());
    assertEquals("unimodal:labs", r.bestUnimodal().orElseThrow().name());
    assertEquals("clinical", r.get("early").worstPattern().orElseThrow().pattern());
    assertEquals("fusion", r.best("fusion").orElseThrow().kind());
    String summary = r.summary();
    assertTrue(summary.contains("Best model (test AUROC): early  0.8300  [d-early]"), summary);
    assertTrue(
        summary.contains("Margin over the best unimodal model (unimodal:labs, 0.7700): +0.0600"),
        summary);
    assertTrue(
        summary.contains("Worst missingness pattern of early: clinical  AUROC 0.6900 (n = 30)"),
        summary);
    assertTrue(
        summary.contains(
            "Bayes-optimal AUROC (true probability): 0.9000  (best model is 0.0700 below)"),
        summary);

    // With a choice of unimodal baselines on validation (labs': pretrain's encoder head, not a
    // model here), only the
    // chosen ones compete: the best unimodal is clinical, 0.83 - 0.72 = +0.11.
    EvaluateResult chosen =
        new EvaluateResult(
            "test",
            2,
            100,
            0.90,
            25,
            List.of(0.0),
            models,
            "p",
            "m",
            List.of(),
            null,
            List.of(
                new EvaluateResult.UnimodalBaseline(
                    "clinical",
                    "unimodal:clinical",
                    "encoder:clinical",
                    0.60,
                    "unimodal:clinical",
                    0.70),
                new EvaluateResult.UnimodalBaseline(
                    "labs", "encoder:labs", "encoder:labs", 0.75, "unimodal:labs", 0.71)));
    assertEquals("unimodal:clinical", chosen.bestUnimodal().orElseThrow().name());
    assertTrue(
        chosen
            .summary()
            .contains(
                "Margin over the best unimodal model (unimodal:clinical: a head on the frozen"
                    + " embedding, chosen on validation, 0.7200): +0.1100"),
        chosen.summary());

    EvaluateResult noAuroc =
        new EvaluateResult(
            "test",
            2,
            100,
            null,
            25,
            List.of(0.0),
            List.of(model("late", "late", Double.NaN, List.of())),
            "p",
            "m",
            List.of(),
            null,
            List.of());
    assertThrows(IllegalStateException.class, noAuroc::best);
    assertTrue(noAuroc.bestUnimodal().isEmpty());
  }

  /**
   * Two fusions and two classical baselines whose validation and test rankings disagree: on test
   * the best fusion (b, 0.80) beats the best classical (lin, 0.78) by 0.02, but validation chooses
   * fusion a (val 0.71, test 0.74) and classical lin (val 0.72, test 0.78): a trails by 0.04. A
   * model without a validation AUROC (c) cannot be chosen on it.
   */
  @Test
  void theSummaryComparesTheModelsChosenOnValidationBesideTheBestOnTest() {
    List<EvaluateResult.ModelEvaluation> models =
        List.of(
            withValidation("a", "fusion", 0.71, 0.74),
            withValidation("b", "fusion", 0.65, 0.80),
            new EvaluateResult.ModelEvaluation(
                "c", "fusion", "d-c", null, auroc(0.79), null, List.of(), List.of(), Map.of()),
            withValidation("lin", "classical", 0.72, 0.78),
            withValidation("gbt", "classical", 0.70, 0.79));
    EvaluateResult r =
        new EvaluateResult(
            "test", 2, 100, null, 25, List.of(0.0), models, "p", "m", List.of(), null, List.of());
    assertEquals("a", r.chosenOnValidation("fusion").orElseThrow().name());
    assertEquals("lin", r.chosenOnValidation("classical").orElseThrow().name());
    assertTrue(r.chosenOnValidation("early").isEmpty());
    String summary = r.summary();
    assertTrue(
        summary.contains(
            "Best fusion (b, 0.8000) beats the best classical baseline (gbt, 0.7900) by 0.0100"),
        summary);
    assertTrue(
        summary.contains(
            "Chosen on validation: fusion a (val 0.7100, test 0.7400) trails classical lin (val"
                + " 0.7200, test 0.7800) by 0.0400"),
        summary);
  }

  private static EvaluateResult.ModelEvaluation withValidation(
      String name, String kind, double validation, double test) {
    return new EvaluateResult.ModelEvaluation(
        name, kind, "d-" + name, validation, auroc(test), null, List.of(), List.of(), Map.of());
  }

  /**
   * Distance of a model's probabilities to a reference on four subjects (labels 1, 0, 1, 0). Model
   * positives 0.9, 0.6 over negatives 0.4, 0.2: AUROC 1; reference 0.7, 0.5, 0.5, 0.1: AUROC 0.875;
   * gap 0.875 - 1 = -0.125. Mean |p - ref| (0.2 + 0.1 + 0.1 + 0.1) / 4 = 0.125. Brier sums: model
   * 0.01 + 0.16 + 0.16 + 0.04 = 0.37, reference 0.09 + 0.25 + 0.25 + 0.01 = 0.60, gap (0.37 - 0.60)
   * / 4 = -0.0575.
   */
  @Test
  void distanceToAReferenceOnAHandCase() {
    double[][] model = {{0.1, 0.9}, {0.6, 0.4}, {0.4, 0.6}, {0.8, 0.2}};
    EvaluateResult.ReferenceDistance d =
        EvaluateAction.distance(model, new double[] {0.7, 0.5, 0.5, 0.1}, new int[] {1, 0, 1, 0});
    assertEquals(-0.125, d.aurocGap(), 1e-12);
    assertEquals(0.125, d.meanAbsoluteDifference(), 1e-12);
    assertEquals(-0.0575, d.brierGap(), 1e-12);
    assertEquals(
        0.875,
        EvaluateAction.referenceAuroc(new double[] {0.7, 0.5, 0.5, 0.1}, new int[] {1, 0, 1, 0}, 2),
        1e-12);
    assertEquals(
        null,
        EvaluateAction.referenceAuroc(
            new double[] {0.7, 0.5, 0.5, 0.1}, new int[] {1, 0, 1, 0}, 3));
    assertEquals(null, EvaluateAction.referenceAuroc(null, new int[] {1, 0}, 2));
  }
}
