package org.cohortfusion.spark.internal;

/**
 * One row of a DataFrame read field by field without conversion to an external {@code Row}: no
 * value is boxed and a float array comes out in one bulk copy ({@link #getFloats}). Rows from
 * {@link FieldRows#of} are reused by Spark: {@link #copy} one before keeping it past the next.
 * Ordinals are those of the DataFrame's columns (of the struct's fields for {@link #getStruct}).
 */
public interface FieldRow {
  boolean isNullAt(int ordinal);

  boolean getBoolean(int ordinal);

  int getInt(int ordinal);

  long getLong(int ordinal);

  float getFloat(int ordinal);

  double getDouble(int ordinal);

  /** The string at {@code ordinal} (decoded from UTF-8). */
  String getString(int ordinal);

  /** The float array at {@code ordinal} as a new Java array. */
  float[] getFloats(int ordinal);

  /** The struct of {@code numFields} fields at {@code ordinal}. */
  FieldRow getStruct(int ordinal, int numFields);

  /** A copy that Spark does not reuse. */
  FieldRow copy();
}
