package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.junit.jupiter.api.Test;

/** Moments per bucket against a direct computation, for arrays with and without null elements. */
class ElementwiseMomentsTest {
  private static final int BUCKETS = 3;
  private static final int BUCKET_SIZE = 4;

  @Test
  void bulkAndNullSkippingPathsAgreeWithADirectComputation() {
    SplittableRandom random = new SplittableRandom(7);
    ElementwiseMoments moments = new ElementwiseMoments(BUCKETS);
    double[][] expected = new double[3][BUCKETS];
    for (int row = 0; row < 50; row++) {
      float[] values = new float[BUCKETS * BUCKET_SIZE];
      float[] weights = new float[values.length];
      Float[] boxed = new Float[values.length];
      boolean withNulls = row % 3 == 0;
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) random.nextGaussian(2, 3);
        weights[i] = random.nextInt(4) == 0 ? 0f : 1f;
        boxed[i] = withNulls && random.nextInt(5) == 0 ? null : values[i];
        if (boxed[i] != null && weights[i] != 0f) {
          int b = i / BUCKET_SIZE;
          expected[0][b] += 1;
          expected[1][b] += values[i];
          expected[2][b] += (double) values[i] * values[i];
        }
      }
      // Rows with nulls come as a generic array (Spark's unsafe arrays of floats hold no nulls here).
      moments.add(withNulls ? new GenericArrayData(boxed) : UnsafeArrayData.fromPrimitiveArray(values),
          UnsafeArrayData.fromPrimitiveArray(weights), BUCKET_SIZE);
    }
    double[] all = moments.toArray();
    for (int k = 0; k < 3; k++) {
      double[] got = java.util.Arrays.copyOfRange(all, k * BUCKETS, (k + 1) * BUCKETS);
      assertArrayEquals(expected[k], got, 1e-6 * (1 + Math.abs(expected[k][0])), "block " + k);
    }
  }

  @Test
  void withoutWeightsEveryElementCounts() {
    ElementwiseMoments moments = new ElementwiseMoments(2);
    moments.add(UnsafeArrayData.fromPrimitiveArray(new float[] {1f, 2f, 3f, 4f}), null, 2);
    assertArrayEquals(new double[] {2, 2, 3, 7, 5, 25}, moments.toArray(), 1e-9);
    // One bucket per position (omics), twice.
    ElementwiseMoments perPosition = new ElementwiseMoments(3);
    perPosition.add(UnsafeArrayData.fromPrimitiveArray(new float[] {1f, -2f, 3f}), null, 1);
    perPosition.add(UnsafeArrayData.fromPrimitiveArray(new float[] {2f, 0f, 1f}), null, 1);
    assertArrayEquals(new double[] {2, 2, 2, 3, -2, 4, 5, 4, 10}, perPosition.toArray(), 1e-9);
  }

  /** Numeric tabular features: doubles, null where a value is missing. */
  @Test
  void doublesSkipTheirNulls() {
    ElementwiseMoments moments = new ElementwiseMoments(2);
    moments.addDoubles(new GenericArrayData(new Object[] {1.5, null}), 1);
    moments.addDoubles(new GenericArrayData(new Object[] {2.5, 1e10}), 1);
    assertArrayEquals(new double[] {2, 1, 4, 1e10, 1.5 * 1.5 + 2.5 * 2.5, 1e20}, moments.toArray(), 1e-6);
  }
}
