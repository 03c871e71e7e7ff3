package org.cohortfusion.spark.internal;

import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.SQLOrderingUtil;
import org.apache.spark.sql.types.AbstractDataType;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A subject's time series, from its observations to the fixed-size tensor, in one compiled call per
 * subject ({@link CompiledCall}); the rules are those of ingest's {@code TimeSeriesTensor}, which
 * documents them. Kept internal because Spark's higher-order functions ({@code filter}, {@code
 * transform}) are interpreted, and a projection that holds one is left out of whole-stage code
 * generation: each such step copied the whole row once more.
 *
 * <p>An observation is a struct whose fields are, in order: time (double), file (string), row
 * (long), with a presorted series one order field, then per channel its value and its observed flag
 * (floats).
 */
public final class TimeSeriesCall {
  private static final ArrayType FLOATS = DataTypes.createArrayType(DataTypes.FloatType, false);

  /**
   * The tensor: values and observed [channels x T] channel-major, step_mask [T], delta_time [T].
   */
  public static final StructType TENSOR =
      new StructType()
          .add("values", FLOATS, false)
          .add("observed", FLOATS, false)
          .add("step_mask", FLOATS, false)
          .add("delta_time", FLOATS, false);

  /** What {@link #of} returns per subject. */
  public static final StructType RESULT =
      new StructType()
          .add("matched", DataTypes.IntegerType, false)
          .add("duplicates", DataTypes.IntegerType, false)
          .add("after", DataTypes.IntegerType, false)
          .add("tensor", TENSOR, true)
          .add("first_time", DataTypes.DoubleType, true)
          .add("last_time", DataTypes.DoubleType, true);

  /** Where channel 0's value field is in an element: after time, file, row (and the order). */
  private static final int FIRST_VALUE = 3;

  private TimeSeriesCall() {}

  /**
   * The {@link #RESULT} struct of {@code observations} (null for a subject without any: then the
   * result is null too). {@code presorted}: the caller sorted them (its order column at field 3);
   * otherwise they are sorted here by time, file and row. {@code binWidth}: null for the last
   * {@code steps} observations, else time bins of that width.
   */
  public static Column of(
      Column observations,
      boolean presorted,
      Column indexTime,
      int channels,
      int steps,
      Double binWidth) {
    int firstValue = FIRST_VALUE + (presorted ? 1 : 0);
    List<Column> args =
        new ArrayList<>(
            List.of(
                observations,
                lit(presorted),
                indexTime.isNull(),
                org.apache.spark.sql.functions.coalesce(indexTime.cast("double"), lit(0d)),
                lit(channels),
                lit(steps),
                lit(firstValue)));
    if (binWidth != null) {
      args.add(lit(binWidth.doubleValue()));
    }
    return CompiledCall.of(
        TimeSeriesCall.class,
        binWidth == null ? "lastSteps" : "timeBins",
        RESULT,
        args,
        List.<AbstractDataType>of());
  }

  public static InternalRow lastSteps(
      ArrayData observations,
      boolean presorted,
      boolean noIndexTime,
      double indexTime,
      int channels,
      int steps,
      int firstValue) {
    Used used = used(observations, presorted, noIndexTime, indexTime, channels, firstValue);
    InternalRow tensor = null;
    if (used.count > 0) {
      int n = Math.min(steps, used.count);
      int pad = steps - n;
      float[] values = new float[channels * steps];
      float[] observed = new float[channels * steps];
      float[] stepMask = new float[steps];
      float[] delta = new float[steps];
      for (int s = 0; s < n; s++) {
        InternalRow x = used.at(used.count - n + s);
        int step = pad + s;
        for (int c = 0; c < channels; c++) {
          values[c * steps + step] = x.getFloat(firstValue + 2 * c);
          observed[c * steps + step] = x.getFloat(firstValue + 2 * c + 1);
        }
        stepMask[step] = 1f;
        delta[step] = (float) (indexTime - x.getDouble(0));
      }
      tensor = tensor(values, observed, stepMask, delta);
    }
    return used.result(tensor);
  }

  public static InternalRow timeBins(
      ArrayData observations,
      boolean presorted,
      boolean noIndexTime,
      double indexTime,
      int channels,
      int steps,
      int firstValue,
      double width) {
    Used used = used(observations, presorted, noIndexTime, indexTime, channels, firstValue);
    InternalRow tensor = null;
    if (used.count > 0) {
      double[] sums = new double[channels * steps];
      double[] observedSums = new double[channels * steps];
      double[] deltaSums = new double[steps];
      int[] inBin = new int[steps];
      for (int i = 0; i < used.count; i++) {
        InternalRow x = used.at(i);
        double bin = Math.floor((indexTime - x.getDouble(0)) / width);
        if (!(bin >= 0 && bin < steps)) {
          continue;
        }
        int step = steps - 1 - (int) bin;
        for (int c = 0; c < channels; c++) {
          sums[c * steps + step] += x.getFloat(firstValue + 2 * c);
          observedSums[c * steps + step] += x.getFloat(firstValue + 2 * c + 1);
        }
        deltaSums[step] += indexTime - x.getDouble(0);
        inBin[step]++;
      }
      float[] values = new float[channels * steps];
      float[] observed = new float[channels * steps];
      float[] stepMask = new float[steps];
      float[] delta = new float[steps];
      for (int step = 0; step < steps; step++) {
        if (inBin[step] == 0) {
          continue;
        }
        stepMask[step] = 1f;
        delta[step] = (float) (deltaSums[step] / inBin[step]);
        for (int c = 0; c < channels; c++) {
          int at = c * steps + step;
          if (observedSums[at] > 0) {
            values[at] = (float) (sums[at] / observedSums[at]);
            observed[at] = 1f;
          }
        }
      }
      tensor = tensor(values, observed, stepMask, delta);
    }
    return used.result(tensor);
  }

  private static InternalRow tensor(
      float[] values, float[] observed, float[] stepMask, float[] delta) {
    return new GenericInternalRow(
        new Object[] {
          UnsafeArrayData.fromPrimitiveArray(values),
          UnsafeArrayData.fromPrimitiveArray(observed),
          UnsafeArrayData.fromPrimitiveArray(stepMask),
          UnsafeArrayData.fromPrimitiveArray(delta)
        });
  }

  /** The used observations of a subject, oldest first, and its counts. */
  private static final class Used {
    final InternalRow[] sorted;
    final int[] used;
    final int count;
    final int duplicates;
    final int after;

    /** Times of the first and last observation that is no duplicate; null without any. */
    final Double firstTime;

    final Double lastTime;

    Used(
        InternalRow[] sorted,
        int[] used,
        int count,
        int duplicates,
        int after,
        Double firstTime,
        Double lastTime) {
      this.sorted = sorted;
      this.used = used;
      this.count = count;
      this.duplicates = duplicates;
      this.after = after;
      this.firstTime = firstTime;
      this.lastTime = lastTime;
    }

    InternalRow at(int i) {
      return sorted[used[i]];
    }

    InternalRow result(InternalRow tensor) {
      return new GenericInternalRow(
          new Object[] {sorted.length, duplicates, after, tensor, firstTime, lastTime});
    }
  }

  private static Used used(
      ArrayData observations,
      boolean presorted,
      boolean noIndexTime,
      double indexTime,
      int channels,
      int firstValue) {
    int n = observations.numElements();
    int fields = firstValue + 2 * channels;
    InternalRow[] sorted = new InternalRow[n];
    for (int i = 0; i < n; i++) {
      sorted[i] = observations.getStruct(i, fields);
    }
    if (!presorted && n > 1) {
      java.util.Arrays.sort(sorted, TimeSeriesCall::byTimeFileRow);
    }
    // NaN compares above every number and infinity above every finite one: either would let
    // every observation through, so a non-finite index time uses none, as a missing one.
    boolean cut = !noIndexTime && Double.isFinite(indexTime);
    int[] used = new int[n];
    int count = 0;
    int duplicates = 0;
    int after = 0;
    Double firstTime = null;
    Double lastTime = null;
    for (int i = 0; i < n; i++) {
      double t = sorted[i].getDouble(0);
      if (i > 0 && SQLOrderingUtil.compareDoubles(sorted[i - 1].getDouble(0), t) == 0) {
        duplicates++;
        continue;
      }
      firstTime = firstTime == null ? t : firstTime;
      lastTime = t;
      if (cut && SQLOrderingUtil.compareDoubles(t, indexTime) > 0) {
        after++;
      } else if (cut) {
        used[count++] = i;
      }
    }
    return new Used(sorted, used, count, duplicates, after, firstTime, lastTime);
  }

  /** Spark's order of the elements' leading fields (sort_array): time, then file, then row. */
  private static int byTimeFileRow(InternalRow a, InternalRow b) {
    int c = SQLOrderingUtil.compareDoubles(a.getDouble(0), b.getDouble(0));
    if (c != 0) {
      return c;
    }
    c = a.getUTF8String(1).compareTo(b.getUTF8String(1));
    return c != 0 ? c : Long.compare(a.getLong(2), b.getLong(2));
  }
}
