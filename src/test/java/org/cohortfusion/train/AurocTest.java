package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AurocTest {
  @Test
  void handComputedCasesWithTies() {
    // A constant predictor: every pair tied, 1/2.
    assertEquals(
        0.5,
        Auroc.of(new double[] {0.3, 0.3, 0.3, 0.3}, new boolean[] {false, true, false, true}),
        1e-12);
    // Negatives 0.2, 0.5; positives 0.5, 0.8: pairs (0.5>0.2) 1, (0.5=0.5) 1/2, (0.8>0.2) 1,
    // (0.8>0.5) 1 -> 3.5/4.
    assertEquals(
        0.875,
        Auroc.of(new double[] {0.2, 0.5, 0.5, 0.8}, new boolean[] {false, false, true, true}),
        1e-12);
    // Perfect and inverted rankings.
    assertEquals(
        1.0, Auroc.of(new double[] {0.1, 0.2, 0.9}, new boolean[] {false, false, true}), 1e-12);
    assertEquals(
        0.0, Auroc.of(new double[] {0.9, 0.2, 0.1}, new boolean[] {false, false, true}), 1e-12);
    // Three negatives, two positives, a three-way tie across classes: (1 + 1 + 1/2 + 1/2 + 0) + (1
    // + 1 + 1/2 + 1/2 + 0)
    // ... written out: positives 0.4, 0.4; negatives 0.1, 0.4, 0.7 -> each positive: 1 + 1/2 + 0 =
    // 1.5; 3 / 6.
    assertEquals(
        0.5,
        Auroc.of(
            new double[] {0.1, 0.4, 0.7, 0.4, 0.4},
            new boolean[] {false, false, false, true, true}),
        1e-12);
    assertTrue(Double.isNaN(Auroc.of(new double[] {0.1, 0.2}, new boolean[] {true, true})));
  }

  /** Against the definition, pair by pair, on scores with many ties. */
  @Test
  void equalsThePairwiseDefinitionOnTiedScores() {
    Random rng = new Random(5);
    for (int trial = 0; trial < 20; trial++) {
      int n = 50 + rng.nextInt(200);
      double[] s = new double[n];
      boolean[] pos = new boolean[n];
      for (int i = 0; i < n; i++) {
        s[i] = rng.nextInt(7) / 7.0; // 7 distinct values: ties everywhere
        pos[i] = rng.nextDouble() < 0.3 + 0.1 * s[i];
      }
      double wins = 0;
      long pairs = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          if (pos[i] && !pos[j]) {
            pairs++;
            wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
          }
        }
      }
      assertEquals(wins / pairs, Auroc.of(s, pos), 1e-12, "trial " + trial);
    }
  }

  /** More classes: the mean of the one-vs-rest values. */
  @Test
  void multiclassIsTheMeanOfOneVsRest() {
    double[][] p = {{0.7, 0.2, 0.1}, {0.2, 0.5, 0.3}, {0.1, 0.1, 0.8}, {0.4, 0.4, 0.2}};
    int[] y = {0, 1, 2, 1};
    double expected =
        (Auroc.of(new double[] {0.7, 0.2, 0.1, 0.4}, new boolean[] {true, false, false, false})
                + Auroc.of(
                    new double[] {0.2, 0.5, 0.1, 0.4}, new boolean[] {false, true, false, true})
                + Auroc.of(
                    new double[] {0.1, 0.3, 0.8, 0.2}, new boolean[] {false, false, true, false}))
            / 3;
    assertEquals(expected, Auroc.of(p, y, 3), 1e-12);
    // Class 0 one-vs-rest: 0.7 beats all three negatives -> 1; class 1: positives 0.5, 0.4 vs
    // negatives 0.2, 0.1 -> 1;
    // class 2: 0.8 beats all -> 1.
    assertEquals(1.0, Auroc.of(p, y, 3), 1e-12);
  }
}
