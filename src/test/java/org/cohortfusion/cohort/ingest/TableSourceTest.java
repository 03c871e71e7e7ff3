package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.config.TableFormat;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the listing finds: the visible data files, and from their footers which arrays cannot hold a
 * null element.
 */
class TableSourceTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private void write(String table, boolean elementsMayBeNull, String mode) {
    StructType schema =
        new StructType()
            .add("subject_id", "string")
            .add("values", DataTypes.createArrayType(DataTypes.FloatType, elementsMayBeNull));
    List<Row> rows = List.of(RowFactory.create("S01", List.of(1f, 2f)));
    spark
        .createDataFrame(rows, schema)
        .coalesce(1)
        .write()
        .mode(mode)
        .parquet(dir.resolve(table).toString());
  }

  private Set<String> nonNullElementArrays(String table) {
    return TableSource.list(
            spark.sparkContext().hadoopConfiguration(),
            table,
            dir.resolve(table).toString(),
            TableFormat.PARQUET)
        .nonNullElementArrays();
  }

  @Test
  void onlyArraysWhoseElementsEveryFileDeclaresRequiredAreFreeOfNulls() {
    write("required", false, "overwrite");
    write("optional", true, "overwrite");
    write("mixed", false, "overwrite");
    write("mixed", true, "append");

    assertEquals(Set.of("values"), nonNullElementArrays("required"));
    assertEquals(Set.of(), nonNullElementArrays("optional"));
    // One file allows null elements: the table as a whole does.
    assertEquals(Set.of(), nonNullElementArrays("mixed"));
  }

  @Test
  void listsTheDataFilesAtEveryDepthAndSkipsHiddenOnes() throws Exception {
    write("nested/part=a", false, "overwrite");
    write("nested/part=b", false, "overwrite");
    write("nested/_temporary/0", false, "overwrite");
    write("nested/.staging", false, "overwrite");
    org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
    TableSource.Files files =
        TableSource.list(conf, "nested", dir.resolve("nested").toString(), TableFormat.PARQUET);
    assertEquals(2, files.readable().size(), files.readable().toString());
    for (String f : files.readable()) {
      org.junit.jupiter.api.Assertions.assertTrue(
          f.matches(".*/nested/part=[ab]/part-[^/]*\\.parquet"), f);
    }
    // A single file as the table's path is the table.
    String one = files.readable().get(0);
    assertEquals(List.of(one), TableSource.list(conf, "one", one, TableFormat.PARQUET).readable());

    IngestException missing =
        org.junit.jupiter.api.Assertions.assertThrows(
            IngestException.class,
            () ->
                TableSource.list(
                    conf, "absent", dir.resolve("absent").toString(), TableFormat.PARQUET));
    org.junit.jupiter.api.Assertions.assertTrue(
        missing.getMessage().contains("table 'absent'")
            && missing.getMessage().contains("no file or directory"),
        missing.getMessage());
  }
}
