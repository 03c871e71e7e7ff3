package org.cohortfusion.spark.internal;

import org.apache.spark.sql.catalyst.InternalRow;

/** Test rows built by hand as Spark's internal rows, for code that reads {@link FieldRow}s. */
public final class TestFieldRows {
  private TestFieldRows() {}

  public static FieldRow of(InternalRow row) {
    return new InternalFieldRow(row);
  }
}
