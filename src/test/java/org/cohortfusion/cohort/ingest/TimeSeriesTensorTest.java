package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.unsafe.types.UTF8String;
import org.cohortfusion.spark.internal.TimeSeriesCall;
import org.junit.jupiter.api.Test;

/**
 * The time-series rules of {@link TimeSeriesTensor}, on observations built by hand (two channels).
 */
class TimeSeriesTensorTest {
  private final List<Object> observations = new ArrayList<>();

  /** An observation at time t from file f, row r; a null value is a channel not measured. */
  private TimeSeriesTensorTest add(double t, String f, long r, Float v0, Float v1) {
    observations.add(
        new GenericInternalRow(
            new Object[] {
              t,
              UTF8String.fromString(f),
              r,
              v0 == null ? 0f : v0,
              v0 == null ? 0f : 1f,
              v1 == null ? 0f : v1,
              v1 == null ? 0f : 1f
            }));
    return this;
  }

  private InternalRow lastSteps(Double indexTime, int steps) {
    return TimeSeriesCall.lastSteps(
        new GenericArrayData(observations.toArray()),
        false,
        indexTime == null,
        indexTime == null ? 0 : indexTime,
        2,
        steps,
        3);
  }

  private InternalRow timeBins(Double indexTime, int steps, double width) {
    return TimeSeriesCall.timeBins(
        new GenericArrayData(observations.toArray()),
        false,
        indexTime == null,
        indexTime == null ? 0 : indexTime,
        2,
        steps,
        3,
        width);
  }

  private static float[] field(InternalRow result, int field) {
    return result.getStruct(3, 4).getArray(field).toFloatArray();
  }

  @Test
  void lastStepsAreTheNewestUsedObservationsLeftPadded() {
    // Out of order, one duplicate time (file b row 0 comes after file a row 5), one after index
    // time.
    add(30, "b", 0, 3f, 30f)
        .add(10, "a", 0, 1f, null)
        .add(30, "a", 5, 4f, 40f)
        .add(20, "a", 1, 2f, 20f)
        .add(60, "a", 2, 6f, 60f);
    InternalRow result = lastSteps(50.0, 4);
    assertEquals(5, result.getInt(0)); // matched
    assertEquals(1, result.getInt(1)); // duplicates
    assertEquals(1, result.getInt(2)); // after the index time
    // Used: t = 10, 20, 30 (file a row 5 kept: first by file and row); one padded step.
    assertArrayEquals(new float[] {0, 1, 2, 4, 0, 0, 20, 40}, field(result, 0));
    assertArrayEquals(new float[] {0, 1, 1, 1, 0, 0, 1, 1}, field(result, 1));
    assertArrayEquals(new float[] {0, 1, 1, 1}, field(result, 2));
    assertArrayEquals(new float[] {0, 40, 30, 20}, field(result, 3));

    // Fewer steps than used observations: the newest two.
    InternalRow two = lastSteps(50.0, 2);
    assertArrayEquals(new float[] {2, 4, 20, 40}, field(two, 0));
    assertArrayEquals(new float[] {30, 20}, field(two, 3));
  }

  @Test
  void withoutAFiniteIndexTimeNoObservationIsUsed() {
    // "All visits" would include those after the real prediction time, which leak the label.
    for (Double index :
        new Double[] {null, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
      observations.clear();
      add(10, "a", 0, 1f, 1f).add(60, "a", 1, 6f, 6f);
      InternalRow result = lastSteps(index, 2);
      assertEquals(2, result.getInt(0), "matched, index " + index);
      assertTrue(result.isNullAt(3), "no tensor with index " + index);
      assertTrue(timeBins(index, 2, 40.0).isNullAt(3), "no binned tensor with index " + index);
    }
  }

  @Test
  void noTensorWhenEveryObservationIsAfterTheIndexTime() {
    add(60, "a", 0, 1f, 1f).add(70, "a", 1, 2f, 2f).add(70, "a", 2, 3f, 3f);
    InternalRow result = lastSteps(50.0, 3);
    assertEquals(3, result.getInt(0));
    assertEquals(1, result.getInt(1));
    assertEquals(2, result.getInt(2));
    assertNull(result.getStruct(3, 4));
  }

  @Test
  void timeBinsAverageObservedValuesPerBin() {
    // Width 40 ending at 100: bin 0 (60, 100], bin 1 (20, 60], bin 2 (-20, 20]; nothing in bin 1.
    add(90, "a", 0, 2f, null)
        .add(70, "a", 1, 4f, null)
        .add(10, "a", 2, 5f, 7f)
        .add(120, "a", 3, 9f, 9f);
    InternalRow result = timeBins(100.0, 3, 40);
    assertEquals(1, result.getInt(2));
    // Steps oldest first: bin 2, bin 1 (padding), bin 0. Channel 1 is unobserved in bin 0.
    assertArrayEquals(new float[] {5, 0, 3, 7, 0, 0}, field(result, 0));
    assertArrayEquals(new float[] {1, 0, 1, 1, 0, 0}, field(result, 1));
    assertArrayEquals(new float[] {1, 0, 1}, field(result, 2));
    assertArrayEquals(new float[] {90, 0, 20}, field(result, 3));
  }
}
