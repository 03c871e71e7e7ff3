package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.junit.jupiter.api.Test;

/**
 * The paired comparison of two survival models on the same subjects, against a plain all-pairs
 * Harrell's C written here, and the risk read off the hazards: 1 - S(t) with S the product of (1 -
 * h) over the intervals ending by t.
 */
class SurvivalEvaluationTest {
  private final DiscreteTimeHazard model = new DiscreteTimeHazard(new double[] {1, 2});

  @Test
  void riskIsOneMinusTheSurvivalCurveAtTheTime() {
    double[][] h = {{0.1, 0.5}, {0.2, 0.0}};
    double[] atEnd = SurvivalEvaluation.risk(h, model, 2);
    assertEquals(1 - 0.9 * 0.5, atEnd[0], 1e-12);
    assertEquals(1 - 0.8, atEnd[1], 1e-12);
    assertEquals(0.1, SurvivalEvaluation.risk(h, model, 1.5)[0], 1e-12);
    assertEquals(0.0, SurvivalEvaluation.risk(h, model, 0.5)[0], 1e-12);
  }

  @Test
  void thePairedDifferenceIsTheDifferenceOfTheTwoConcordancesWithAnIntervalAroundIt() {
    Random rng = new Random(3);
    int n = 300;
    double[] time = new double[n];
    boolean[] event = new boolean[n];
    double[][] informed = new double[n][];
    double[][] noise = new double[n][];
    for (int i = 0; i < n; i++) {
      double z = rng.nextGaussian();
      time[i] = -Math.log(1 - rng.nextDouble()) / Math.exp(z);
      event[i] = rng.nextDouble() < 0.7;
      double h = 1 / (1 + Math.exp(-z));
      informed[i] = new double[] {h, h};
      double u = rng.nextDouble();
      noise[i] = new double[] {u, u};
    }
    SurvivalEvaluation.Outcomes o = new SurvivalEvaluation.Outcomes(time, event);
    SurvivalEvaluation.PairedC p =
        SurvivalEvaluation.paired("informed", informed, "noise", noise, o, model, 11);
    double expected =
        plainC(time, event, SurvivalEvaluation.risk(informed, model, 2))
            - plainC(time, event, SurvivalEvaluation.risk(noise, model, 2));
    assertEquals(expected, p.difference(), 1e-12);
    assertTrue(p.lower() <= p.difference() && p.difference() <= p.upper(), p.toString());
    // The informed model ranks by the true hazard: its advantage over noise is far from zero on 300
    // subjects.
    assertTrue(p.lower() > 0, p.toString());

    SurvivalEvaluation.PairedC same =
        SurvivalEvaluation.paired("a", informed, "b", informed, o, model, 11);
    assertEquals(0, same.difference(), 0);
    assertEquals(0, same.lower(), 0);
    assertEquals(0, same.upper(), 0);
  }

  /**
   * All pairs: i's event strictly before k's time (or at it when k is censored); ties in risk one
   * half.
   */
  private static double plainC(double[] t, boolean[] e, double[] risk) {
    double concordant = 0;
    long comparable = 0;
    for (int i = 0; i < t.length; i++) {
      for (int k = 0; k < t.length; k++) {
        if (i != k && e[i] && (t[i] < t[k] || (t[i] == t[k] && !e[k]))) {
          comparable++;
          concordant += risk[i] > risk[k] ? 1 : risk[i] == risk[k] ? 0.5 : 0;
        }
      }
    }
    return concordant / comparable;
  }
}
