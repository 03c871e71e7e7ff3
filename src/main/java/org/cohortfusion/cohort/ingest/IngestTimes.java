package org.cohortfusion.cohort.ingest;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * Index times and observation times compared as numbers: numeric columns as they are (the same unit
 * on both sides is the user's contract), timestamps and dates as epoch seconds.
 */
final class IngestTimes {
  private IngestTimes() {}

  static Column asNumber(Column c, DataType type) {
    if (type.equals(DataTypes.TimestampType)) {
      return c.cast("double");
    }
    if (type.equals(DataTypes.DateType)) {
      return c.cast("timestamp").cast("double");
    }
    return c.cast("double");
  }

  static boolean isCalendar(DataType type) {
    return type.equals(DataTypes.TimestampType) || type.equals(DataTypes.DateType);
  }
}
