package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.bench.SyntheticEmbeddings;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.fusion.spec.FusionCompiler;
import org.cohortfusion.fusion.spec.FusionSpec;
import org.cohortfusion.multijvm.LocalClusterSession;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Presence-weighted averaging with its workers in executor JVMs of their own (the broadcast state,
 * the fit function, the shard loader and the results all cross a JVM boundary).
 *
 * <p>The oracle is the driver fitting each worker's shard alone from the same start with plain
 * {@code ComputationGraph.fit}: worker 0 never sees modality imaging, so after one round imaging's
 * parameters must equal worker 1's own fit, and every other parameter (clinical and labs, present
 * equally often in both workers, and the shared attention and head) the mean of the two fits.
 */
class PresenceWeightedAveragingMultiJvmTest {
  private static final int N = 24;
  static final EmbeddingsSpec EMB =
      new EmbeddingsSpec(
          List.of(
              new EmbeddingsSpec.Modality("clinical", 4, "a"),
              new EmbeddingsSpec.Modality("labs", 3, "b"),
              new EmbeddingsSpec.Modality("imaging", 2, "c")),
          List.of("no", "yes"),
          "cohort");

  private final SparkSession spark = LocalClusterSession.get();

  /** Masked attention over {@link #EMB}'s three modalities, projection 4, head [5]. */
  static FusionSpec attention() {
    return FusionSpec.all(
            PipelineConfigLoader.parse(
                    """
            subjects { path = s.csv }
            modalities { clinical { kind = tabular, path = c.csv } }
            output { dir = out }
            fusion { models { att { what = [clinical, labs, imaging], how = attention, projection = 4, head = [5] } } }
            """,
                    List.of())
                .fusion(),
            EMB)
        .get(0);
  }

  @TempDir Path dir;

  @Test
  void aModalityAWorkerNeverSawTakesTheOtherWorkersParameters() throws Exception {
    String w0 = shard("w0.bin", false, 1);
    String w1 = shard("w1.bin", true, 2);
    FusionCompiler.Compiled compiled = FusionCompiler.compile(attention(), EMB, new Adam(0.05), 11);
    ComputationGraph start = compiled.newGraph();
    BatchShards.Loader loader =
        new BatchShards.Loader(BatchCodec.ARROW, 2, new int[] {0, 1, 2}, 0.0, 11, 1);

    ComputationGraph alone0 = start.clone();
    alone0.fit(loader.load(source(w0)));
    ComputationGraph alone1 = start.clone();
    alone1.fit(loader.load(source(w1)));

    ComputationGraph averaged = start.clone();
    LocalClusterSession.executorsSinceLastCall();
    PresenceWeightedAveraging.EpochStats stats =
        new PresenceWeightedAveraging(
                JavaSparkContext.fromSparkContext(spark.sparkContext()),
                List.of(List.of(w0), List.of(w1)),
                1,
                11,
                PresenceWeightedAveraging.Weighting.PRESENCE)
            .fitEpoch(averaged, 1, loader);
    assertEquals(1, stats.rounds());
    assertEquals(2L * N, stats.examples());
    assertEquals(N, stats.present()[2], "imaging present in worker 1's rows only");

    int[] owners = PresenceWeightedAveraging.owners(start);
    float[] got = averaged.params().toFloatVector();
    float[] a0 = alone0.params().toFloatVector();
    float[] a1 = alone1.params().toFloatVector();
    float[] before = start.params().toFloatVector();
    int imaging = 0;
    for (int i = 0; i < got.length; i++) {
      if (owners[i] == 2) {
        imaging++;
        assertEquals(a1[i], got[i], 1e-5f, "imaging-owned parameter " + i);
        // Not vacuous: worker 1 moved it (Adam's first step is about the learning rate).
        assertTrue(Math.abs(a1[i] - before[i]) > 1e-3f, "worker 1 moved parameter " + i);
      } else {
        assertEquals((a0[i] + a1[i]) / 2f, got[i], 1e-5f, "parameter " + i + " of " + owners[i]);
      }
    }
    assertEquals(2 * 4 + 4, imaging, "imaging's projection: P [2, 4] and 4 bias columns");
    assertEquals(
        LocalClusterSession.EXECUTORS,
        LocalClusterSession.executorsSinceLastCall().size(),
        "the two workers ran on both executors");
  }

  /** The train stage with train.averaging = presence-weighted, spark mode, on both executors. */
  @Test
  void trainRunsPresenceWeightedOnBothExecutors() throws Exception {
    String out = dir.resolve("out").toString();
    SyntheticEmbeddings.write(
        spark, out + "/embeddings", 600, new double[] {0.1, 0.2, 0.3}, 0.0, 5);
    PipelineConfig config =
        PipelineConfigLoader.parse(
            """
            subjects { path = s.csv }
            modalities { clinical { kind = tabular, path = c.csv } }
            output { dir = "%s" }
            fusion { models { att { what = [clinical, labs, imaging], how = attention, projection = 4, head = [8] } } }
            train { mode = spark, workers = 2, epochs = 4, patience = 4, batch-size = 32, learning-rate = 0.02, averaging = presence-weighted, validation = driver }
            """
                .formatted(out),
            List.of());
    assertEquals(
        org.cohortfusion.config.TrainConfig.Averaging.PRESENCE_WEIGHTED,
        config.train().averaging());
    LocalClusterSession.executorsSinceLastCall();
    TrainResult r = TrainAction.of(spark, config).models(List.of("att")).execute();
    assertTrue(r.get("att").completed());
    assertEquals(4, r.get("att").epochsRun());
    assertTrue(r.get("att").validation().auroc() > 0.6, "learned: " + r.get("att").validation());
    assertEquals(
        LocalClusterSession.EXECUTORS,
        LocalClusterSession.executorsSinceLastCall().size(),
        "train ran tasks on both executors");
  }

  /**
   * The train stage with train.shard-by = group on two executors: each worker keeps one whole group
   * ("with-imaging" has 60% of the subjects and so more shards: worker 0 by the largest-first
   * rule).
   */
  @Test
  void trainKeepsEachGroupOnOneWorkerAcrossExecutors() throws Exception {
    String out = dir.resolve("grouped").toString();
    TrainShardsTest.groupedByImaging(spark, out + "/embeddings", 600);
    PipelineConfig config =
        PipelineConfigLoader.parse(
            """
            subjects { path = s.csv }
            modalities { clinical { kind = tabular, path = c.csv } }
            output { dir = "%s" }
            fusion { models { att { what = [clinical, labs, imaging], how = attention, projection = 4, head = [8] } } }
            train { mode = spark, workers = 2, epochs = 4, patience = 4, batch-size = 32, learning-rate = 0.02, averaging = presence-weighted, shard-by = group, validation = driver }
            """
                .formatted(out),
            List.of());
    List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
    LocalClusterSession.executorsSinceLastCall();
    TrainResult r =
        TrainAction.of(spark, config).models(List.of("att")).progress(log::add).execute();
    assertTrue(r.get("att").completed());
    assertEquals(4, r.get("att").epochsRun());
    assertTrue(r.get("att").validation().auroc() > 0.6, "learned: " + r.get("att").validation());
    assertTrue(
        log.stream()
            .anyMatch(
                l ->
                    l.matches(
                        ".*train.shard-by = group: worker 0: with-imaging \\(\\d+ shards\\);"
                            + " worker 1: without-imaging \\(\\d+ shards\\)")),
        () -> String.join("\n", log));
    assertEquals(
        LocalClusterSession.EXECUTORS,
        LocalClusterSession.executorsSinceLastCall().size(),
        "train ran tasks on both executors");
  }

  /** A shard of N rows; imaging present in every row or in none. */
  private String shard(String name, boolean imaging, long seed) throws Exception {
    Random r = new Random(seed);
    int[] dims = {4, 3, 2};
    float[][] f = new float[3][];
    float[] presence = new float[N * 3];
    int[] labels = new int[N];
    for (int m = 0; m < 3; m++) {
      f[m] = new float[N * dims[m]];
      for (int i = 0; i < N; i++) {
        boolean has = m < 2 || imaging;
        presence[i * 3 + m] = has ? 1f : 0f;
        for (int d = 0; d < dims[m] && has; d++) {
          f[m][i * dims[m] + d] = (float) r.nextGaussian();
        }
      }
    }
    for (int i = 0; i < N; i++) {
      labels[i] = r.nextInt(2);
    }
    Path p = dir.resolve(name);
    try (OutputStream os = Files.newOutputStream(p)) {
      BatchCodec.ARROW.write(new Batch(dims, f, presence, labels, 2), os);
    }
    return p.toString();
  }

  private static Source source(String path) {
    return new Source() {
      @Override
      public java.io.InputStream getInputStream() throws java.io.IOException {
        return Files.newInputStream(Path.of(path));
      }

      @Override
      public String getPath() {
        return path;
      }
    };
  }
}
