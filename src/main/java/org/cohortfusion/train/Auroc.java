package org.cohortfusion.train;

import java.util.Arrays;

/**
 * The area under the ROC curve as the Mann–Whitney statistic: the probability that a random
 * positive scores above a random negative, a tie counting one half (Hanley &amp; McNeil 1982,
 * Radiology 143:29–36), computed from midranks in O(n log n). ND4J's exact {@code ROC} counts tied
 * scores pessimistically (a constant predictor scores 0.25 there, not 0.5), which understates every
 * model that gives many subjects the same probability, e.g. a unimodal model on the subjects that
 * lack its modality.
 */
public final class Auroc {
  private Auroc() {}

  /** AUROC of {@code scores} for {@code positive}; NaN when either class is absent. */
  public static double of(double[] scores, boolean[] positive) {
    int n = scores.length;
    if (positive.length != n) {
      throw new IllegalArgumentException(
          "Cannot compute AUROC: " + n + " scores for " + positive.length + " labels");
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
    double positiveRankSum = 0;
    long positives = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && Double.compare(scores[order[j + 1]], scores[order[i]]) == 0) {
        j++;
      }
      double midrank = (i + j) / 2.0 + 1; // ranks are 1-based
      for (int k = i; k <= j; k++) {
        if (positive[order[k]]) {
          positiveRankSum += midrank;
          positives++;
        }
      }
      i = j + 1;
    }
    long negatives = n - positives;
    if (positives == 0 || negatives == 0) {
      return Double.NaN;
    }
    return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
  }

  /**
   * Binary: AUROC of the positive-class probability (column 1). More classes: the unweighted mean
   * of the one-vs-rest AUROCs over the classes that are present with at least one other class (NaN
   * if none).
   */
  public static double of(double[][] probabilities, int[] labels, int numClasses) {
    int n = labels.length;
    if (numClasses == 2) {
      double[] s = new double[n];
      boolean[] pos = new boolean[n];
      for (int r = 0; r < n; r++) {
        s[r] = probabilities[r][1];
        pos[r] = labels[r] == 1;
      }
      return of(s, pos);
    }
    double sum = 0;
    int counted = 0;
    for (int k = 0; k < numClasses; k++) {
      double[] s = new double[n];
      boolean[] pos = new boolean[n];
      for (int r = 0; r < n; r++) {
        s[r] = probabilities[r][k];
        pos[r] = labels[r] == k;
      }
      double a = of(s, pos);
      if (!Double.isNaN(a)) {
        sum += a;
        counted++;
      }
    }
    return counted == 0 ? Double.NaN : sum / counted;
  }
}
