package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.spark.internal.ArrayScans;

/**
 * A vector table's wide numeric columns (one column per feature, e.g. 20,000 expression probes),
 * packed into one {@code values} array before any rule looks at them.
 *
 * <p>Why: a rule per column makes Catalyst plans with one expression per column, and the checks
 * fold into a chain of tens of thousands of nested conditions; on 80 rows of 20,000 columns that
 * ran a 2 GB driver out of memory. Packed, the table is one array column, its rules are one pass
 * over the elements each, and a message still names the first offending column.
 */
final class WideColumns {
  private WideColumns() {}

  /**
   * From this many columns of a Parquet vector table on, its wide columns are packed as read and
   * the packed rows materialised once ({@link #readPackedParquet}), so that no later plan holds the
   * wide scan: each plan of a 20,000-column scan took minutes, of 2,000 seconds.
   */
  static final int NARROW_PLAN_FROM = 1_000;

  /**
   * The packed rows, computed once and kept on the executors (memory, then disk), so that later
   * plans start from them instead of the wide scan, which Spark's optimizer passes over column by
   * column in every plan (and, with a field of the file metadata in it, quadratically: about 4
   * minutes per plan at 20,000 columns on a 2-core machine).
   */
  static Dataset<Row> materialise(Dataset<Row> packed) {
    return packed.localCheckpoint(true);
  }

  /**
   * A Parquet table's wide columns {@code names} read packed into {@code values} (array of float)
   * and materialised ({@link #materialise}), with the bookkeeping columns of {@link
   * TableSource#read}. The file metadata is read as one whole struct and its fields taken only
   * after the checkpoint: a field of it in the wide plan sends Spark's metadata-column pruning
   * through every one of the columns, quadratically.
   */
  static Dataset<Row> readPackedParquet(
      org.apache.spark.sql.SparkSession spark, TableSource.Files files, List<String> names) {
    Dataset<Row> scan = files.readParquet(spark);
    java.util.Set<String> wide = new java.util.HashSet<>(names);
    List<Column> kept = new ArrayList<>();
    for (String c : scan.columns()) {
      if (!wide.contains(c)) {
        kept.add(TableValidator.column(c));
      }
    }
    kept.add(org.apache.spark.sql.functions.col("_metadata").as("_file_metadata"));
    kept.add(pack(names, f -> TableValidator.column(f).cast("float"), "values"));
    Dataset<Row> packed = materialise(scan.select(kept.toArray(Column[]::new)));
    return packed
        .withColumn(
            TableSource.SOURCE_FILE, org.apache.spark.sql.functions.col("_file_metadata.file_path"))
        .withColumn(
            TableSource.ROW_ORDER, org.apache.spark.sql.functions.col("_file_metadata.row_index"))
        .drop("_file_metadata");
  }

  /**
   * The columns {@code names} as one array column {@code as}, each element {@code element} of its
   * column.
   */
  static Column pack(List<String> names, Function<String, Column> element, String as) {
    return array(names.stream().map(element).toArray(Column[]::new)).as(as);
  }

  /**
   * The columns a CSV table's header packs into {@code values} ({@link CsvTable}): every column but
   * the ids, in header order.
   */
  static List<String> ofCsvHeader(List<String> header) {
    return header.stream().filter(c -> !CsvTable.isId(c)).toList();
  }

  /** The name of the packed column at a 1-based {@code position} (a column). */
  static Column nameAt(List<String> names, Column position) {
    return element_at(lit(names.toArray(String[]::new)), position.cast("int"));
  }

  /**
   * A null element, then a NaN or infinite one, each rejected with a message naming its column.
   * {@code values} is the packed array as float, the type the aligned cohort stores (a double
   * beyond float's range is infinite there, so it is checked after the cast).
   */
  static List<RowCheck> checks(Column values, List<String> names) {
    List<RowCheck> checks = new ArrayList<>();
    Column firstNull = ArrayScans.firstNull(values);
    checks.add(
        new RowCheck(
            firstNull.geq(0),
            RejectReason.NULL_VALUE,
            concat(lit("column '"), nameAt(names, firstNull.plus(1)), lit("' is null"))));
    Column firstNonFinite = ArrayScans.firstNonFiniteFloat(values);
    checks.add(
        new RowCheck(
            firstNonFinite.geq(0),
            RejectReason.NON_FINITE,
            concat(
                lit("column '"),
                nameAt(names, firstNonFinite.plus(1)),
                lit("' is NaN or infinite"))));
    return checks;
  }
}
