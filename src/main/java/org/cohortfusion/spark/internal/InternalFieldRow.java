package org.cohortfusion.spark.internal;

import org.apache.spark.sql.catalyst.InternalRow;

/** A {@link FieldRow} over Spark's internal row, read in place. */
final class InternalFieldRow implements FieldRow, java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private final InternalRow row;

  InternalFieldRow(InternalRow row) {
    this.row = row;
  }

  @Override
  public boolean isNullAt(int ordinal) {
    return row.isNullAt(ordinal);
  }

  @Override
  public boolean getBoolean(int ordinal) {
    return row.getBoolean(ordinal);
  }

  @Override
  public int getInt(int ordinal) {
    return row.getInt(ordinal);
  }

  @Override
  public long getLong(int ordinal) {
    return row.getLong(ordinal);
  }

  @Override
  public float getFloat(int ordinal) {
    return row.getFloat(ordinal);
  }

  @Override
  public double getDouble(int ordinal) {
    return row.getDouble(ordinal);
  }

  @Override
  public String getString(int ordinal) {
    return row.getUTF8String(ordinal).toString();
  }

  @Override
  public float[] getFloats(int ordinal) {
    return row.getArray(ordinal).toFloatArray();
  }

  @Override
  public FieldRow getStruct(int ordinal, int numFields) {
    return new InternalFieldRow(row.getStruct(ordinal, numFields));
  }

  @Override
  public FieldRow copy() {
    return new InternalFieldRow(row.copy());
  }
}
