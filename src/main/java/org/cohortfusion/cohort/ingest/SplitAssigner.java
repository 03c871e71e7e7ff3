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
 * computed in {@value #BUCKETS} buckets of u per label, in parallel, not by one task per label; without
 * folds only the subjects near a cut point need their rank at all.
 */
final class SplitAssigner {
  private static final double TWO_POW_63 = 9.223372036854775807E18;
  /** Buckets of u per label for the ranks: u is uniform, so they are even. */
  static final int BUCKETS = 64;
  /** Buckets of u per label for stratified splits without folds, where only cut-point buckets are ranked. */
  static final int SPLIT_BUCKETS = 1024;

  private SplitAssigner() {}

  static Column uniform(long seed, String salt) {
    Column h = xxhash64(concat(lit(seed + ":" + salt + ":"), col(TableValidator.ID)));
    // Clear the sign bit: u in [0, 1).
    return h.bitwiseAND(lit(Long.MAX_VALUE)).cast("double").divide(lit(TWO_POW_63));
  }

  /** Adds split (unless taken from the subjects table) and fold columns. Expects a label column. */
  static Dataset<Row> assign(Dataset<Row> subjects, SplitConfig config) {
    Dataset<Row> out = subjects.withColumn("_u", uniform(config.seed(), "split"));
    if (config.mode() == SplitConfig.Mode.HASH && config.stratify() && config.folds() == 0) {
      return withStratifiedSplit(out, config.train(), config.train() + config.validation())
          .withColumn("fold", lit(null).cast("int")).drop("_u");
    }
    boolean needRank = config.stratify() || config.folds() > 0;
    if (needRank) {
      out = withRankInLabel(out);
    }
    if (config.mode() == SplitConfig.Mode.HASH) {
      // Stratified: position within the label, (rank + 0.5) / n, so small strata still split by the fractions.
      double t = config.train();
      double v = config.train() + config.validation();
      out = out.withColumn("split", config.stratify() ? splitOfRank(col("_rank"), col("_n"), t, v) : splitOf(col("_u"), t, v));
    }
    Column fold = config.folds() > 0
        ? (config.stratify() ? col("_rank").mod(config.folds()) : floor(uniform(config.seed(), "fold").multiply(config.folds())))
            .cast("int")
        : lit(null).cast("int");
    out = out.withColumn("fold", fold);
    return needRank ? out.drop("_u", "_rank", "_n") : out.drop("_u");
  }

  private static Column splitOf(Column position, double train, double trainAndValidation) {
    return when(position.lt(train), lit("train")).when(position.lt(trainAndValidation), lit("validation")).otherwise(lit("test"));
  }

  /** The split of the subject at {@code rank} (0-based) of a label with {@code n} subjects: (rank + 0.5) / n against the fractions. */
  private static Column splitOfRank(Column rank, Column n, double train, double trainAndValidation) {
    return splitOf(rank.plus(0.5).divide(n), train, trainAndValidation);
  }

  /**
   * The buckets of u per label: _bucket_label, _bucket_index, _count (subjects in the bucket), _offset
   * (subjects of the label in lower buckets) and _n (subjects of the label). Small: labels x buckets rows.
   */
  private static Dataset<Row> bucketOffsets(Dataset<Row> bucketed) {
    WindowSpec lowerBuckets = Window.partitionBy(col("label")).orderBy(col("_bucket"))
        .rowsBetween(Window.unboundedPreceding(), -1);
    return bucketed.groupBy(col("label"), col("_bucket")).count()
        .select(col("label").as("_bucket_label"), col("_bucket").as("_bucket_index"), col("count").as("_count"),
            coalesce(sum(col("count")).over(lowerBuckets), lit(0L)).as("_offset"),
            sum(col("count")).over(Window.partitionBy(col("label"))).as("_n"));
  }

  private static Dataset<Row> withBucket(Dataset<Row> df, int buckets) {
    return df.withColumn("_bucket", least(floor(col("_u").multiply(buckets)).cast("int"), lit(buckets - 1)));
  }

  private static Dataset<Row> joinOffsets(Dataset<Row> bucketed, Dataset<Row> offsets) {
    return bucketed.join(broadcast(offsets),
        bucketed.col("label").eqNullSafe(offsets.col("_bucket_label")).and(bucketed.col("_bucket").equalTo(offsets.col("_bucket_index"))));
  }

  /** A subject's rank in its label: the bucket's offset plus its rank within the bucket by (u, subject_id). */
  private static Column rankInLabel() {
    WindowSpec inBucket = Window.partitionBy(col("label"), col("_bucket")).orderBy(col("_u"), col(TableValidator.ID));
    return col("_offset").plus(row_number().over(inBucket)).minus(1);
  }

  /**
   * Adds _rank, the 0-based rank of each subject within its label by (u, subject_id), and _n, the
   * label's size. A window over a whole label would sort it in one task (all negatives of a binary
   * label in one partition). Instead u is cut into buckets: the rank is the size of the label's
   * lower buckets (from a small aggregate, broadcast) plus the rank within the bucket (a window per
   * label and bucket, spread over every task).
   */
  private static Dataset<Row> withRankInLabel(Dataset<Row> df) {
    Dataset<Row> bucketed = withBucket(df, BUCKETS);
    return joinOffsets(bucketed, bucketOffsets(bucketed))
        .withColumn("_rank", rankInLabel())
        .drop("_bucket", "_bucket_label", "_bucket_index", "_count", "_offset");
  }

  /**
   * Stratified splits (no folds) without ranking every subject. The ranks of a bucket of u are
   * [offset, offset + count): when the first and the last fall into the same split, so does every
   * subject of the bucket, which is then assigned from the small, broadcast table of buckets. Only
   * the subjects of a bucket that holds a cut point (at most two per label, each about 1/{@value
   * #SPLIT_BUCKETS} of the label) are ranked, and their ranks are broadcast back. The splits equal
   * those of {@link #withRankInLabel}; the subjects themselves are never shuffled, so they keep the
   * partitioning by subject_id that the joins with the modalities need.
   */
  private static Dataset<Row> withStratifiedSplit(Dataset<Row> df, double train, double trainAndValidation) {
    Dataset<Row> bucketed = withBucket(df, SPLIT_BUCKETS);
    Dataset<Row> offsets = bucketOffsets(bucketed)
        .withColumn("_first_split", splitOfRank(col("_offset"), col("_n"), train, trainAndValidation))
        .withColumn("_last_split", splitOfRank(col("_offset").plus(col("_count")).minus(1), col("_n"), train, trainAndValidation));
    Dataset<Row> located = joinOffsets(bucketed, offsets);
    Column uniform = col("_first_split").equalTo(col("_last_split"));
    Dataset<Row> boundaryRanks = located.filter(uniform.unary_$bang())
        .select(col(TableValidator.ID).as("_ranked_id"), rankInLabel().as("_rank"));
    return located.join(broadcast(boundaryRanks), located.col(TableValidator.ID).equalTo(boundaryRanks.col("_ranked_id")), "left")
        .withColumn("split", when(uniform, col("_first_split")).otherwise(splitOfRank(col("_rank"), col("_n"), train, trainAndValidation)))
        .drop("_bucket", "_bucket_label", "_bucket_index", "_count", "_offset", "_n", "_first_split", "_last_split", "_ranked_id", "_rank");
  }
}
