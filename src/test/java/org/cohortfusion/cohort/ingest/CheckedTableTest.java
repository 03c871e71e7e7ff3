package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.config.DuplicatePolicy;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

/**
 * The aligned write keeps one row per subject without a window ({@link
 * CheckedTable#firstAcceptedPerSubject}); the rejects pass marks duplicates with one ({@link
 * CheckedTable#markDuplicates}). Both must keep the very same row, or the counts and the rejects
 * would disagree with the aligned table.
 */
class CheckedTableTest {
  private final SparkSession spark = SparkTestSession.get();

  @Test
  void theRowKeptWithoutAWindowIsTheRowTheWindowKeeps() {
    // Many duplicates, spread over files and input partitions: rejected rows among them, equal
    // order values (ties broken by file and row), null order values, and subjects whose every row
    // is rejected.
    StructType schema =
        new StructType()
            .add(TableValidator.ID, "string")
            .add("v", "double")
            .add(TableSource.SOURCE_FILE, "string")
            .add(TableSource.ROW_ORDER, "long")
            .add(CheckedTable.REASON, "string")
            .add(CheckedTable.MESSAGE, "string");
    Random random = new Random(7);
    List<Row> rows = new ArrayList<>();
    for (long i = 0; i < 3000; i++) {
      boolean rejected = random.nextInt(5) == 0;
      Double v = random.nextInt(6) == 0 ? null : (double) random.nextInt(4);
      rows.add(
          RowFactory.create(
              "S" + random.nextInt(400),
              v,
              "file:/cohort/t/part-" + random.nextInt(3) + ".parquet",
              (long) random.nextInt(1_000_000),
              rejected ? "NON_FINITE" : null,
              rejected ? "not finite" : null));
    }
    Dataset<Row> checked = spark.createDataFrame(rows, schema).repartition(5);
    for (DuplicatePolicy policy :
        List.of(DuplicatePolicy.FIRST, DuplicatePolicy.parse("latest:v"))) {
      Set<String> byWindow =
          keys(
              CheckedTable.markDuplicates(checked, List.of(TableValidator.ID), policy, "t")
                  .filter(CheckedTable.accepted()));
      Dataset<Row> kept = CheckedTable.firstAcceptedPerSubject(checked, policy, "t");
      Set<String> withoutWindow = keys(kept);
      Set<String> different = new java.util.TreeSet<>(byWindow);
      different.addAll(withoutWindow);
      different.removeIf(k -> byWindow.contains(k) && withoutWindow.contains(k));
      assertEquals(
          Set.of(),
          different.stream().limit(5).collect(Collectors.toSet()),
          policy.configName()
              + ": rows kept by one but not the other ("
              + different.size()
              + ", first 5 shown)");
      long subjectsWithAnAcceptedRow =
          checked.filter(CheckedTable.accepted()).select(TableValidator.ID).distinct().count();
      assertEquals(subjectsWithAnAcceptedRow, kept.count(), policy.configName());
      assertTrue(
          kept.count() < checked.filter(CheckedTable.accepted()).count(),
          "the input must have duplicates");
      assertEquals(
          List.of(checked.columns()),
          List.of(kept.columns()),
          "no helper column may be left behind");
    }
  }

  /** A row by its subject, file and row: what identifies it. */
  private static Set<String> keys(Dataset<Row> rows) {
    return rows
        .select(col(TableValidator.ID), col(TableSource.SOURCE_FILE), col(TableSource.ROW_ORDER))
        .collectAsList()
        .stream()
        .map(r -> r.getString(0) + "|" + r.getString(1) + "|" + r.getLong(2))
        .collect(Collectors.toSet());
  }
}
