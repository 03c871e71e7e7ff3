package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.CollectionAccumulator;
import org.cohortfusion.fit.AveragedFitter;
import org.cohortfusion.fit.EpochFitter;
import org.cohortfusion.fusion.spec.FusionCompiler;
import org.cohortfusion.multijvm.LocalClusterSession;
import org.cohortfusion.spark.MinibatchShards;
import org.cohortfusion.spark.ParameterAveraging;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * dl4j-spark parameter averaging fits every shard of the train split exactly once per epoch, with
 * its replicas in executor JVMs of their own. The oracle is the list of shards written: every load
 * on an executor is recorded in an accumulator.
 *
 * <p>23 shards on 2 workers, the default frequency (6 minibatches per worker, rounds of 12): handed
 * the whole epoch, dl4j-spark's master made one split of all 23 shards and each worker stopped
 * after 6, so 11 shards were never fitted, the same ones every epoch.
 */
class AveragedFitterMultiJvmTest {
  private static final int SHARDS = 23;

  private final SparkSession spark = LocalClusterSession.get();
  @TempDir Path dir;

  /** The shard loader, recording every file it loads. */
  private record Recording(MultiDataSetLoader loader, CollectionAccumulator<String> loaded)
      implements MultiDataSetLoader {
    @Override
    public MultiDataSet load(Source source) throws IOException {
      String path = source.getPath();
      loaded.add(path.substring(path.lastIndexOf('/') + 1));
      return loader.load(source);
    }
  }

  @Test
  void everyShardIsFittedOncePerEpoch() {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Batch> batches = new ArrayList<>();
    Random r = new Random(3);
    for (int s = 0; s < SHARDS; s++) {
      batches.add(batch(r, 8));
    }
    ComputationGraph graph =
        FusionCompiler.compile(
                PresenceWeightedAveragingMultiJvmTest.attention(),
                PresenceWeightedAveragingMultiJvmTest.EMB,
                new Adam(0.01),
                11)
            .newGraph();
    int workers = 2;
    int frequency = ParameterAveraging.averagingFrequency(null, SHARDS, workers);
    assertEquals(6, frequency, "the default: two rounds an epoch");
    CollectionAccumulator<String> loaded = spark.sparkContext().collectionAccumulator("loaded");
    try (MinibatchShards shards =
        BatchShards.write(
            jsc,
            jsc.parallelize(batches, 3),
            dir.resolve("shards").toString(),
            "train-all",
            BatchCodec.ARROW)) {
      assertEquals(SHARDS, shards.paths().size());
      EpochFitter<ComputationGraph> fitter =
          AveragedFitter.graph(
              jsc,
              new ParameterAveraging.Rounds(workers, frequency, 11),
              8,
              shards,
              epoch ->
                  new Recording(
                      new BatchShards.Loader(
                          BatchCodec.ARROW, 2, new int[] {0, 1, 2}, 0.0, 11, epoch),
                      loaded));
      for (int epoch = 1; epoch <= 2; epoch++) {
        graph = fitter.fitEpoch(graph, epoch);
      }
      Map<String, Integer> times = new HashMap<>();
      for (String f : loaded.value()) {
        times.merge(f, 1, Integer::sum);
      }
      Map<String, Integer> expected = new HashMap<>();
      for (String p : shards.paths()) {
        expected.put(p.substring(p.lastIndexOf('/') + 1), 2);
      }
      assertEquals(expected, times, "every shard fitted once in each of two epochs");
    }
  }

  private static Batch batch(Random r, int n) {
    int[] dims = {4, 3, 2};
    float[][] f = new float[3][];
    float[] presence = new float[n * 3];
    int[] labels = new int[n];
    for (int m = 0; m < 3; m++) {
      f[m] = new float[n * dims[m]];
      for (int i = 0; i < f[m].length; i++) {
        f[m][i] = (float) r.nextGaussian();
      }
    }
    java.util.Arrays.fill(presence, 1f);
    for (int i = 0; i < n; i++) {
      labels[i] = r.nextInt(2);
    }
    return new Batch(dims, f, presence, labels, 2);
  }
}
