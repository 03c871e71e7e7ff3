package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Single-split survival evaluate compares the fusion with the classical baselines twice, as class
 * labels and cross-validation do: the best of each kind by test C, then the pair chosen on
 * validation C. The models are made up here so that the two pairs differ; the expected lines are
 * written out by hand.
 */
class SurvivalFusionVsClassicalTest {

  private static SurvivalEvaluation.ModelSurvival model(
      String name, String kind, Double validationC, double testC) {
    return new SurvivalEvaluation.ModelSurvival(
        name,
        kind,
        name,
        validationC,
        new SurvivalEvaluation.Scores(
            100, 40, testC, testC - 0.05, testC + 0.05, Map.of(), Map.of(), 0.2),
        List.of(),
        List.of(testC),
        Map.of());
  }

  private static SurvivalEvaluation.Result result(
      List<SurvivalEvaluation.ModelSurvival> models, List<SurvivalEvaluation.PairedC> paired) {
    return new SurvivalEvaluation.Result(
        "survival", 100, 40, List.of(2.0, 6.0), List.of(2.0), List.of(0.5), models, paired);
  }

  @Test
  void theBestPairByTestCAndThePairChosenOnValidationCAreBothPrinted() {
    // wide is best on test, attn on validation; gbt best on test, linear on validation.
    List<SurvivalEvaluation.ModelSurvival> models =
        List.of(
            model("wide", "fusion", 0.70, 0.760),
            model("attn", "fusion", 0.74, 0.720),
            model("linear", "classical", 0.73, 0.700),
            model("gbt", "classical", 0.69, 0.740),
            model("unimodal:clinical", "unimodal", 0.75, 0.690));
    String summary =
        result(
                models,
                List.of(
                    new SurvivalEvaluation.PairedC("wide", "gbt", 0.020, -0.010, 0.050),
                    new SurvivalEvaluation.PairedC("attn", "linear", 0.020, 0.001, 0.040)))
            .summary();
    assertTrue(
        summary.contains(
            "Best fusion (wide, 0.760) beats the best classical baseline (gbt, 0.740) by 0.020"
                + " (paired 95% CI -0.010 to +0.050)\n"),
        summary);
    assertTrue(
        summary.contains(
            "Chosen on validation C: fusion attn (val 0.740, test 0.720) beats classical linear"
                + " (val 0.730, test 0.700) by 0.020 (paired 95% CI +0.001 to +0.040)\n"),
        summary);
  }

  @Test
  void withoutValidationCOnlyTheBestPairIsPrintedAndWithoutAClassicalBaselineNeither() {
    List<SurvivalEvaluation.ModelSurvival> noValidation =
        List.of(model("wide", "fusion", null, 0.76), model("linear", "classical", null, 0.70));
    String summary = result(noValidation, List.of()).summary();
    assertTrue(
        summary.contains(
            "Best fusion (wide, 0.760) beats the best classical baseline (linear, 0.700) by"
                + " 0.060\n"),
        summary);
    assertFalse(summary.contains("Chosen on validation"), summary);

    String fusionOnly = result(List.of(model("wide", "fusion", 0.7, 0.76)), List.of()).summary();
    assertFalse(fusionOnly.contains("classical"), fusionOnly);
  }

  @Test
  void theChoiceOnValidationIgnoresTheTestC() {
    SurvivalEvaluation.Result r =
        result(
            List.of(
                model("a", "fusion", 0.80, 0.60),
                model("b", "fusion", 0.70, 0.90),
                model("c", "fusion", Double.NaN, 0.95)),
            List.of());
    assertEquals("a", r.chosenOnValidation("fusion").orElseThrow().name());
    assertEquals("c", r.best("fusion").orElseThrow().name());
  }
}
