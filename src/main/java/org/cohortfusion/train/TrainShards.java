package org.cohortfusion.train;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.ConfigException;
import org.cohortfusion.config.TrainConfig;
import org.cohortfusion.spark.MinibatchShards;
import org.cohortfusion.stage.Columns;

/**
 * Spark mode's training data: the train split as minibatch shards, written once per row selection
 * (all rows for a fusion model, the rows with its modality for a unimodal one) and deleted by
 * {@link #close()} when the run ends, also when it fails.
 *
 * <p>Under {@code train.shard-by = subject} the shards follow the subject-hash order of the batches
 * given. Under {@code group} each group of the train split (the {@link Columns#GROUP} column, e.g.
 * a recruiting site) is written on its own, so that a shard never mixes groups and a worker can
 * keep whole groups ({@link PresenceWeightedAveraging#byGroup}).
 */
final class TrainShards implements AutoCloseable {
  /** How a group without a value (no group in the subjects table for that subject) is named. */
  static final String NO_GROUP = "(no group)";

  private final SparkSession spark;
  private final TrainConfig train;
  private final String root;
  private final Consumer<String> progress;
  private final Map<String, MinibatchShards> written = new LinkedHashMap<>();

  TrainShards(SparkSession spark, TrainConfig train, String root, Consumer<String> progress) {
    this.spark = spark;
    this.train = train;
    this.root = root;
    this.progress = progress;
  }

  /**
   * The shards of {@code rows}' train split, written on first use under {@code key}.
   *
   * @param rows the embeddings table or the aligned cohort, with {@link Columns#SPLIT}
   * @param batches the train split's minibatches of the rows given (all rows, or one group's)
   */
  MinibatchShards of(
      String key, Dataset<Row> rows, Function<Dataset<Row>, JavaRDD<Batch>> batches) {
    return written.computeIfAbsent(key, k -> write(k, rows, batches));
  }

  private MinibatchShards write(
      String name, Dataset<Row> rows, Function<Dataset<Row>, JavaRDD<Batch>> batches) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    BatchCodec codec = BatchCodec.of(train.shardFormat());
    if (train.shardBy() != TrainConfig.ShardBy.GROUP) {
      return BatchShards.write(jsc, batches.apply(rows), root, name, codec);
    }
    List<String> values = trainGroups(rows);
    List<String> names = values.stream().map(v -> v == null ? NO_GROUP : v).toList();
    progress.accept(
        "[train] train.shard-by = group: "
            + values.size()
            + " groups in the train split, each written as shards of its own");
    return BatchShards.writeGroups(
        jsc, names, g -> batches.apply(rows.where(sameGroup(values.get(g)))), root, name, codec);
  }

  /** The distinct groups of the labeled train split, nulls first, then in sorted order. */
  static List<String> trainGroups(Dataset<Row> rows) {
    if (!List.of(rows.columns()).contains(Columns.GROUP)) {
      throw new ConfigException(
          "Cannot shard the train split by group: its table has no "
              + Columns.GROUP
              + " column (train.shard-by = group needs a subjects table with one, ingested and"
              + " extracted again)");
    }
    List<Row> distinct =
        EmbeddingsData.labeled(rows, Columns.Splits.TRAIN)
            .select(col(Columns.GROUP).cast("string"))
            .distinct()
            .orderBy(col(Columns.GROUP).asc_nulls_first())
            .limit(TrainConfig.MAX_SHARD_GROUPS + 1)
            .collectAsList();
    if (distinct.size() > TrainConfig.MAX_SHARD_GROUPS) {
      throw new ConfigException(
          "Cannot shard the train split by group: it has more than "
              + TrainConfig.MAX_SHARD_GROUPS
              + " groups (train.shard-by = group is for a few groups such as sites; each group's"
              + " shards are written by a Spark job of their own)");
    }
    List<String> out = new ArrayList<>();
    distinct.forEach(r -> out.add(r.isNullAt(0) ? null : r.getString(0)));
    if (out.stream().allMatch(v -> v == null)) {
      throw new ConfigException(
          "Cannot shard the train split by group: no subject of the train split has a "
              + Columns.GROUP
              + " (the subjects table's group column is absent or empty)");
    }
    return out;
  }

  private static Column sameGroup(String value) {
    return value == null
        ? col(Columns.GROUP).isNull()
        : col(Columns.GROUP).cast("string").equalTo(value);
  }

  @Override
  public void close() {
    written.values().forEach(MinibatchShards::close);
  }
}
