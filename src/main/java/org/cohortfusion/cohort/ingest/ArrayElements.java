package org.cohortfusion.cohort.ingest;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.expressions.objects.StaticInvoke;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.AbstractDataType;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.ArrayType$;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.unsafe.Platform;
import scala.collection.JavaConverters;

/**
 * The element rules of array columns (images, vectors), one pass over the elements each, called
 * from Spark's generated code ({@link StaticInvoke}). Spark's own array functions ({@code
 * array_max}, {@code arrays_overlap}) read an array straight from a Parquet batch one element at a
 * time through two virtual calls per element, which the JIT cannot inline into a whole stage's
 * generated method; a 256-float array cost more to check than to read and shuffle. Here the JIT
 * compiles a small method of its own, and an array known to hold no null element is read in one
 * bulk copy.
 */
public final class ArrayElements {
  private ArrayElements() {}

  /** True when the array (not null) holds a null element; null for a null array. */
  static Column hasNull(Column array) {
    return call("hasNull", array);
  }

  /**
   * True when the float or double array (not null) holds NaN or an infinity among its non-null
   * elements; null for a null array. {@code mayHoldNull}: whether the array can hold a null element
   * at all (the slot of a null element may hold any value, so it must be skipped).
   */
  static Column hasNonFinite(Column array, ArrayType type, boolean mayHoldNull) {
    String method =
        (type.elementType().equals(DataTypes.FloatType)
                ? "hasNonFiniteFloat"
                : "hasNonFiniteDouble")
            + (mayHoldNull ? "SkippingNulls" : "");
    return call(method, array);
  }

  /** The 0-based index of the array's first null element, -1 without one; null for a null array. */
  static Column firstNull(Column array) {
    return call("firstNullIndex", DataTypes.IntegerType, array);
  }

  /**
   * The 0-based index of the float array's first NaN or infinite element (nulls skipped), -1
   * without one.
   */
  static Column firstNonFiniteFloat(Column array) {
    return call("firstNonFiniteFloatIndex", DataTypes.IntegerType, array);
  }

  private static Column call(String method, Column array) {
    return call(method, DataTypes.BooleanType, array);
  }

  private static Column call(
      String method, org.apache.spark.sql.types.DataType returns, Column array) {
    Expression invoke =
        new StaticInvoke(
            ArrayElements.class,
            returns,
            method,
            JavaConverters.asScalaBuffer(java.util.List.of(array.expr())).toSeq(),
            JavaConverters.asScalaBuffer(java.util.List.<AbstractDataType>of(ArrayType$.MODULE$))
                .toSeq(),
            true,
            false,
            true);
    return new Column(invoke);
  }

  public static boolean hasNull(ArrayData array) {
    if (array instanceof UnsafeArrayData unsafe) {
      // Spark's row format leads an array with its null bits, whole 8-byte words of them after the
      // element count, unused bits zero: a 256-float image is four words to test, not 256 bits.
      Object base = unsafe.getBaseObject();
      long bits = unsafe.getBaseOffset() + 8;
      int words = (unsafe.numElements() + 63) / 64;
      for (int w = 0; w < words; w++) {
        if (Platform.getLong(base, bits + 8L * w) != 0L) {
          return true;
        }
      }
      return false;
    }
    int n = array.numElements();
    for (int i = 0; i < n; i++) {
      if (array.isNullAt(i)) {
        return true;
      }
    }
    return false;
  }

  public static int firstNullIndex(ArrayData array) {
    if (!hasNull(array)) {
      return -1;
    }
    int n = array.numElements();
    for (int i = 0; i < n; i++) {
      if (array.isNullAt(i)) {
        return i;
      }
    }
    return -1;
  }

  public static int firstNonFiniteFloatIndex(ArrayData array) {
    int n = array.numElements();
    for (int i = 0; i < n; i++) {
      if (!array.isNullAt(i) && !Float.isFinite(array.getFloat(i))) {
        return i;
      }
    }
    return -1;
  }

  /** For an array without null elements: one bulk copy, then a plain loop. */
  public static boolean hasNonFiniteFloat(ArrayData array) {
    for (float v : array.toFloatArray()) {
      if (!Float.isFinite(v)) {
        return true;
      }
    }
    return false;
  }

  public static boolean hasNonFiniteDouble(ArrayData array) {
    for (double v : array.toDoubleArray()) {
      if (!Double.isFinite(v)) {
        return true;
      }
    }
    return false;
  }

  public static boolean hasNonFiniteFloatSkippingNulls(ArrayData array) {
    int n = array.numElements();
    for (int i = 0; i < n; i++) {
      if (!array.isNullAt(i) && !Float.isFinite(array.getFloat(i))) {
        return true;
      }
    }
    return false;
  }

  public static boolean hasNonFiniteDoubleSkippingNulls(ArrayData array) {
    int n = array.numElements();
    for (int i = 0; i < n; i++) {
      if (!array.isNullAt(i) && !Double.isFinite(array.getDouble(i))) {
        return true;
      }
    }
    return false;
  }
}
