package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lag;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.config.CheckPolicy;
import org.cohortfusion.config.DuplicatePolicy;

/**
 * A table after every row check: each row carries {@value #REASON} (null = accepted) and {@value
 * #MESSAGE}; {@code rows} holds at least every rejected row. Also carries the per-check policies of
 * the table.
 */
record CheckedTable(
    String name,
    String kind,
    String path,
    TableSource.Files files,
    Dataset<Row> rows,
    Map<RejectReason, CheckPolicy> policies,
    DuplicatePolicy duplicates) {

  static final String REASON = "_reason";
  static final String MESSAGE = "_message";
  private static final String DUPLICATE_FLAG = "_same_key_as_previous";

  static Column accepted() {
    return col(REASON).isNull();
  }

  /** See {@link #withPassedFlag}. */
  static final String PASSED = "_passed";

  /**
   * Marks all but one accepted row per key as DUPLICATE: the first in file order, or the latest by
   * a column. With policy error the duplicates are marked too, and the run stops once counted.
   *
   * <p>The window is partitioned by the key's first column (subject_id) alone and ordered by the
   * rest: a row is a duplicate when the row before it has the same key. One window group per
   * subject, not per (subject, time), matters for time series: Spark's window operator pays per
   * group, and most keys there have one row. The partitioning is also the one the join by
   * subject_id with the known subjects (rejects pass) needs: no extra shuffle. The aligned write
   * keeps the same rows without the window: {@link #firstAcceptedPerSubject}.
   */
  static Dataset<Row> markDuplicates(
      Dataset<Row> checked, List<String> key, DuplicatePolicy policy, String table) {
    Dataset<Row> df = withPassedFlag(checked);
    // Accepted rows sort first within a key, so an accepted row is a duplicate exactly when the
    // row before it has the same key (that row is then accepted too).
    List<Column> order = new ArrayList<>();
    for (String k : key.subList(1, key.size())) {
      order.add(TableValidator.column(k).asc_nulls_first());
    }
    order.addAll(keptFirst(df, policy, table));
    WindowSpec w =
        Window.partitionBy(TableValidator.column(key.get(0))).orderBy(order.toArray(Column[]::new));
    Column sameKeyAsPrevious = lag(lit(1), 1).over(w).isNotNull();
    for (String k : key.subList(1, key.size())) {
      sameKeyAsPrevious =
          sameKeyAsPrevious.and(
              coalesce(
                  lag(TableValidator.column(k), 1).over(w).equalTo(TableValidator.column(k)),
                  lit(false)));
    }
    // One column of its own: used directly in both columns below, the window would be planned
    // twice.
    Column duplicate = col(REASON).isNull().and(col(DUPLICATE_FLAG));
    return df.withColumn(DUPLICATE_FLAG, sameKeyAsPrevious)
        .withColumn(
            MESSAGE, when(duplicate, lit(duplicateMessage(key, policy))).otherwise(col(MESSAGE)))
        .withColumn(
            REASON, when(duplicate, lit(RejectReason.DUPLICATE.name())).otherwise(col(REASON)))
        .drop(DUPLICATE_FLAG, PASSED);
  }

  /**
   * The accepted rows, one per subject_id: the very row {@link #markDuplicates} keeps (the first in
   * file order, or the latest by a column), found without its window. The rows are shuffled by
   * subject_id and sorted within each partition in the window's order, accepted rows first; a row
   * is kept when it is accepted and the first of its subject_id in that order. Spark's window
   * operator copies every row twice, into its buffer and out again, payload and all: about 4% of
   * the aligned write's CPU at 1M subjects (a profile of the write with the windows). The
   * partitioning and order are the ones the joins by subject_id that follow need, so they add no
   * shuffle or sort of their own.
   *
   * <p>Nothing here counts the rows left out: the caller tells duplicates from rows of unknown
   * subjects by counting (see {@link ModalityJoin}).
   */
  static Dataset<Row> firstAcceptedPerSubject(
      Dataset<Row> checked, DuplicatePolicy policy, String table) {
    Dataset<Row> df = withPassedFlag(checked);
    List<Column> order = new ArrayList<>();
    order.add(col(TableValidator.ID));
    order.addAll(keptFirst(df, policy, table));
    // Nondeterministic: Spark then evaluates it once per row, in the sorted order, and moves no
    // filter below it (a filter pushed below the sort would change which row comes first).
    org.apache.spark.sql.expressions.UserDefinedFunction firstOfKey =
        org.apache
            .spark
            .sql
            .functions
            .udf(new FirstOfKey(), org.apache.spark.sql.types.DataTypes.BooleanType)
            .asNondeterministic();
    return df.repartition(col(TableValidator.ID))
        .sortWithinPartitions(order.toArray(Column[]::new))
        .withColumn(FIRST_OF_KEY, firstOfKey.apply(col(TableValidator.ID).cast("binary")))
        .filter(col(FIRST_OF_KEY).and(col(PASSED).isNotNull()))
        .drop(FIRST_OF_KEY, PASSED);
  }

  /**
   * The order within a key that puts the row to keep first: accepted rows first, then (with
   * latest:&lt;column&gt;) that column descending, nulls last, then file and row.
   */
  private static List<Column> keptFirst(Dataset<Row> df, DuplicatePolicy policy, String table) {
    List<Column> order = new ArrayList<>();
    order.add(col(PASSED).asc_nulls_last());
    if (policy.mode() == DuplicatePolicy.Mode.LATEST) {
      String by = policy.orderColumn().orElseThrow();
      if (!TableValidator.has(df, by)) {
        throw new IngestException(
            "Cannot resolve duplicates of table '"
                + table
                + "': column '"
                + by
                + "' of duplicates = latest:"
                + by
                + " does not exist");
      }
      order.add(TableValidator.column(by).desc_nulls_last());
    }
    order.add(col(TableSource.SOURCE_FILE));
    order.add(col(TableSource.ROW_ORDER));
    return order;
  }

  private static final String FIRST_OF_KEY = "_first_of_key";

  /**
   * Whether a row's key differs from the previous row's in the task: true for the first row of each
   * key when the rows come sorted by key. Keys are compared as bytes, as Spark groups them. Holds
   * the previous key, so one instance serves one task: Spark deserializes the plan, and this with
   * it, per task.
   */
  private static final class FirstOfKey
      implements org.apache.spark.sql.api.java.UDF1<byte[], Boolean> {
    private static final long serialVersionUID = 1L;
    private transient byte[] previous;
    private transient boolean any;

    @Override
    public Boolean call(byte[] key) {
      boolean first = !any || !java.util.Arrays.equals(previous, key);
      if (first) {
        // A copy: the bytes given may be a buffer Spark reuses for the next row.
        previous = key == null ? null : key.clone();
      }
      any = true;
      return first;
    }
  }

  /**
   * Adds {@value #PASSED}: 1 when the row passed every check, else null; a plain column, so the
   * duplicate window sorts and counts by it without a projection of its own (which would copy every
   * row, payload and all). Kept as it is when already there.
   */
  static Dataset<Row> withPassedFlag(Dataset<Row> checked) {
    return TableValidator.has(checked, PASSED)
        ? checked
        : checked.withColumn(PASSED, when(col(REASON).isNull(), lit(1)));
  }

  /** The table's rows by reason as the rejects pass marks them (ACCEPTED for none), in one job. */
  Map<String, Long> countByReason() {
    Map<String, Long> byReason = new java.util.LinkedHashMap<>(Map.of("ACCEPTED", 0L));
    for (Row r : rows.groupBy(coalesce(col(REASON), lit("ACCEPTED"))).count().collectAsList()) {
      byReason.put(r.getString(0), r.getLong(1));
    }
    return byReason;
  }

  /** The reject message of a duplicate row. */
  static String duplicateMessage(List<String> key, DuplicatePolicy policy) {
    String how =
        policy.mode() == DuplicatePolicy.Mode.ERROR
            ? ""
            : " (kept by duplicates = " + policy.configName() + ")";
    return "another row with the same " + String.join(", ", key) + " was kept" + how;
  }
}
