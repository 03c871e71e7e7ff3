package org.cohortfusion.evaluate;

import java.util.Arrays;
import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * The difference of two correlated AUROCs, scores of two models on the same subjects, with its
 * variance by DeLong's method: E. R. DeLong, D. M. DeLong and D. L. Clarke-Pearson, "Comparing the
 * areas under two or more correlated receiver operating characteristic curves: a nonparametric
 * approach", Biometrics 44(3), 1988. The structural components come from midranks as in X. Sun and
 * W. Xu, "Fast implementation of DeLong's algorithm for comparing the areas under correlated
 * receiver operating characteristic curves", IEEE Signal Processing Letters 21(11), 2014: O(N log
 * N) rather than the definition's O(m n). Ties count one half.
 *
 * @param aurocA AUROC of model A
 * @param aurocB AUROC of model B
 * @param difference aurocA - aurocB
 * @param standardError DeLong's standard error of the difference
 * @param lower lower bound of the two-sided confidence interval of the difference
 * @param upper upper bound
 * @param confidence the interval's confidence level
 * @param positives subjects of the positive class
 * @param negatives subjects of the negative class
 */
public record PairedAuroc(
    double aurocA,
    double aurocB,
    double difference,
    double standardError,
    double lower,
    double upper,
    double confidence,
    int positives,
    int negatives) {

  /**
   * Compares scores {@code a} and {@code b} (probability of the positive class, one per subject,
   * same subject order) against binary {@code labels} (1 positive, 0 negative).
   */
  public static PairedAuroc of(double[] a, double[] b, int[] labels, double confidence) {
    if (a.length != b.length || a.length != labels.length) {
      throw new IllegalArgumentException(
          "Cannot compare AUROCs: "
              + a.length
              + " and "
              + b.length
              + " scores for "
              + labels.length
              + " labels");
    }
    int m = 0;
    for (int y : labels) {
      if (y != 0 && y != 1) {
        throw new IllegalArgumentException(
            "Cannot compare AUROCs: labels must be 0 or 1, got " + y);
      }
      m += y;
    }
    int n = labels.length - m;
    if (m < 2 || n < 2) {
      throw new IllegalArgumentException(
          "Cannot compare AUROCs: need at least two subjects of each class, have "
              + m
              + " positive and "
              + n
              + " negative");
    }
    Components ca = components(a, labels, m, n);
    Components cb = components(b, labels, m, n);
    double s10 =
        variance(ca.v10, ca.auroc)
            + variance(cb.v10, cb.auroc)
            - 2 * covariance(ca.v10, ca.auroc, cb.v10, cb.auroc);
    double s01 =
        variance(ca.v01, ca.auroc)
            + variance(cb.v01, cb.auroc)
            - 2 * covariance(ca.v01, ca.auroc, cb.v01, cb.auroc);
    double se = Math.sqrt(Math.max(0, s10 / m + s01 / n));
    double z = new NormalDistribution().inverseCumulativeProbability(1 - (1 - confidence) / 2);
    double d = ca.auroc - cb.auroc;
    return new PairedAuroc(ca.auroc, cb.auroc, d, se, d - z * se, d + z * se, confidence, m, n);
  }

  /**
   * V10 (one per positive) and V01 (one per negative) of one model, and its AUROC = mean(V10) =
   * mean(V01).
   */
  record Components(double[] v10, double[] v01, double auroc) {}

  static Components components(double[] scores, int[] labels, int m, int n) {
    double[] x = new double[m];
    double[] y = new double[n];
    for (int i = 0, p = 0, q = 0; i < labels.length; i++) {
      if (labels[i] == 1) {
        x[p++] = scores[i];
      } else {
        y[q++] = scores[i];
      }
    }
    double[] all = new double[m + n];
    System.arraycopy(x, 0, all, 0, m);
    System.arraycopy(y, 0, all, m, n);
    double[] rankAll = midranks(all);
    double[] rankX = midranks(x);
    double[] rankY = midranks(y);
    double[] v10 = new double[m];
    double[] v01 = new double[n];
    double sum = 0;
    for (int i = 0; i < m; i++) {
      v10[i] = (rankAll[i] - rankX[i]) / n; // negatives below X_i, ties one half
      sum += v10[i];
    }
    for (int j = 0; j < n; j++) {
      v01[j] = 1 - (rankAll[m + j] - rankY[j]) / m; // positives above Y_j, ties one half
    }
    return new Components(v10, v01, sum / m);
  }

  /** 1-based ranks, ties given the mean of the ranks they span. */
  static double[] midranks(double[] v) {
    Integer[] order = new Integer[v.length];
    for (int i = 0; i < v.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (p, q) -> Double.compare(v[p], v[q]));
    double[] ranks = new double[v.length];
    int i = 0;
    while (i < v.length) {
      int j = i;
      while (j + 1 < v.length && Double.compare(v[order[j + 1]], v[order[i]]) == 0) {
        j++;
      }
      double mid = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        ranks[order[k]] = mid;
      }
      i = j + 1;
    }
    return ranks;
  }

  private static double variance(double[] v, double mean) {
    return covariance(v, mean, v, mean);
  }

  private static double covariance(double[] u, double mu, double[] v, double mv) {
    double s = 0;
    for (int i = 0; i < u.length; i++) {
      s += (u[i] - mu) * (v[i] - mv);
    }
    return s / (u.length - 1);
  }
}
