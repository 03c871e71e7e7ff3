package org.cohortfusion.testing;

import java.util.List;

/** Harrell's C written out over all pairs: an oracle independent of the project's own C. */
public final class AllPairsC {
  private AllPairsC() {}

  /**
   * Harrell's C over all pairs of {risk, duration, event}: (i, j) comparable when i had the event
   * and t_i &lt; t_j, or t_i == t_j with j censored; concordant when i's risk is higher, one half
   * when equal.
   */
  public static double of(List<double[]> s) {
    double score = 0;
    long comparable = 0;
    for (double[] i : s) {
      for (double[] j : s) {
        if (i != j && i[2] == 1 && (i[1] < j[1] || (i[1] == j[1] && j[2] == 0))) {
          comparable++;
          score += i[0] > j[0] ? 1 : i[0] == j[0] ? 0.5 : 0;
        }
      }
    }
    return score / comparable;
  }
}
