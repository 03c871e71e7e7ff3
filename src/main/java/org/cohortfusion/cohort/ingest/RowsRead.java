package org.cohortfusion.cohort.ingest;

import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The rows of one table as read from its readable files (after its sql mapping, if any), counted
 * before any check: the "rows in" of the QC report. It is counted apart from the checks, the
 * duplicate rules and the joins on purpose: the report's accepted and rejected counts come from
 * those, and only a count that does not can tell when a row was lost between them ({@link #check}).
 *
 * <p>The count is a job of its own, {@code count()} on the table as read: it needs no column, so
 * Spark reads no cell of a Parquet file, only its row counts (a CSV file is parsed once more). An
 * observed metric on the read would ride on the aligned write instead, but it sits between the scan
 * and the rest of that stage, and made the aligned write markedly slower ({@code bench ingest} at
 * 100,000 subjects: 1.40 times the bare join, against 0.99 without it).
 */
final class RowsRead {
  private final String table;
  private final Dataset<Row> rows;
  private Long counted;

  private RowsRead(String table, Dataset<Row> rows) {
    this.table = table;
    this.rows = rows;
  }

  /** {@code read}: the table as read, before any check. */
  static RowsRead of(String table, Dataset<Row> read) {
    return new RowsRead(table, read);
  }

  String table() {
    return table;
  }

  /** The table as read: what every later plan of the table starts from. */
  Dataset<Row> rows() {
    return rows;
  }

  /** The rows read, counted by a job the first time it is asked for. */
  long count() {
    if (counted == null) {
      counted = rows.count();
    }
    return counted;
  }

  /**
   * Stops the run unless every row read is accounted for: {@code rowsIn}, counted on the rows as
   * read, must equal the sum of {@code byReason} (accepted and every reject reason). A difference
   * is a fault of ingest, not of the input, so it is no {@link IngestException}: the CLI exits with
   * 1, and nothing is published.
   */
  static void check(String table, long rowsIn, Map<String, Long> byReason) {
    long accounted = byReason.values().stream().mapToLong(Long::longValue).sum();
    if (rowsIn != accounted) {
      throw new IllegalStateException(
          "Cannot publish ingest: table "
              + table
              + " read "
              + rowsIn
              + " rows but accepted + rejected = "
              + accounted);
    }
  }
}
