package org.cohortfusion.spark.internal;

import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.AbstractDataType;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.ArrayType$;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.unsafe.Platform;

/**
 * Element scans of array columns (images, vectors), one pass over the elements each, called from
 * Spark's generated code ({@link CompiledCall}). Kept internal because Spark's own array functions
 * ({@code array_max}, {@code arrays_overlap}, {@code exists}) read an array straight from a Parquet
 * batch one element at a time through two virtual calls per element, which the JIT cannot inline
 * into a whole stage's generated method; a 256-float array cost more to check than to read and
 * shuffle. Here the JIT compiles a small method of its own, an array known to hold no null element
 * is read in one bulk copy, and the null bits of Spark's row format are tested a word at a time.
 */
public final class ArrayScans {
  private ArrayScans() {}

  /** True when the array (not null) holds a null element; null for a null array. */
  public static Column hasNull(Column array) {
    return call("hasNull", DataTypes.BooleanType, array);
  }

  /**
   * True when the float or double array (not null) holds NaN or an infinity among its non-null
   * elements; null for a null array. {@code mayHoldNull}: whether the array can hold a null element
   * at all (the slot of a null element may hold any value, so it must be skipped).
   */
  public static Column hasNonFinite(Column array, ArrayType type, boolean mayHoldNull) {
    String method =
        (type.elementType().equals(DataTypes.FloatType)
                ? "hasNonFiniteFloat"
                : "hasNonFiniteDouble")
            + (mayHoldNull ? "SkippingNulls" : "");
    return call(method, DataTypes.BooleanType, array);
  }

  /** The 0-based index of the array's first null element, -1 without one; null for a null array. */
  public static Column firstNull(Column array) {
    return call("firstNullIndex", DataTypes.IntegerType, array);
  }

  /**
   * The 0-based index of the float array's first NaN or infinite element (nulls skipped), -1
   * without one.
   */
  public static Column firstNonFiniteFloat(Column array) {
    return call("firstNonFiniteFloatIndex", DataTypes.IntegerType, array);
  }

  private static Column call(String method, DataType returns, Column array) {
    return CompiledCall.of(
        ArrayScans.class,
        method,
        returns,
        List.of(array),
        List.<AbstractDataType>of(ArrayType$.MODULE$));
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
