package org.cohortfusion.testing;

import java.util.List;

/**
 * AUROC written out as the Mann–Whitney statistic over every (positive, negative) pair, ties one
 * half: an oracle independent of the project's own AUROC.
 */
public final class MannWhitneyAuroc {
  private MannWhitneyAuroc() {}

  /** AUROC of {probability, label} rows (label 1 positive, 0 negative). */
  public static double of(List<double[]> rows) {
    double wins = 0;
    long pairs = 0;
    for (double[] p : rows) {
      if (p[1] != 1) {
        continue;
      }
      for (double[] q : rows) {
        if (q[1] != 0) {
          continue;
        }
        pairs++;
        wins += p[0] > q[0] ? 1 : p[0] == q[0] ? 0.5 : 0;
      }
    }
    return wins / pairs;
  }
}
