package org.cohortfusion.cohort.survival;

import java.util.Arrays;

/**
 * What a discrete-time hazard model's predictions are scored by on a split: each subject's risk
 * from its hazards, its negative log-likelihood (the training loss), and Harrell's concordance at
 * the resolution of the intervals. Below every stage that trains or scores such a model, so that
 * pretrain's encoder heads, train's models and evaluate read the same numbers.
 */
public final class IntervalConcordance {
  private IntervalConcordance() {}

  /**
   * One subject's negative log-likelihood under the discrete-time hazard model: the training loss,
   * label mask applied, hazards clipped away from 0 and 1.
   */
  public static double survivalLoss(double[] hazards, int code) {
    int j = hazards.length;
    float[] y = new float[j];
    float[] mask = new float[j];
    DiscreteTimeHazard.targets(code, 0, j, y, mask);
    double loss = 0;
    for (int k = 0; k < j; k++) {
      if (mask[k] != 0) {
        double p = Math.min(Math.max(hazards[k], 1e-7), 1 - 1e-7);
        loss -= y[k] != 0 ? Math.log(p) : Math.log(1 - p);
      }
    }
    return loss;
  }

  /** The risk Harrell's C ranks: the probability of the event by the last interval's end. */
  public static double risk(double[] hazards) {
    double[] s = DiscreteTimeHazard.survival(hazards);
    return 1 - s[s.length - 1];
  }

  /**
   * Harrell's concordance (Harrell et al., JAMA 247:2543, 1982) when times are known only to their
   * interval: an event in interval j happened within it (time j + 1/2), a subject censored after
   * surviving s intervals was last seen at time s. A pair is comparable when the earlier time is an
   * event; it is concordant when that subject has the higher risk, ties in risk count one half. NaN
   * without a comparable pair.
   *
   * <p>In half-intervals a subject's time is its code itself (2s + 1 for an event in interval s, 2s
   * when censored after s intervals), so event i is comparable with every subject of a higher code.
   * Risks are sorted per code, and each event counts the lower and equal risks of every higher code
   * by binary search: O(n log n) per code, for validation splits of any size.
   */
  public static double of(double[] risk, int[] codes) {
    int top = 0;
    for (int c : codes) {
      top = Math.max(top, c);
    }
    int[] counts = new int[top + 1];
    for (int c : codes) {
      counts[c]++;
    }
    double[][] byCode = new double[top + 1][];
    for (int c = 0; c <= top; c++) {
      byCode[c] = new double[counts[c]];
    }
    int[] filled = new int[top + 1];
    for (int i = 0; i < codes.length; i++) {
      byCode[codes[i]][filled[codes[i]]++] = risk[i];
    }
    for (double[] r : byCode) {
      Arrays.sort(r);
    }
    double concordant = 0;
    long comparable = 0;
    for (int i = 0; i < codes.length; i++) {
      if (codes[i] % 2 == 0) {
        continue;
      }
      for (int c = codes[i] + 1; c <= top; c++) {
        double[] later = byCode[c];
        int below = firstAtLeast(later, risk[i]);
        int atOrBelow = firstAbove(later, risk[i]);
        concordant += below + 0.5 * (atOrBelow - below);
        comparable += later.length;
      }
    }
    return comparable == 0 ? Double.NaN : concordant / comparable;
  }

  /**
   * The index of the first element of ascending {@code a} that is {@code >= x}: how many are below
   * it.
   */
  public static int firstAtLeast(double[] a, double x) {
    int lo = 0;
    int hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] < x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * The index of the first element of ascending {@code a} that is {@code > x}: how many are at or
   * below it.
   */
  public static int firstAbove(double[] a, double x) {
    int lo = 0;
    int hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] <= x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
