package org.cohortfusion.fit;

import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Function;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import scala.Tuple2;

/**
 * A held-out split scored where it lives: one row {@code {label, p_0, ..., p_k-1}} per example,
 * produced batch by batch on the executors ({@link #streamed}), and the classifier's metrics
 * computed from those rows without bringing them to the driver ({@link #classification}): sums by
 * an aggregate, the exact AUROC by Spark MLlib's distributed sort. Pretrain's encoders and train's
 * fusion networks are scored this way, so both report one definition of each metric.
 */
public final class ScoredRows {
  private ScoredRows() {}

  /**
   * @param auroc binary: AUROC of the positive-class probability; more classes: the mean
   *     one-vs-rest AUROC over the classes present with another class; NaN when there is none
   * @param loss mean cross-entropy of the label's probability (floored at 1e-7)
   * @param accuracy fraction of examples whose arg-max class (the first on a tie) is the label
   * @param n examples
   */
  public record Classification(double auroc, double loss, double accuracy, long n) {}

  /**
   * The metrics of rows {@code {label, p_0, ..., p_k-1}}. The AUROC is {@link
   * BinaryClassificationMetrics} with {@code numBins = 0} (no down-sampling): the trapezoidal area
   * over every distinct score, which is the Mann–Whitney statistic with a tie counting one half
   * (Hanley &amp; McNeil 1982, Radiology 143:29–36). The rows are read once per class and once for
   * the sums: persist them if they are expensive to produce.
   *
   * @throws IllegalArgumentException when there is no row
   */
  public static Classification classification(JavaRDD<double[]> scored, int numClasses) {
    // [n, loss sum, correct, then the count of each class]
    double[] sums =
        scored.aggregate(
            new double[3 + numClasses],
            (acc, row) -> {
              int label = (int) row[0];
              acc[0] += 1;
              acc[1] -= Math.log(Math.max(row[1 + label], 1e-7));
              int argmax = 0;
              for (int k = 1; k < numClasses; k++) {
                argmax = row[1 + k] > row[1 + argmax] ? k : argmax;
              }
              acc[2] += argmax == label ? 1 : 0;
              acc[3 + label] += 1;
              return acc;
            },
            (a, b) -> {
              for (int i = 0; i < a.length; i++) {
                a[i] += b[i];
              }
              return a;
            });
    long n = (long) sums[0];
    if (n == 0) {
      throw new IllegalArgumentException("Cannot compute metrics: no labeled examples");
    }
    double auroc;
    if (numClasses == 2) {
      auroc = oneVsRest(scored, 1, sums[3 + 1], n);
    } else {
      double total = 0;
      int counted = 0;
      for (int k = 0; k < numClasses; k++) {
        double a = oneVsRest(scored, k, sums[3 + k], n);
        if (!Double.isNaN(a)) {
          total += a;
          counted++;
        }
      }
      auroc = counted == 0 ? Double.NaN : total / counted;
    }
    return new Classification(auroc, sums[1] / n, sums[2] / n, n);
  }

  /** AUROC of class k's probability against "label is k"; NaN when either side is empty. */
  private static double oneVsRest(JavaRDD<double[]> scored, int k, double positives, long n) {
    if (positives == 0 || positives == n) {
      return Double.NaN;
    }
    JavaRDD<Tuple2<Object, Object>> scoreAndLabel =
        scored.map(r -> new Tuple2<>(r[1 + k], (int) r[0] == k ? 1.0 : 0.0));
    BinaryClassificationMetrics m = new BinaryClassificationMetrics(scoreAndLabel.rdd(), 0);
    try {
      return m.areaUnderROC();
    } finally {
      m.unpersist();
    }
  }

  /**
   * The rows of a partition's batches, one batch in memory at a time: {@code score} runs on a batch
   * only when the rows of the one before have been consumed, so an executor holds one batch's rows
   * however large its partition is. Batches that score to no row are skipped.
   */
  public static <B> Iterator<double[]> streamed(
      Iterator<B> batches, Function<? super B, double[][]> score) {
    return new Iterator<>() {
      private Iterator<double[]> current = Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && batches.hasNext()) {
          current = Arrays.asList(score.apply(batches.next())).iterator();
        }
        return current.hasNext();
      }

      @Override
      public double[] next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }
}
