package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;

import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;

/**
 * The rows of one table as read from its readable files (after its sql mapping, if any), counted
 * before any check: the "rows in" of the QC report. The count is an observed metric on the read
 * ({@link Dataset#observe}), so it rides on a job that reads every row anyway (the aligned write,
 * or for subjects the job that counts them by reason) and costs no scan of its own. It is counted
 * apart from the checks, the duplicate rules and the joins on purpose: the report's accepted and
 * rejected counts come from those, and only a count that does not can tell when a row was lost
 * between them ({@link #check}).
 */
final class RowsRead {
  private static final String ROWS = "rows";

  private final String table;
  private final Observation observation;
  private final Dataset<Row> rows;

  private RowsRead(String table, Observation observation, Dataset<Row> rows) {
    this.table = table;
    this.observation = observation;
    this.rows = rows;
  }

  /** {@code read}, the table as read, with its rows counted as they pass. */
  static RowsRead observe(String table, Dataset<Row> read) {
    Observation observation = new Observation("ingest-rows-read:" + table);
    return new RowsRead(table, observation, read.observe(observation, count(lit(1)).as(ROWS)));
  }

  String table() {
    return table;
  }

  /** The table as read, counted: what every later plan of the table must start from. */
  Dataset<Row> rows() {
    return rows;
  }

  /**
   * The count observed by the first job that ran over {@link #rows()}: only to be called once a
   * job that reads every row has finished, as it waits for one.
   */
  long observed() {
    return ModalityJoin.metric(ModalityJoin.metrics(observation), ROWS);
  }

  /**
   * The rows counted by a job of their own: for a table no full job has read, such as a modality
   * whose join Spark may leave out when no subject was accepted.
   */
  long countNow() {
    return rows.count();
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
      throw new IllegalStateException("Cannot publish ingest: table " + table + " read " + rowsIn + " rows but accepted + rejected = "
          + accounted);
    }
  }
}
