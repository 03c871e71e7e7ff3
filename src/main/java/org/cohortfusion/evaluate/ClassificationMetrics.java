package org.cohortfusion.evaluate;

import org.cohortfusion.train.Auroc;

/**
 * Held-out classification metrics of predicted class probabilities.
 *
 * <p>AUROC is the Mann–Whitney statistic with ties counted one half ({@link Auroc}); AUPRC the
 * trapezoidal area between the exact PR points ({@link #auprc}): binary on the positive-class
 * probability, for more classes the macro (unweighted) mean of the one-vs-rest values. Both in
 * plain arrays: ND4J's exact ROC, used before, left native-array handles in proportion to the
 * subjects on the driver (1.6 million live during evaluate at 150,000 test subjects). Computed
 * here: accuracy (arg-max, ties to the lower class), balanced accuracy (mean per-class recall,
 * Brodersen et al. 2010), the Brier score (Brier 1950) and the expected calibration error with 10
 * equal-width bins (Naeini, Cooper and Hauskrecht 2015).
 *
 * @param auroc area under the ROC curve (NaN when the subjects hold one class only)
 * @param auprc area under the precision-recall curve, the trapezoidal rule between the exact PR
 *     points from (recall 0, precision 1) on, one point per distinct score (not average precision;
 *     NaN when the subjects hold one class only)
 * @param accuracy fraction of arg-max predictions equal to the label
 * @param balancedAccuracy mean over the classes present of the recall of that class
 * @param brier binary: mean of {@code (p_positive - y)^2}; multiclass: mean over subjects of {@code
 *     sum_k (p_k - y_k)^2} (Brier's original definition)
 * @param ece expected calibration error: binary on the positive-class probability (Naeini et al.
 *     2015), multiclass on the top-label confidence (Guo et al. 2017)
 * @param n number of subjects
 */
public record ClassificationMetrics(
    double auroc,
    double auprc,
    double accuracy,
    double balancedAccuracy,
    double brier,
    double ece,
    long n) {
  /** Number of equal-width probability bins of the expected calibration error. */
  public static final int ECE_BINS = 10;

  /**
   * Metrics of {@code probabilities[i][k]} (subject i, class k; rows sum to 1) against class
   * indices {@code labels}.
   */
  public static ClassificationMetrics of(double[][] probabilities, int[] labels, int numClasses) {
    int n = labels.length;
    if (n == 0) {
      throw new IllegalArgumentException("Cannot compute metrics: no subjects");
    }
    if (probabilities.length != n) {
      throw new IllegalArgumentException(
          "Cannot compute metrics: "
              + probabilities.length
              + " probability rows for "
              + n
              + " labels");
    }
    if (numClasses < 2) {
      throw new IllegalArgumentException(
          "Cannot compute metrics: " + numClasses + " classes (need at least 2)");
    }
    long correct = 0;
    for (int i = 0; i < n; i++) {
      if (labels[i] < 0 || labels[i] >= numClasses) {
        throw new IllegalArgumentException(
            "Cannot compute metrics: label "
                + labels[i]
                + " is not a class index in [0, "
                + numClasses
                + ")");
      }
      correct += argMax(probabilities[i]) == labels[i] ? 1 : 0;
    }
    boolean bothOutcomes = classesPresent(labels, numClasses) == numClasses;
    double auroc = Double.NaN;
    double auprc = Double.NaN;
    if (bothOutcomes) {
      auroc = Auroc.of(probabilities, labels, numClasses);
      if (numClasses == 2) {
        auprc = auprc(column(probabilities, 1), positives(labels, 1));
      } else {
        double sum = 0;
        for (int k = 0; k < numClasses; k++) {
          sum += auprc(column(probabilities, k), positives(labels, k));
        }
        auprc = sum / numClasses;
      }
    }
    return new ClassificationMetrics(
        auroc,
        auprc,
        (double) correct / n,
        balancedAccuracy(probabilities, labels, numClasses),
        brier(probabilities, labels, numClasses),
        expectedCalibrationError(probabilities, labels, numClasses),
        n);
  }

  /**
   * Mean per-class recall over the classes that occur in {@code labels} (arg-max predictions, ties
   * to the lower class).
   */
  public static double balancedAccuracy(double[][] probabilities, int[] labels, int numClasses) {
    long[] count = new long[numClasses];
    long[] correct = new long[numClasses];
    for (int i = 0; i < labels.length; i++) {
      count[labels[i]]++;
      if (argMax(probabilities[i]) == labels[i]) {
        correct[labels[i]]++;
      }
    }
    double sum = 0;
    int present = 0;
    for (int k = 0; k < numClasses; k++) {
      if (count[k] > 0) {
        sum += (double) correct[k] / count[k];
        present++;
      }
    }
    return sum / present;
  }

  /** Brier score (Brier 1950): binary on the positive class, multiclass summed over the classes. */
  public static double brier(double[][] probabilities, int[] labels, int numClasses) {
    double sum = 0;
    for (int i = 0; i < labels.length; i++) {
      if (numClasses == 2) {
        double d = probabilities[i][1] - (labels[i] == 1 ? 1 : 0);
        sum += d * d;
      } else {
        for (int k = 0; k < numClasses; k++) {
          double d = probabilities[i][k] - (labels[i] == k ? 1 : 0);
          sum += d * d;
        }
      }
    }
    return sum / labels.length;
  }

  /**
   * Expected calibration error with {@link #ECE_BINS} equal-width bins over [0, 1] (Naeini et al.
   * 2015): {@code sum_b |B_b|/n * |mean outcome in b - mean confidence in b|}. Binary: confidence =
   * positive-class probability, outcome = label is positive. Multiclass: confidence = the largest
   * probability, outcome = its class is the label. A confidence of exactly 1 falls in the last bin.
   */
  public static double expectedCalibrationError(
      double[][] probabilities, int[] labels, int numClasses) {
    double[] confidenceSum = new double[ECE_BINS];
    double[] outcomeSum = new double[ECE_BINS];
    long[] count = new long[ECE_BINS];
    for (int i = 0; i < labels.length; i++) {
      double confidence;
      double outcome;
      if (numClasses == 2) {
        confidence = probabilities[i][1];
        outcome = labels[i] == 1 ? 1 : 0;
      } else {
        int top = argMax(probabilities[i]);
        confidence = probabilities[i][top];
        outcome = top == labels[i] ? 1 : 0;
      }
      int bin = Math.min(ECE_BINS - 1, Math.max(0, (int) Math.floor(confidence * ECE_BINS)));
      confidenceSum[bin] += confidence;
      outcomeSum[bin] += outcome;
      count[bin]++;
    }
    double ece = 0;
    for (int b = 0; b < ECE_BINS; b++) {
      if (count[b] > 0) {
        ece += Math.abs(outcomeSum[b] - confidenceSum[b]) / labels.length;
      }
    }
    return ece;
  }

  /**
   * AUROC of one score per subject against binary labels (ties count one half); NaN when one class
   * only.
   */
  public static double binaryAuroc(double[] scores, int[] labels) {
    double[][] p = new double[scores.length][];
    for (int i = 0; i < scores.length; i++) {
      p[i] = new double[] {1 - scores[i], scores[i]};
    }
    return of(p, labels, 2).auroc();
  }

  /**
   * The area under the precision-recall curve of {@code scores} for {@code positive}: trapezoids
   * between the exact PR points, from (recall 0, precision 1), one point per distinct score, so
   * tied subjects enter the curve together (not average precision). NaN when either class is
   * absent.
   */
  static double auprc(double[] scores, boolean[] positive) {
    int n = scores.length;
    long positives = 0;
    for (boolean p : positive) {
      positives += p ? 1 : 0;
    }
    if (positives == 0 || positives == n) {
      return Double.NaN;
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
    double area = 0;
    double recall = 0;
    double precision = 1;
    long tp = 0;
    long fp = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j < n && Double.compare(scores[order[j]], scores[order[i]]) == 0) {
        if (positive[order[j]]) {
          tp++;
        } else {
          fp++;
        }
        j++;
      }
      double r = (double) tp / positives;
      double p = (double) tp / (tp + fp);
      area += (r - recall) * (p + precision) / 2;
      recall = r;
      precision = p;
      i = j;
    }
    return area;
  }

  private static double[] column(double[][] probabilities, int k) {
    double[] out = new double[probabilities.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = probabilities[i][k];
    }
    return out;
  }

  private static boolean[] positives(int[] labels, int k) {
    boolean[] out = new boolean[labels.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = labels[i] == k;
    }
    return out;
  }

  static int argMax(double[] row) {
    int best = 0;
    for (int k = 1; k < row.length; k++) {
      if (row[k] > row[best]) {
        best = k;
      }
    }
    return best;
  }

  private static int classesPresent(int[] labels, int numClasses) {
    boolean[] seen = new boolean[numClasses];
    int distinct = 0;
    for (int y : labels) {
      if (!seen[y]) {
        seen[y] = true;
        distinct++;
      }
    }
    return distinct;
  }
}
