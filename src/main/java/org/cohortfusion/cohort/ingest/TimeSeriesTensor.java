package org.cohortfusion.cohort.ingest;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.spark.internal.TimeSeriesCall;

/**
 * A subject's time series, from its observations to the fixed-size tensor, in one compiled call per
 * subject ({@link TimeSeriesCall}), because Spark's higher-order functions are interpreted and left
 * out of whole-stage code generation.
 *
 * <p>The rules, on the observations of one subject (elements of {@link TimeSeriesWindow#element}):
 *
 * <ol>
 *   <li>sorted by time, and within a time in the order that keeps the right one first (file and
 *       row; with latest:&lt;column&gt; the caller sorts them beforehand);
 *   <li>an observation is a duplicate when the one before it has the same time;
 *   <li>of the others, those after the index time are counted and left out (the point-in-time rule:
 *       nothing after the prediction time is used); with no finite index time (null, NaN, infinite)
 *       none is used: ingest rejects such subjects (BAD_INDEX_TIME) before they get here, and "all
 *       visits" would include the ones that leak the label;
 *   <li>the used ones become the tensor: values and observed [channels x T], channel-major;
 *       step_mask [T]; delta_time [T] (index time minus the observation's, 0 without an index
 *       time). Steps run oldest to newest and are left-padded, so the newest step is T-1.
 *       <ul>
 *         <li>last steps: the last T used observations;
 *         <li>time bins of width w: bin b covers (index_time - (b+1)w, index_time - bw], b = 0 the
 *             newest, at step T-1-b; a channel's value is the mean of its observed values in the
 *             bin, delta_time the bin's mean.
 *       </ul>
 *       No tensor (null) when no observation is used.
 * </ol>
 *
 * The result: {@code matched} (observations), {@code duplicates}, {@code after} (used ones after
 * the index time), {@code tensor}, and {@code first_time} and {@code last_time} of the observations
 * that are no duplicates (null without any), which ingest aggregates to tell a unit mix-up of time
 * and index_time.
 */
public final class TimeSeriesTensor {
  static final StructType TENSOR = TimeSeriesCall.TENSOR;
  static final StructType RESULT = TimeSeriesCall.RESULT;

  private TimeSeriesTensor() {}

  /**
   * The result struct ({@link #RESULT}) of {@code observations} (null for a subject without any:
   * then the result is null too). {@code presorted}: the caller sorted them (latest:&lt;column&gt;,
   * whose order column sits at field 3); otherwise they are sorted here by time, file and row.
   * {@code binWidth}: null for the last T steps.
   */
  static Column of(
      Column observations,
      boolean presorted,
      Column indexTime,
      int channels,
      int steps,
      Double binWidth) {
    return TimeSeriesCall.of(observations, presorted, indexTime, channels, steps, binWidth);
  }
}
