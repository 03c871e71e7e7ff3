package org.cohortfusion.cohort.survival;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link IntervalConcordance#of} against its definition written out over all pairs: an event in
 * interval s happened at s + 1/2, a subject censored after s intervals was last seen at s; a pair
 * is comparable when the earlier time is an event, concordant when that subject has the higher
 * risk, one half when the risks tie.
 */
class IntervalConcordanceTest {
  private static double allPairs(double[] risk, int[] codes) {
    double concordant = 0;
    long comparable = 0;
    for (int i = 0; i < codes.length; i++) {
      if (codes[i] % 2 == 0) {
        continue;
      }
      double ti = codes[i] / 2 + 0.5;
      for (int k = 0; k < codes.length; k++) {
        double tk = codes[k] % 2 == 1 ? codes[k] / 2 + 0.5 : codes[k] / 2;
        if (k != i && ti < tk) {
          comparable++;
          concordant += risk[i] > risk[k] ? 1 : risk[i] == risk[k] ? 0.5 : 0;
        }
      }
    }
    return comparable == 0 ? Double.NaN : concordant / comparable;
  }

  @Test
  void aHandCase() {
    // Codes: 1 = event in interval 0 (t 0.5), 2 = censored after 1 interval (t 1), 3 = event in
    // interval 1 (t 1.5), 4 = censored after 2 (t 2). Comparable: (a,b) (a,c) (a,d) (c,d).
    // Risks a 0.9, b 0.9, c 0.2, d 0.5: (a,b) tie 1/2, (a,c) 1, (a,d) 1, (c,d) 0 -> 2.5 / 4.
    assertEquals(
        0.625,
        IntervalConcordance.of(new double[] {0.9, 0.9, 0.2, 0.5}, new int[] {1, 2, 3, 4}),
        1e-15);
    assertTrue(Double.isNaN(IntervalConcordance.of(new double[] {0.1, 0.2}, new int[] {0, 2})));
  }

  @Test
  void equalsAllPairsOnRandomSplitsWithTies() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (int rep = 0; rep < 50; rep++) {
      int n = 1 + rnd.nextInt(300);
      int intervals = 1 + rnd.nextInt(10);
      double[] risk = new double[n];
      int[] codes = new int[n];
      for (int i = 0; i < n; i++) {
        // A tenth of a unit: many ties in risk.
        risk[i] = Math.round(rnd.nextDouble() * 10) / 10.0;
        codes[i] = rnd.nextInt(2 * (intervals + 1));
      }
      double expected = allPairs(risk, codes);
      double got = IntervalConcordance.of(risk, codes);
      if (Double.isNaN(expected)) {
        assertTrue(Double.isNaN(got), "rep " + rep);
      } else {
        assertEquals(expected, got, 1e-12, "rep " + rep);
      }
    }
  }
}
