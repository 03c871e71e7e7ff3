package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.TableFormat;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TableSourceTest {
  private final SparkSession spark = SparkTestSession.get();

  /** Duplicate order sorts by the file ordinal: it must be each file's position in path order, never -1. */
  @Test
  void fileOrdinalIsThePositionOfTheFileInPathOrder(@TempDir Path dir) {
    for (TableFormat format : List.of(TableFormat.PARQUET, TableFormat.CSV)) {
      String table = dir.resolve("t-" + format.name().toLowerCase(java.util.Locale.ROOT) + " with space").toString();
      var df = spark.range(0, 30).selectExpr("CAST(id AS STRING) AS subject_id").repartition(3);
      if (format == TableFormat.PARQUET) {
        df.write().parquet(table);
      } else {
        df.write().option("header", "true").csv(table);
      }
      TableSource.Files files = TableSource.list(spark.sparkContext().hadoopConfiguration(), "t", table, format);
      assertEquals(3, files.readable().size(), format + ": " + files);
      List<Row> perFile = TableSource.read(spark, "t", files, format, null)
          .groupBy(col(TableSource.SOURCE_FILE), col(TableSource.FILE_ORDINAL)).count()
          .orderBy(col(TableSource.FILE_ORDINAL)).collectAsList();
      assertEquals(3, perFile.size(), format + ": " + perFile);
      for (int i = 0; i < 3; i++) {
        assertEquals(i, perFile.get(i).getInt(1), format + ": " + perFile);
      }
      assertEquals(perFile.stream().map(r -> r.getString(0)).sorted().toList(), perFile.stream().map(r -> r.getString(0)).toList());
    }
  }
}
