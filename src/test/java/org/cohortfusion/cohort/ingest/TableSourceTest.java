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

/** What the listing learns from the Parquet footers: which arrays cannot hold a null element. */
class TableSourceTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private void write(String table, boolean elementsMayBeNull, String mode) {
    StructType schema = new StructType().add("subject_id", "string")
        .add("values", DataTypes.createArrayType(DataTypes.FloatType, elementsMayBeNull));
    List<Row> rows = List.of(RowFactory.create("S01", List.of(1f, 2f)));
    spark.createDataFrame(rows, schema).coalesce(1).write().mode(mode).parquet(dir.resolve(table).toString());
  }

  private Set<String> nonNullElementArrays(String table) {
    return TableSource.list(spark.sparkContext().hadoopConfiguration(), table, dir.resolve(table).toString(), TableFormat.PARQUET)
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
}
