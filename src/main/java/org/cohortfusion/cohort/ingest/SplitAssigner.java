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

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.cohortfusion.config.SplitConfig;
import org.cohortfusion.stage.Columns;

/**
 * Subject-level splits. Hash mode maps xxhash64(seed:subject_id) to a uniform u in [0, 1): the same
 * ids and seed give the same splits on any cluster, in any order, at any size, and a subject never
 * changes split when others join a later snapshot (unless stratified, where ranks shift).
 * Stratified mode ranks subjects by u within each label and cuts the ranks at the fractions, so
 * every split gets the cohort's label mix exactly; folds interleave the same ranks. The ranks are
 * computed in {@value #BUCKETS} buckets of u per label, in parallel, not by one task per label.
 * Without folds no subject needs its rank: the cuts are values of u ({@link StratifiedCuts}), found
 * from counts per bucket of u and the u values of the buckets that hold a cut, before the subjects
 * are joined with anything, and the split is a projection. Both can ride on a job that counts the
 * subjects anyway: the counts always, the values of the buckets near the expected cuts ({@link
 * #inBand}) too, which are the cut buckets unless a label is small; others take one small job.
 */
public final class SplitAssigner {
  private static final double TWO_POW_63 = 9.223372036854775807E18;

  /** Buckets of u per label for the ranks: u is uniform, so they are even. */
  static final int BUCKETS = 64;

  /**
   * Buckets of u per label for stratified splits without folds: only the cut buckets' values are
   * read.
   */
  static final int SPLIT_BUCKETS = 1024;

  /**
   * At most this many (label, bucket) counts reach the driver; with more labels, stratified splits
   * are ranked.
   */
  static final int MAX_COUNTED_BUCKETS = 64 * SPLIT_BUCKETS;

  /**
   * Buckets either side of an expected cut whose u values are counted with the buckets: see {@link
   * #inBand}.
   */
  static final int BAND = 2;

  /**
   * At most this many u values of the band reach the driver (about 1% of the subjects: some 25
   * million subjects).
   */
  static final int MAX_BAND_VALUES = 1 << 18;

  /** Columns of {@link #withCutBucket}. */
  static final String U = "_u";

  static final String CUT_BUCKET = "_cut_bucket";

  private SplitAssigner() {}

  /**
   * subject_id and fold of every subject of {@code subjects} (columns subject_id and label) as
   * ingest assigns folds under {@code config} (splits.folds of 2 or more): how repeated k-fold
   * draws the folds of its other repeats.
   */
  public static Dataset<Row> folds(Dataset<Row> subjects, SplitConfig config) {
    if (config.folds() < 2) {
      throw new IllegalArgumentException(
          "Cannot assign folds: splits.folds is " + config.folds() + ", expected 2 or more");
    }
    return assign(subjects.select(col(Columns.SUBJECT_ID), col(Columns.LABEL)), config)
        .select(col(Columns.SUBJECT_ID), col(Columns.FOLD));
  }

  static Column uniform(long seed, String salt) {
    Column h = xxhash64(concat(lit(seed + ":" + salt + ":"), col(TableValidator.ID)));
    // Clear the sign bit: u in [0, 1).
    return h.bitwiseAND(lit(Long.MAX_VALUE)).cast("double").divide(lit(TWO_POW_63));
  }

  /**
   * Adds split (unless taken from the subjects table) and fold columns. Expects a label column.
   * Stratified hash splits without folds are cut by {@link #stratifiedCuts}, found here.
   */
  static Dataset<Row> assign(Dataset<Row> subjects, SplitConfig config) {
    return assign(subjects, config, stratifiedCuts(subjects, config).orElse(null));
  }

  /**
   * As {@link #assign(Dataset, SplitConfig)}, with the cut points found beforehand ({@code cuts},
   * null for none: stratified splits are then ranked subject by subject).
   */
  static Dataset<Row> assign(Dataset<Row> subjects, SplitConfig config, StratifiedCuts cuts) {
    Dataset<Row> out = subjects.withColumn("_u", uniform(config.seed(), "split"));
    if (cuts != null
        && config.mode() == SplitConfig.Mode.HASH
        && config.stratify()
        && config.folds() == 0) {
      return out.withColumn(Columns.SPLIT, cuts.split(col(Columns.LABEL), col("_u")))
          .withColumn(Columns.FOLD, lit(null).cast("int"))
          .drop("_u");
    }
    boolean needRank = config.stratify() || config.folds() > 0;
    if (needRank) {
      out = withRankInLabel(out);
    }
    if (config.mode() == SplitConfig.Mode.HASH) {
      // Stratified: position within the label, (rank + 0.5) / n, so small strata still split by the
      // fractions.
      double t = config.train();
      double v = config.train() + config.validation();
      out =
          out.withColumn(
              Columns.SPLIT,
              config.stratify()
                  ? splitOfRank(col("_rank"), col("_n"), t, v)
                  : splitOf(col("_u"), t, v));
    }
    Column fold =
        config.folds() > 0
            ? (config.stratify()
                    ? col("_rank").mod(config.folds())
                    : floor(uniform(config.seed(), "fold").multiply(config.folds())))
                .cast("int")
            : lit(null).cast("int");
    out = out.withColumn(Columns.FOLD, fold);
    return needRank ? out.drop("_u", "_rank", "_n") : out.drop("_u");
  }

  private static Column splitOf(Column position, double train, double trainAndValidation) {
    return when(position.lt(train), lit(Columns.Splits.TRAIN))
        .when(position.lt(trainAndValidation), lit(Columns.Splits.VALIDATION))
        .otherwise(lit(Columns.Splits.TEST));
  }

  /**
   * The split of the subject at {@code rank} (0-based) of a label with {@code n} subjects: (rank +
   * 0.5) / n against the fractions.
   */
  private static Column splitOfRank(
      Column rank, Column n, double train, double trainAndValidation) {
    return splitOf(rank.plus(0.5).divide(n), train, trainAndValidation);
  }

  /**
   * The buckets of u per label: _bucket_label, _bucket_index, _count (subjects in the bucket),
   * _offset (subjects of the label in lower buckets) and _n (subjects of the label). Small: labels
   * x buckets rows.
   */
  private static Dataset<Row> bucketOffsets(Dataset<Row> bucketed) {
    WindowSpec lowerBuckets =
        Window.partitionBy(col(Columns.LABEL))
            .orderBy(col("_bucket"))
            .rowsBetween(Window.unboundedPreceding(), -1);
    return bucketed
        .groupBy(col(Columns.LABEL), col("_bucket"))
        .count()
        .select(
            col(Columns.LABEL).as("_bucket_label"),
            col("_bucket").as("_bucket_index"),
            col("count").as("_count"),
            coalesce(sum(col("count")).over(lowerBuckets), lit(0L)).as("_offset"),
            sum(col("count")).over(Window.partitionBy(col(Columns.LABEL))).as("_n"));
  }

  private static Dataset<Row> withBucket(Dataset<Row> df, int buckets) {
    return df.withColumn("_bucket", bucketOf(col("_u"), buckets));
  }

  private static Column bucketOf(Column u, int buckets) {
    return least(floor(u.multiply(buckets)).cast("int"), lit(buckets - 1));
  }

  private static Dataset<Row> joinOffsets(Dataset<Row> bucketed, Dataset<Row> offsets) {
    return bucketed.join(
        broadcast(offsets),
        bucketed
            .col(Columns.LABEL)
            .eqNullSafe(offsets.col("_bucket_label"))
            .and(bucketed.col("_bucket").equalTo(offsets.col("_bucket_index"))));
  }

  /**
   * A subject's rank in its label: the bucket's offset plus its rank within the bucket by (u,
   * subject_id).
   */
  private static Column rankInLabel() {
    WindowSpec inBucket =
        Window.partitionBy(col(Columns.LABEL), col("_bucket"))
            .orderBy(col("_u"), col(TableValidator.ID));
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
   * Where stratified hash splits (without folds) cut each label's subjects, as values of u: a
   * subject of label l is train when u &lt; {@code below[l][0]}, validation when u &lt; {@code
   * below[l][1]}, test otherwise. That equals cutting the label's ranks by (u, subject_id) as
   * {@link #splitOfRank} does, because no two subjects at a cut share their u (else there are no
   * cuts). Keys: label index, null for unlabeled subjects.
   */
  static final class StratifiedCuts {
    private final Map<Integer, double[]> below;

    StratifiedCuts(Map<Integer, double[]> below) {
      this.below = below;
    }

    /** The split of a subject, as a projection: no join, no shuffle. */
    Column split(Column label, Column u) {
      Column split = null;
      for (Map.Entry<Integer, double[]> e : below.entrySet()) {
        Column of = splitOf(u, e.getValue()[0], e.getValue()[1]);
        Column stratum = e.getKey() == null ? label.isNull() : label.equalTo(lit(e.getKey()));
        split = split == null ? when(stratum, of) : split.when(stratum, of);
      }
      return split == null ? lit(null).cast("string") : split;
    }

    Map<Integer, double[]> below() {
      return below;
    }

    /**
     * Whether both cut every stratum at the same values of u: then they split every subject alike.
     */
    boolean sameAs(StratifiedCuts other) {
      return below.size() == other.below.size()
          && below.entrySet().stream()
              .allMatch(
                  e ->
                      other.below.containsKey(e.getKey())
                          && java.util.Arrays.equals(e.getValue(), other.below.get(e.getKey())));
    }
  }

  /** A label's stratum and a bucket of u: where one of its cuts falls. */
  record CutBucket(Integer label, int bucket) {}

  /**
   * Whether {@code config} asks for splits cut at values of u: stratified hash splits without
   * folds.
   */
  static boolean cutsWanted(SplitConfig config) {
    return config.mode() == SplitConfig.Mode.HASH && config.stratify() && config.folds() == 0;
  }

  /**
   * The bucket of u a subject (column subject_id) is counted in for {@link #stratifiedCuts(Dataset,
   * SplitConfig, Map, Map)}.
   */
  static Column cutBucket(SplitConfig config) {
    return bucketOf(uniform(config.seed(), "split"), SPLIT_BUCKETS);
  }

  /**
   * Columns {@value #U} and {@value #CUT_BUCKET}: a subject's u and its {@link #cutBucket},
   * computed once.
   */
  static Dataset<Row> withCutBucket(Dataset<Row> subjects, SplitConfig config) {
    return subjects
        .withColumn(U, uniform(config.seed(), "split"))
        .withColumn(CUT_BUCKET, bucketOf(col(U), SPLIT_BUCKETS));
  }

  /**
   * Whether a bucket of u lies within {@value #BAND} buckets of where a cut is expected (u at the
   * fraction): a label of n subjects has its cut there unless n is small (its position in u varies
   * by about sqrt(f (1 - f) / n)). The u values of these buckets, about 1% of the subjects, can be
   * counted by the same job as the buckets, and then the cuts need no job of their own.
   */
  static Column inBand(Column bucket, SplitConfig config) {
    Column in = null;
    for (double fraction : new double[] {config.train(), config.train() + config.validation()}) {
      int center = Math.min((int) Math.floor(fraction * SPLIT_BUCKETS), SPLIT_BUCKETS - 1);
      Column near = bucket.between(center - BAND, center + BAND);
      in = in == null ? near : in.or(near);
    }
    return in;
  }

  /**
   * The cut points of {@code subjects} (columns subject_id and label, a class index) when {@code
   * config} asks for them ({@link #cutsWanted}); empty otherwise, with more than 64 labels (ranks
   * are then used), and in the (astronomically rare) case that two subjects at a cut share their u,
   * where only ranks by subject_id can tell them apart. Two small jobs: subjects counted per label
   * and {@link #cutBucket} (at most {@value #MAX_COUNTED_BUCKETS} rows), then the one of {@link
   * #stratifiedCuts(Dataset, SplitConfig, Map, Map)}. Meant for a cached table: it is read twice.
   */
  static Optional<StratifiedCuts> stratifiedCuts(Dataset<Row> subjects, SplitConfig config) {
    if (!cutsWanted(config)) {
      return Optional.empty();
    }
    Map<Integer, long[]> counts = new HashMap<>();
    for (Row r :
        subjects
            .groupBy(col(Columns.LABEL), cutBucket(config))
            .count()
            .limit(MAX_COUNTED_BUCKETS + 1)
            .collectAsList()) {
      counts
              .computeIfAbsent(r.isNullAt(0) ? null : r.getInt(0), l -> new long[SPLIT_BUCKETS])[
              r.getInt(1)] =
          r.getLong(2);
    }
    return stratifiedCuts(subjects, config, counts, Map.of());
  }

  /**
   * The cut points from the {@code counts} per label (class index) and bucket of u, and the sorted
   * u values of any buckets already {@code known} (every subject of the bucket, see {@link
   * #inBand}): one small job collects the u values of the other buckets that hold a cut (at most
   * two per label, each about 1/{@value #SPLIT_BUCKETS} of it), none if all are known. Empty in the
   * cases {@link #stratifiedCuts(Dataset, SplitConfig)} names.
   */
  static Optional<StratifiedCuts> stratifiedCuts(
      Dataset<Row> subjects,
      SplitConfig config,
      Map<Integer, long[]> counts,
      Map<CutBucket, double[]> known) {
    if (!cutsWanted(config) || counts.size() * (long) SPLIT_BUCKETS > MAX_COUNTED_BUCKETS) {
      return Optional.empty(); // more labels than cut points are worth: rank instead
    }
    double train = config.train();
    double trainAndValidation = config.train() + config.validation();
    java.util.Set<CutBucket> cutBuckets = new java.util.LinkedHashSet<>();
    counts.forEach(
        (label, perBucket) -> {
          for (long k : cutRanks(perBucket, train, trainAndValidation)) {
            locate(perBucket, k).ifPresent(b -> cutBuckets.add(new CutBucket(label, b)));
          }
        });
    Map<CutBucket, double[]> values = new HashMap<>();
    for (CutBucket c : cutBuckets) {
      if (known.containsKey(c)) {
        values.put(c, known.get(c));
      }
    }
    cutBuckets.removeAll(values.keySet());
    if (!cutBuckets.isEmpty()) {
      Dataset<Row> bucketed =
          withBucket(subjects.withColumn("_u", uniform(config.seed(), "split")), SPLIT_BUCKETS);
      Column inCut =
          cutBuckets.stream()
              .map(
                  c ->
                      (c.label() == null
                              ? col(Columns.LABEL).isNull()
                              : col(Columns.LABEL).equalTo(lit(c.label())))
                          .and(col("_bucket").equalTo(c.bucket())))
              .reduce(Column::or)
              .orElseThrow();
      Map<CutBucket, List<Double>> found = new HashMap<>();
      for (Row r :
          bucketed
              .filter(inCut)
              .select(col(Columns.LABEL), col("_bucket"), col("_u"))
              .collectAsList()) {
        found
            .computeIfAbsent(
                new CutBucket(r.isNullAt(0) ? null : r.getInt(0), r.getInt(1)),
                c -> new ArrayList<>())
            .add(r.getDouble(2));
      }
      found.forEach(
          (c, us) ->
              values.put(c, us.stream().mapToDouble(Double::doubleValue).sorted().toArray()));
    }
    return cutsFrom(counts, values, train, trainAndValidation);
  }

  /**
   * The cuts from the bucket counts per label and the sorted u values of each cut bucket; empty
   * when a cut falls between two equal values of u.
   */
  static Optional<StratifiedCuts> cutsFrom(
      Map<Integer, long[]> counts,
      Map<CutBucket, double[]> sortedValues,
      double train,
      double trainAndValidation) {
    Map<Integer, double[]> below = new HashMap<>();
    for (Map.Entry<Integer, long[]> e : counts.entrySet()) {
      long[] perBucket = e.getValue();
      long[] ranks = cutRanks(perBucket, train, trainAndValidation);
      double[] u = new double[2];
      for (int i = 0; i < 2; i++) {
        Optional<Integer> bucket = locate(perBucket, ranks[i]);
        if (bucket.isEmpty()) {
          u[i] = ranks[i] == 0 ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
          continue;
        }
        double[] sorted = sortedValues.get(new CutBucket(e.getKey(), bucket.get()));
        int at = (int) (ranks[i] - offset(perBucket, bucket.get()));
        if (sorted == null || sorted.length != perBucket[bucket.get()]) {
          throw new IllegalStateException(
              "Cannot cut the splits of label "
                  + e.getKey()
                  + ": bucket "
                  + bucket.get()
                  + " has "
                  + perBucket[bucket.get()]
                  + " subjects but "
                  + (sorted == null ? 0 : sorted.length)
                  + " values of u");
        }
        if (at > 0 && sorted[at - 1] == sorted[at]) {
          return Optional.empty();
        }
        u[i] = sorted[at];
      }
      below.put(e.getKey(), u);
    }
    return Optional.of(new StratifiedCuts(below));
  }

  /**
   * The number of a label's subjects in train, and in train or validation: the ranks r (0-based, of
   * n) with (r + 0.5) / n below the fraction, computed as {@link #splitOfRank} computes it.
   */
  static long[] cutRanks(long[] perBucket, double train, double trainAndValidation) {
    long n = java.util.Arrays.stream(perBucket).sum();
    return new long[] {ranksBelow(n, train), ranksBelow(n, trainAndValidation)};
  }

  private static long ranksBelow(long n, double fraction) {
    long k = Math.max(0, Math.min(n, (long) Math.ceil(fraction * n - 0.5)));
    while (k > 0 && !((k - 1 + 0.5) / n < fraction)) {
      k--;
    }
    while (k < n && (k + 0.5) / n < fraction) {
      k++;
    }
    return k;
  }

  /**
   * The bucket that holds rank {@code k} of a label, empty when k is 0 or n (no subject sits at the
   * cut).
   */
  private static Optional<Integer> locate(long[] perBucket, long k) {
    long seen = 0;
    for (int b = 0; b < perBucket.length; b++) {
      if (k > 0 && k < seen + perBucket[b] && k >= seen) {
        return Optional.of(b);
      }
      seen += perBucket[b];
    }
    return Optional.empty();
  }

  private static long offset(long[] perBucket, int bucket) {
    long seen = 0;
    for (int b = 0; b < bucket; b++) {
      seen += perBucket[b];
    }
    return seen;
  }
}
