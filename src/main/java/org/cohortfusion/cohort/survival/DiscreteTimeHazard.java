package org.cohortfusion.cohort.survival;

import java.util.Arrays;
import org.cohortfusion.stage.Columns;

/**
 * The discrete-time hazard model of a survival outcome (Singer and Willett, "It's about time", J
 * Educ Stat 1993; for neural networks Gensheimer and Narasimhan, "A scalable discrete-time survival
 * model for neural networks", PeerJ 7:e6257, 2019). Follow-up after the index time is cut into J
 * intervals {@code (0, c_1], (c_1, c_2], ..., (c_{J-1}, c_J]}; the network's output j is the hazard
 * h_j, the probability of the event in interval j given survival to its start (a sigmoid per
 * interval). A subject's likelihood is the product, over the intervals it was at risk in, of {@code
 * h_j^y_j (1 - h_j)^(1 - y_j)}, y_j = 1 only in the interval of its event: binary cross-entropy
 * with a per-output label mask, which DL4J's output layer computes as it is. Censoring is
 * non-informative by assumption; a subject censored in the second half of an interval counts as
 * having survived it, one censored in the first half drops out at its start (the rule of Gensheimer
 * and Narasimhan).
 *
 * <p>A subject's target is one integer code, {@code 2 * s + event}: s intervals survived, then the
 * event in interval s (event = 1) or no more follow-up (event = 0), so the code travels where class
 * labels do (batches, shards).
 */
public final class DiscreteTimeHazard {
  private final double[] cuts;

  /**
   * @param cuts the intervals' upper bounds c_1 &lt; ... &lt; c_J, in the unit of the durations
   *     (days), all &gt; 0
   */
  public DiscreteTimeHazard(double[] cuts) {
    if (cuts.length == 0) {
      throw new IllegalArgumentException("Cannot cut follow-up into intervals: no cut points");
    }
    for (int j = 0; j < cuts.length; j++) {
      if (!(cuts[j] > (j == 0 ? 0 : cuts[j - 1]))) {
        throw new IllegalArgumentException(
            "Cannot cut follow-up into intervals: cut points must be positive and"
                + " increasing, got "
                + Arrays.toString(cuts));
      }
    }
    this.cuts = cuts.clone();
  }

  /** J, the number of intervals (the network's outputs). */
  public int intervals() {
    return cuts.length;
  }

  /** The number of distinct target codes: {@code 2 * (J + 1)}. */
  public int codes() {
    return codes(cuts.length);
  }

  /** The number of distinct target codes of a model of {@code j} intervals. */
  public static int codes(int j) {
    return 2 * (j + 1);
  }

  /** The number of intervals of a model whose targets take {@code codes} codes. */
  public static int intervalsOf(int codes) {
    return codes / 2 - 1;
  }

  public double[] cuts() {
    return cuts.clone();
  }

  /**
   * The target code of a subject followed for {@code duration} (&gt; 0) after the index time, with
   * the event at its end ({@code event}) or censored there. Beyond the last cut the subject
   * survived every interval, whatever followed.
   */
  public int code(double duration, boolean event) {
    if (!(duration > 0)) {
      throw new IllegalArgumentException(
          "Cannot code a survival time: duration must be positive, got " + duration);
    }
    int j = 0;
    while (j < cuts.length && duration > cuts[j]) {
      j++;
    }
    if (j == cuts.length) {
      return 2 * j;
    }
    if (event) {
      return 2 * j + 1;
    }
    double start = j == 0 ? 0 : cuts[j - 1];
    boolean secondHalf = duration >= (start + cuts[j]) / 2;
    return 2 * (secondHalf ? j + 1 : j);
  }

  /**
   * Row {@code r}'s targets and label mask ({@code J} floats each, row-major) for code {@code
   * code}: 0 with mask 1 for every interval survived, 1 with mask 1 for the interval of the event,
   * mask 0 after.
   */
  public void targets(int code, int r, float[] y, float[] mask) {
    targets(code, r, cuts.length, y, mask);
  }

  /**
   * {@link #targets(int, int, float[], float[])} for a model of {@code j} intervals (the cut points
   * do not matter).
   */
  public static void targets(int code, int r, int j, float[] y, float[] mask) {
    int survived = code / 2;
    boolean event = code % 2 == 1;
    if (survived > j || (event && survived == j) || code < 0) {
      throw new IllegalArgumentException(
          "Cannot expand survival code " + code + ": " + j + " intervals");
    }
    for (int k = 0; k < j; k++) {
      y[r * j + k] = event && k == survived ? 1f : 0f;
      mask[r * j + k] = k < survived || (event && k == survived) ? 1f : 0f;
    }
  }

  /** The code of one row's targets and mask (the inverse of {@link #targets}). */
  public int code(float[] y, float[] mask, int r) {
    return code(y, mask, r, cuts.length);
  }

  /** {@link #code(float[], float[], int)} for a model of {@code j} intervals. */
  public static int code(float[] y, float[] mask, int r, int j) {
    int survived = 0;
    while (survived < j && mask[r * j + survived] != 0f && y[r * j + survived] == 0f) {
      survived++;
    }
    boolean event = survived < j && mask[r * j + survived] != 0f && y[r * j + survived] != 0f;
    return 2 * survived + (event ? 1 : 0);
  }

  /**
   * {@link #code(double, boolean)} as a Spark column over the table's {@code duration} and {@code
   * label} (the event indicator), so batches are built from codes like class labels; null where
   * either is null.
   */
  public org.apache.spark.sql.Column codeColumn() {
    org.apache.spark.sql.Column d = org.apache.spark.sql.functions.col(Columns.DURATION);
    org.apache.spark.sql.Column event =
        org.apache.spark.sql.functions.col(Columns.LABEL).equalTo(1);
    org.apache.spark.sql.Column code = org.apache.spark.sql.functions.lit(2 * cuts.length);
    // Built from the last interval back, so the first interval whose bound is not below the
    // duration wins.
    for (int j = cuts.length - 1; j >= 0; j--) {
      double start = j == 0 ? 0 : cuts[j - 1];
      org.apache.spark.sql.Column inInterval =
          org.apache
              .spark
              .sql
              .functions
              .when(event, 2 * j + 1)
              .when(d.geq((start + cuts[j]) / 2), 2 * (j + 1))
              .otherwise(2 * j);
      code = org.apache.spark.sql.functions.when(d.leq(cuts[j]), inInterval).otherwise(code);
    }
    return org.apache
        .spark
        .sql
        .functions
        .when(
            d.isNull().or(org.apache.spark.sql.functions.col(Columns.LABEL).isNull()),
            org.apache.spark.sql.functions.lit(null).cast("int"))
        .otherwise(code.cast("int"));
  }

  /**
   * The survival curve at the cut points from the hazards: {@code S(c_j) = prod_{k <= j} (1 -
   * h_k)}.
   */
  public static double[] survival(double[] hazards) {
    double[] s = new double[hazards.length];
    double alive = 1;
    for (int j = 0; j < hazards.length; j++) {
      alive *= 1 - hazards[j];
      s[j] = alive;
    }
    return s;
  }

  /**
   * S(t) from the hazards: a step function that falls at the end of every interval (the model says
   * nothing about where within an interval the event happens); 1 before c_1, the last value beyond
   * c_J.
   */
  public double survivalAt(double[] hazards, double t) {
    double[] s = survival(hazards);
    double at = 1;
    for (int j = 0; j < cuts.length && cuts[j] <= t; j++) {
      at = s[j];
    }
    return at;
  }
}
