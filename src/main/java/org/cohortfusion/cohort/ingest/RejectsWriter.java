package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.lit;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.cohort.contract.RejectReason;
import scala.collection.JavaConverters;

/**
 * Writes the rejects table: every row set apart, with its table, file, key, reason and message, and
 * every unreadable file. Only tables whose counts show rejected rows are read again, so a clean
 * cohort costs no second pass over its modality tables.
 */
final class RejectsWriter {
  private static final String ACCEPTED = "ACCEPTED";
  private static final StructType REJECTS_SCHEMA =
      new StructType()
          .add("source_table", "string", false)
          .add("source_file", "string")
          .add("row_key", "string")
          .add("reason", "string", false)
          .add("message", "string");

  private final SparkSession spark;

  RejectsWriter(SparkSession spark) {
    this.spark = spark;
  }

  /**
   * Writes the rejects of {@code tables} to {@code dir}; with {@code aligned} (the written aligned
   * table, null when every accepted subject has a modality) also the accepted subjects of {@code
   * base} that it lacks, as NO_MODALITY.
   */
  void write(
      List<CheckedTable> tables,
      Map<String, Map<String, Long>> counts,
      Dataset<Row> base,
      Dataset<Row> aligned,
      String dir) {
    Dataset<Row> rejects = rejects(tables, counts);
    if (aligned != null) {
      rejects =
          rejects.unionByName(
              base.join(aligned.select(TableValidator.ID), seq(TableValidator.ID), "left_anti")
                  .select(
                      lit("subjects").as("source_table"),
                      col(TableSource.SOURCE_FILE).as("source_file"),
                      col(TableValidator.ID).as("row_key"),
                      lit(RejectReason.NO_MODALITY.name()).as("reason"),
                      lit("no accepted row in any modality (at or before index_time)")
                          .as("message")));
    }
    rejects.write().parquet(dir);
  }

  /**
   * Rejected rows of every table that has any (by the counts of the aligned pass), read again
   * through the slim plan; tables without rejects are not read at all. An empty, typed table when
   * nothing was rejected.
   */
  private Dataset<Row> rejects(List<CheckedTable> tables, Map<String, Map<String, Long>> counts) {
    Dataset<Row> all = spark.createDataFrame(List.of(), REJECTS_SCHEMA);
    for (CheckedTable t : tables) {
      boolean anyRejected =
          counts.get(t.name()).entrySet().stream()
              .anyMatch(e -> !e.getKey().equals(ACCEPTED) && e.getValue() > 0);
      if (anyRejected) {
        Column key =
            t.kind().equals("timeseries")
                ? concat_ws("@", col(TableValidator.ID), col("time").cast("string"))
                : col(TableValidator.ID);
        all =
            all.unionByName(
                t.rows()
                    .filter(CheckedTable.accepted().unary_$bang())
                    .select(
                        lit(t.name()).as("source_table"),
                        col(TableSource.SOURCE_FILE).as("source_file"),
                        key.as("row_key"),
                        col(CheckedTable.REASON).as("reason"),
                        col(CheckedTable.MESSAGE).as("message")));
      }
      for (String file : t.files().unreadable()) {
        all =
            all.unionByName(
                spark
                    .sql("SELECT 1")
                    .select(
                        lit(t.name()).as("source_table"),
                        lit(file).as("source_file"),
                        lit(null).cast("string").as("row_key"),
                        lit(RejectReason.UNREADABLE_FILE.name()).as("reason"),
                        lit("file is not readable as " + t.files().format().configName())
                            .as("message")));
      }
    }
    return all;
  }

  private static scala.collection.Seq<String> seq(String... names) {
    return JavaConverters.asScalaBuffer(List.of(names)).toSeq();
  }
}
