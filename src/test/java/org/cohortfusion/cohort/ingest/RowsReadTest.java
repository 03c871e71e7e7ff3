package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

/** The accounting check of rows in against accepted + rejected, on hand-made counts. */
class RowsReadTest {
  private static Map<String, Long> counts(long accepted, long... rejected) {
    Map<String, Long> byReason = new LinkedHashMap<>();
    byReason.put("ACCEPTED", accepted);
    String[] reasons = {"NULL_ID", "DUPLICATE", "UNKNOWN_SUBJECT"};
    for (int i = 0; i < rejected.length; i++) {
      byReason.put(reasons[i], rejected[i]);
    }
    return byReason;
  }

  @Test
  void everyRowAccountedForPasses() {
    assertDoesNotThrow(() -> RowsRead.check("labs", 10, counts(7, 1, 2)));
    assertDoesNotThrow(() -> RowsRead.check("labs", 0, counts(0)));
    assertDoesNotThrow(() -> RowsRead.check("notes", 5, counts(5)));
  }

  @Test
  void aLostRowStopsTheRunAsAnInternalError() {
    // 10 rows read, 7 accepted, 1 + 1 rejected: one row went missing between the read and the
    // counts.
    IllegalStateException lost =
        assertThrows(
            IllegalStateException.class, () -> RowsRead.check("labs", 10, counts(7, 1, 1)));
    assertEquals(
        "Cannot publish ingest: table labs read 10 rows but accepted + rejected = 9",
        lost.getMessage());
    // Not bad input: the CLI must exit with 1, not with 2 as for an IngestException.
    assertFalse(IngestException.class.isInstance(lost));
  }

  @Test
  void aRowCountedTwiceStopsTheRunToo() {
    IllegalStateException twice =
        assertThrows(
            IllegalStateException.class, () -> RowsRead.check("subjects", 4, counts(4, 1)));
    assertEquals(
        "Cannot publish ingest: table subjects read 4 rows but accepted + rejected = 5",
        twice.getMessage());
  }

  @Test
  void theRowsAreCountedAsRead() {
    SparkSession spark = SparkTestSession.get();
    List<Row> rows =
        List.of(RowFactory.create("a"), RowFactory.create("b"), RowFactory.create("c"));
    Dataset<Row> read =
        spark
            .createDataFrame(rows, new StructType().add("subject_id", DataTypes.StringType))
            .repartition(2);
    RowsRead counted = RowsRead.of("t", read);
    // A later plan that keeps only some rows does not change the rows read.
    assertEquals(1, counted.rows().filter("subject_id = 'b'").count());
    assertEquals(3, counted.count());
  }
}
