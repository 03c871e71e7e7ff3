package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.cohortfusion.config.SplitConfig;

/**
 * Subject-level splits. Hash mode maps xxhash64(seed:subject_id) to a uniform u in [0, 1): the same
 * ids and seed give the same splits on any cluster, in any order, at any size, and a subject
 * never changes split when others join a later snapshot (unless stratified, where ranks shift).
 * Stratified mode ranks subjects by u within each label and cuts the ranks at the fractions, so
 * every split gets the cohort's label mix exactly; folds interleave the same ranks. The ranks are
 * computed in {@value #BUCKETS} buckets of u per label, in parallel, not by one task per label.
 */
final class SplitAssigner {
  private static final double TWO_POW_63 = 9.223372036854775807E18;
  /** Buckets of u per label for the ranks: u is uniform, so they are even. */
  static final int BUCKETS = 64;

  private SplitAssigner() {}

  static Column uniform(long seed, String salt) {
    Column h = xxhash64(concat(lit(seed + ":" + salt + ":"), col(TableValidator.ID)));
    // Clear the sign bit: u in [0, 1).
    return h.bitwiseAND(lit(Long.MAX_VALUE)).cast("double").divide(lit(TWO_POW_63));
  }

  /** Adds split (unless taken from the subjects table) and fold columns. Expects a label column. */
  static Dataset<Row> assign(Dataset<Row> subjects, SplitConfig config) {
    Dataset<Row> out = subjects.withColumn("_u", uniform(config.seed(), "split"));
    boolean needRank = config.stratify() || config.folds() > 0;
    if (needRank) {
      out = withRankInLabel(out);
    }
    if (config.mode() == SplitConfig.Mode.HASH) {
      // Stratified: position within the label, (rank + 0.5) / n, so small strata still split by the fractions.
      Column r = config.stratify() ? col("_rank").plus(0.5).divide(col("_n")) : col("_u");
      double t = config.train();
      double v = config.train() + config.validation();
      out = out.withColumn("split", when(r.lt(t), lit("train")).when(r.lt(v), lit("validation")).otherwise(lit("test")));
    }
    Column fold = config.folds() > 0
        ? (config.stratify() ? col("_rank").mod(config.folds()) : floor(uniform(config.seed(), "fold").multiply(config.folds())))
            .cast("int")
        : lit(null).cast("int");
    out = out.withColumn("fold", fold);
    return needRank ? out.drop("_u", "_rank", "_n") : out.drop("_u");
  }

  /**
   * Adds _rank, the 0-based rank of each subject within its label by (u, subject_id), and _n, the
   * label's size. A window over a whole label would sort it in one task (all negatives of a binary
   * label in one partition). Instead u is cut into buckets: the rank is the size of the label's
   * lower buckets (from a small aggregate, broadcast) plus the rank within the bucket (a window per
   * label and bucket, spread over every task).
   */
  private static Dataset<Row> withRankInLabel(Dataset<Row> df) {
    Dataset<Row> bucketed = df.withColumn("_bucket", least(floor(col("_u").multiply(BUCKETS)).cast("int"), lit(BUCKETS - 1)));
    WindowSpec lowerBuckets = Window.partitionBy(col("label")).orderBy(col("_bucket"))
        .rowsBetween(Window.unboundedPreceding(), -1);
    Dataset<Row> offsets = bucketed.groupBy(col("label"), col("_bucket")).count()
        .select(col("label").as("_offset_label"), col("_bucket").as("_offset_bucket"),
            coalesce(sum(col("count")).over(lowerBuckets), lit(0L)).as("_offset"),
            sum(col("count")).over(Window.partitionBy(col("label"))).as("_n"));
    WindowSpec inBucket = Window.partitionBy(col("label"), col("_bucket")).orderBy(col("_u"), col(TableValidator.ID));
    return bucketed.join(broadcast(offsets),
            bucketed.col("label").eqNullSafe(offsets.col("_offset_label")).and(bucketed.col("_bucket").equalTo(offsets.col("_offset_bucket"))))
        .withColumn("_rank", col("_offset").plus(row_number().over(inBucket)).minus(1))
        .drop("_bucket", "_offset_label", "_offset_bucket", "_offset");
  }
}
