package org.cohortfusion.train;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.bench.SyntheticEmbeddings;
import org.cohortfusion.config.ConfigException;
import org.cohortfusion.config.TrainConfig;
import org.cohortfusion.spark.MinibatchShards;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train.shard-by = group}: every shard holds one group's subjects, and the groups together
 * hold the train split's labeled rows once each.
 *
 * <p>The oracle: the group of each row is "with-imaging" or "without-imaging" by its own imaging
 * presence, so a shard's imaging presence column must be constant and match its group, and the row
 * counts per group come from a Spark SQL count of the table, not from the shards.
 */
class TrainShardsTest {
  private static final int IMAGING = 2; // SyntheticEmbeddings.NAMES: clinical, labs, imaging

  private final SparkSession spark = SparkTestSession.get();
  @TempDir Path dir;

  /** Synthetic embeddings whose group follows imaging presence; the spec is written beside it. */
  static EmbeddingsSpec groupedByImaging(SparkSession spark, String out, int n) {
    String raw = out + "-raw";
    EmbeddingsSpec emb =
        SyntheticEmbeddings.write(spark, raw, n, new double[] {0.1, 0.2, 0.4}, 0.0, 5);
    EmbeddingsData.table(spark, raw)
        .withColumn(
            Columns.GROUP,
            when(col(Columns.presence("imaging")), lit("with-imaging"))
                .otherwise(lit("without-imaging")))
        .write()
        .parquet(out + "/" + EmbeddingsSpec.TABLE);
    emb.write(spark.sparkContext().hadoopConfiguration(), out);
    return emb;
  }

  private MinibatchShards shards(
      TrainShards shards, Dataset<Row> table, EmbeddingsSpec emb, String name) {
    return shards.of(
        name, table, rows -> EmbeddingsData.batches(rows, emb, Columns.Splits.TRAIN, 32));
  }

  private static List<float[]> imagingPresence(List<String> paths) throws IOException {
    List<float[]> out = new ArrayList<>();
    for (String p : paths) {
      try (InputStream in = Files.newInputStream(Path.of(java.net.URI.create(p).getPath()))) {
        Batch b = BatchCodec.ARROW.read(in, 2);
        float[] has = new float[b.size()];
        for (int i = 0; i < b.size(); i++) {
          has[i] = b.presence()[i * 3 + IMAGING];
        }
        out.add(has);
      }
    }
    return out;
  }

  @Test
  void everyShardHoldsOneGroupAndTheGroupsHoldTheTrainSplit() throws IOException {
    String out = dir.resolve("emb").toString();
    EmbeddingsSpec emb = groupedByImaging(spark, out, 600);
    Dataset<Row> table = EmbeddingsData.table(spark, out);
    TrainConfig grouped = TrainConfig.defaults().withShardBy(TrainConfig.ShardBy.GROUP);
    List<String> log = new ArrayList<>();
    String dirOfShards;
    try (TrainShards ts =
        new TrainShards(spark, grouped, dir.resolve("shards").toString(), log::add)) {
      MinibatchShards s = shards(ts, table, emb, "train-all");
      dirOfShards = s.dir();
      assertEquals(List.of("with-imaging", "without-imaging"), s.groups());
      Dataset<Row> train = EmbeddingsData.labeled(table, Columns.Splits.TRAIN);
      for (int g = 0; g < 2; g++) {
        boolean with = g == 0;
        long expected = train.where(col(Columns.presence("imaging")).equalTo(with)).count();
        List<float[]> presence = imagingPresence(s.pathsByGroup().get(g));
        assertTrue(presence.size() >= 2, "group " + g + " has shards: " + presence.size());
        long rows = 0;
        for (float[] shard : presence) {
          for (float has : shard) {
            assertEquals(with ? 1f : 0f, has, "a row of group " + s.groups().get(g));
          }
          rows += shard.length;
        }
        assertEquals(expected, rows, "rows of group " + s.groups().get(g));
      }
      assertEquals(train.count(), s.examples());
      assertTrue(
          log.stream().anyMatch(l -> l.contains("2 groups in the train split")), log::toString);
    }
    assertFalse(Files.exists(Path.of(java.net.URI.create(dirOfShards).getPath())), "deleted");
  }

  /** The control: by subject, shards mix the two groups (so the test above can fail). */
  @Test
  void bySubjectTheShardsMixGroups() throws IOException {
    String out = dir.resolve("emb").toString();
    EmbeddingsSpec emb = groupedByImaging(spark, out, 600);
    Dataset<Row> table = EmbeddingsData.table(spark, out);
    try (TrainShards ts =
        new TrainShards(spark, TrainConfig.defaults(), dir.resolve("shards").toString(), l -> {})) {
      MinibatchShards s = shards(ts, table, emb, "train-all");
      assertEquals(List.of(), s.groups());
      boolean mixed = false;
      for (float[] shard : imagingPresence(s.paths())) {
        float first = shard[0];
        for (float has : shard) {
          mixed |= has != first;
        }
      }
      assertTrue(mixed, "some shard mixes subjects with and without imaging");
    }
  }

  @Test
  void aTrainSplitWithoutGroupsOrWithTooManyIsRefusedWithTheReason() {
    String out = dir.resolve("raw").toString();
    SyntheticEmbeddings.write(spark, out, 200, new double[] {0.1, 0.2, 0.4}, 0.0, 5);
    Dataset<Row> table = EmbeddingsData.table(spark, out);
    ConfigException none =
        assertThrows(ConfigException.class, () -> TrainShards.trainGroups(table));
    assertTrue(
        none.getMessage().contains("no subject of the train split has a group"), none::getMessage);
    ConfigException absent =
        assertThrows(
            ConfigException.class, () -> TrainShards.trainGroups(table.drop(Columns.GROUP)));
    assertTrue(absent.getMessage().contains("has no group column"), absent::getMessage);
    ConfigException many =
        assertThrows(
            ConfigException.class,
            () ->
                TrainShards.trainGroups(table.withColumn(Columns.GROUP, col(Columns.SUBJECT_ID))));
    assertTrue(many.getMessage().contains("more than 64 groups"), many::getMessage);
  }
}
