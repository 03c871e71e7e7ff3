package org.cohortfusion.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.cohortfusion.config.RetrainConfig;
import org.cohortfusion.evaluate.ClassificationMetrics;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.evaluate.PairedAuroc;
import org.cohortfusion.evaluate.SurvivalEvaluation;
import org.junit.jupiter.api.Test;

class GateTest {
  private static final RetrainConfig.GateConfig CONFIG =
      new RetrainConfig.GateConfig(0.05, 0.95, 0.05, 0.02, 0.10, 100, 20, 0.25, 0.02);

  private static ClassificationMetrics metrics(double auroc, double ece) {
    return new ClassificationMetrics(auroc, 0.5, 0.5, 0.5, 0.2, ece, 400);
  }

  private static EvaluateResult.ModelEvaluation model(
      String name, String kind, double auroc, double worstPattern, double robustness, double ece) {
    List<EvaluateResult.PatternMetrics> patterns =
        List.of(
            new EvaluateResult.PatternMetrics("a+b", 300, false, metrics(auroc, ece)),
            new EvaluateResult.PatternMetrics("a", 80, false, metrics(worstPattern, ece)),
            new EvaluateResult.PatternMetrics(
                "b", 5, true, metrics(0.1, ece))); // too small: never the worst
    List<ClassificationMetrics> curve =
        new ArrayList<>(Collections.nCopies(10, metrics(robustness, ece)));
    return new EvaluateResult.ModelEvaluation(
        name, kind, name, null, metrics(auroc, ece), null, patterns, curve, Map.of());
  }

  private static PairedAuroc paired(double a, double b, double halfWidth) {
    return new PairedAuroc(
        a, b, a - b, halfWidth / 1.96, a - b - halfWidth, a - b + halfWidth, 0.95, 200, 200);
  }

  private static Gate.Criterion find(Gate.Decision d, String prefix) {
    return d.criteria().stream().filter(c -> c.name().startsWith(prefix)).findFirst().orElseThrow();
  }

  @Test
  void aChallengerNonInferiorOnEveryCriterionIsPromoted() {
    Gate.Decision d =
        new Gate(CONFIG)
            .judge(
                new Gate.Evidence(
                    model("c", "fusion", 0.80, 0.70, 0.75, 0.05),
                    model("c@v1", "fusion", 0.79, 0.72, 0.76, 0.04),
                    null,
                    paired(0.80, 0.79, 0.04),
                    200,
                    200,
                    new CohortProfile.Drift(100, 120, 0.05, 0.01, Map.of(), null)));
    assertTrue(d.passed(), d.table());
    assertTrue(find(d, "test AUROC").detail().contains("CI [-0.0300, +0.0500]"), d.table());
  }

  @Test
  void eachCriterionCanFailTheGateOnItsOwn() {
    Gate gate = new Gate(CONFIG);
    EvaluateResult.ModelEvaluation champion = model("c@v1", "fusion", 0.80, 0.70, 0.75, 0.04);
    CohortProfile.Drift calm = new CohortProfile.Drift(100, 120, 0.05, 0.01, Map.of(), null);
    // The interval reaches below -0.05: not shown non-inferior, though the point estimate is
    // higher.
    Gate.Decision wide =
        gate.judge(
            new Gate.Evidence(
                model("c", "fusion", 0.81, 0.70, 0.75, 0.04),
                champion,
                null,
                paired(0.81, 0.80, 0.07),
                200,
                200,
                calm));
    assertFalse(find(wide, "test AUROC").passed());
    assertFalse(wide.passed());
    // Worst pattern 0.06 below the champion's (margin 0.05); the too-small pattern at 0.1 is not
    // the worst.
    Gate.Decision pattern =
        gate.judge(
            new Gate.Evidence(
                model("c", "fusion", 0.80, 0.64, 0.75, 0.04),
                champion,
                null,
                paired(0.80, 0.80, 0.02),
                200,
                200,
                calm));
    assertFalse(find(pattern, "worst").passed());
    assertEquals(0.64, find(pattern, "worst").challenger(), 0);
    // Robustness 0.03 below (margin 0.02).
    Gate.Decision robust =
        gate.judge(
            new Gate.Evidence(
                model("c", "fusion", 0.80, 0.70, 0.72, 0.04),
                champion,
                null,
                paired(0.80, 0.80, 0.02),
                200,
                200,
                calm));
    assertFalse(find(robust, "robustness").passed());
    // ECE above 0.10.
    Gate.Decision ece =
        gate.judge(
            new Gate.Evidence(
                model("c", "fusion", 0.80, 0.70, 0.75, 0.12),
                champion,
                null,
                paired(0.80, 0.80, 0.02),
                200,
                200,
                calm));
    assertFalse(find(ece, "calibration").passed());
    // Too few subjects of one class.
    Gate.Decision few =
        gate.judge(
            new Gate.Evidence(
                model("c", "fusion", 0.80, 0.70, 0.75, 0.04),
                champion,
                null,
                paired(0.80, 0.80, 0.02),
                19,
                200,
                calm));
    assertFalse(find(few, "test subjects of the smaller class").passed());
    // Drift above max-drift.
    Gate.Decision drift =
        gate.judge(
            new Gate.Evidence(
                model("c", "fusion", 0.80, 0.70, 0.75, 0.04),
                champion,
                null,
                paired(0.80, 0.80, 0.02),
                200,
                200,
                new CohortProfile.Drift(100, 120, 0.30, 0.01, Map.of(), null)));
    assertFalse(find(drift, "drift").passed());
    for (Gate.Decision d : List.of(pattern, robust, ece, few, drift)) {
      assertFalse(d.passed(), d.table());
      assertEquals(1, d.criteria().stream().filter(c -> !c.passed()).count(), d.table());
    }
  }

  @Test
  void withoutAChampionTheChallengerMustBeatTheBestUnimodalModel() {
    Gate gate = new Gate(CONFIG);
    EvaluateResult.ModelEvaluation unimodal = model("unimodal:a", "unimodal", 0.75, 0.7, 0.7, 0.05);
    Gate.Decision beats =
        gate.judge(
            new Gate.Evidence(
                model("c", "fusion", 0.76, 0.7, 0.7, 0.05),
                null,
                unimodal,
                paired(0.76, 0.75, 0.05),
                200,
                200,
                null));
    assertTrue(beats.passed(), beats.table());
    Gate.Decision trails =
        gate.judge(
            new Gate.Evidence(
                model("c", "fusion", 0.74, 0.7, 0.7, 0.05),
                null,
                unimodal,
                paired(0.74, 0.75, 0.05),
                200,
                200,
                null));
    assertFalse(trails.passed(), trails.table());
    assertEquals(0.75, find(trails, "test AUROC vs unimodal:a").champion(), 0);
  }

  private static SurvivalEvaluation.ModelSurvival survival(
      String name, String kind, double c, double worstPattern, double meanC, double ibs) {
    return new SurvivalEvaluation.ModelSurvival(
        name,
        kind,
        name,
        null,
        new SurvivalEvaluation.Scores(400, 120, c, c - 0.03, c + 0.03, Map.of(), Map.of(), ibs),
        List.of(
            new SurvivalEvaluation.PatternScores("a+b", 300, false, c),
            new SurvivalEvaluation.PatternScores("a", 80, false, worstPattern),
            new SurvivalEvaluation.PatternScores("b", 5, true, 0.1)), // too small: never the worst
        Collections.nCopies(10, meanC),
        Map.of());
  }

  private static Gate.SurvivalEvidence survivalEvidence(
      SurvivalEvaluation.ModelSurvival challenger,
      SurvivalEvaluation.ModelSurvival champion,
      double lower,
      long events) {
    double d = challenger.test().cIndex() - champion.test().cIndex();
    return new Gate.SurvivalEvidence(
        challenger,
        champion,
        null,
        new SurvivalEvaluation.PairedC(challenger.name(), champion.name(), d, lower, d + 0.04),
        0.95,
        events,
        400 - events,
        null);
  }

  @Test
  void eachSurvivalCriterionCanFailTheGateOnItsOwn() {
    Gate gate = new Gate(CONFIG);
    SurvivalEvaluation.ModelSurvival champion = survival("c@v1", "fusion", 0.75, 0.70, 0.72, 0.15);
    SurvivalEvaluation.ModelSurvival good = survival("c", "fusion", 0.76, 0.69, 0.71, 0.16);
    assertTrue(gate.judgeSurvival(survivalEvidence(good, champion, -0.03, 120)).passed());

    Map<String, Gate.Decision> failures =
        Map.of(
            "test C-index (paired bootstrap)",
            gate.judgeSurvival(survivalEvidence(good, champion, -0.06, 120)),
            "worst missingness-pattern C-index",
            gate.judgeSurvival(
                survivalEvidence(
                    survival("c", "fusion", 0.76, 0.64, 0.71, 0.16), champion, -0.03, 120)),
            "robustness (mean C",
            gate.judgeSurvival(
                survivalEvidence(
                    survival("c", "fusion", 0.76, 0.69, 0.69, 0.16), champion, -0.03, 120)),
            "calibration (integrated Brier)",
            gate.judgeSurvival(
                survivalEvidence(
                    survival("c", "fusion", 0.76, 0.69, 0.71, 0.18), champion, -0.03, 120)),
            "test subjects with the event",
            gate.judgeSurvival(survivalEvidence(good, champion, -0.03, 19)));
    failures.forEach(
        (criterion, d) -> {
          assertFalse(d.passed(), criterion + "\n" + d.table());
          List<String> failed =
              d.criteria().stream().filter(c -> !c.passed()).map(Gate.Criterion::name).toList();
          assertEquals(1, failed.size(), d.table());
          assertTrue(failed.get(0).startsWith(criterion), d.table());
        });
  }

  @Test
  void withoutAChampionASurvivalChallengerMustBeatTheBestUnimodalModel() {
    Gate gate = new Gate(CONFIG);
    SurvivalEvaluation.ModelSurvival unimodal =
        survival("labs", "unimodal", 0.70, 0.70, 0.70, 0.15);
    for (double c : new double[] {0.69, 0.71}) {
      SurvivalEvaluation.ModelSurvival challenger = survival("c", "fusion", c, 0.70, 0.70, 0.15);
      Gate.Decision d =
          gate.judgeSurvival(
              new Gate.SurvivalEvidence(
                  challenger,
                  null,
                  unimodal,
                  new SurvivalEvaluation.PairedC("c", "labs", c - 0.70, -0.05, 0.05),
                  0.95,
                  120,
                  280,
                  null));
      assertEquals(c > 0.70, d.passed(), d.table());
      assertEquals(0.70, find(d, "test C-index vs labs").champion(), 0);
    }
  }
}
