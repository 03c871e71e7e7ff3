package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
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
 * #MESSAGE}. Also carries the per-check policies of the table.
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
  private static final String RANK = "_duplicate_rank";

  static Column accepted() {
    return col(REASON).isNull();
  }

  /**
   * Marks all but one accepted row per key as DUPLICATE: the first in file order, or the latest by
   * a column. With policy error the duplicates are marked too, and the run stops once counted.
   */
  static Dataset<Row> markDuplicates(Dataset<Row> df, List<String> key, DuplicatePolicy policy, String table) {
    // Accepted rows sort first, so an accepted row is a duplicate exactly when another accepted
    // row precedes it; partitioning by the key alone keeps the subject_id hash partitioning that
    // the join with the subjects already produced (no extra shuffle).
    List<Column> order = new ArrayList<>();
    order.add(col(REASON).isNull().desc());
    if (policy.mode() == DuplicatePolicy.Mode.LATEST) {
      String by = policy.orderColumn().orElseThrow();
      if (!TableValidator.has(df, by)) {
        throw new IngestException("Cannot resolve duplicates of table '" + table + "': column '" + by
            + "' of duplicates = latest:" + by + " does not exist");
      }
      order.add(col(by).desc_nulls_last());
    }
    order.add(col(TableSource.SOURCE_FILE));
    order.add(col(TableSource.ROW_ORDER));
    // A compound key (subject_id, time) is partitioned by subject_id alone, which the window
    // accepts and the per-subject grouping and alignment join then reuse: one shuffle, not two.
    Dataset<Row> input = key.size() > 1 && key.get(0).equals(TableValidator.ID) ? df.repartition(col(TableValidator.ID)) : df;
    WindowSpec w = Window.partitionBy(key.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new))
        .orderBy(order.toArray(Column[]::new));
    String keyText = String.join(", ", key);
    String how = policy.mode() == DuplicatePolicy.Mode.ERROR ? "" : " (kept by duplicates = " + policy.configName() + ")";
    // The rank is a column of its own, computed once: used directly in both columns below, the
    // window would be planned twice, with two sorts of the whole table.
    Column duplicate = col(REASON).isNull().and(col(RANK).gt(1));
    return input.withColumn(RANK, row_number().over(w))
        .withColumn(MESSAGE, when(duplicate, lit("another row with the same " + keyText + " was kept" + how)).otherwise(col(MESSAGE)))
        .withColumn(REASON, when(duplicate, lit(RejectReason.DUPLICATE.name())).otherwise(col(REASON)))
        .drop(RANK);
  }
}
