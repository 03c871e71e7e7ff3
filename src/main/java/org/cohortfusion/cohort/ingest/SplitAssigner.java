package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
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
 * every split gets the cohort's label mix exactly; folds interleave the same ranks.
 */
final class SplitAssigner {
  private static final double TWO_POW_63 = 9.223372036854775807E18;

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
      WindowSpec byLabel = Window.partitionBy(col("label")).orderBy(col("_u"), col(TableValidator.ID));
      out = out.withColumn("_rank", row_number().over(byLabel).minus(1))
          .withColumn("_n", count(lit(1)).over(Window.partitionBy(col("label"))));
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
}
