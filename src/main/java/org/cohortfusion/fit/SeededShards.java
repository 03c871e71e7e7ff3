package org.cohortfusion.fit;

import java.io.IOException;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Shard loaders that make the minibatch they load draw the same random numbers wherever it is
 * fitted: before a shard is handed to the worker, the generator of the thread that will fit it is
 * seeded from the run's seed, the epoch and the shard's file name.
 *
 * <p>Without this, dropout masks on the executors come from ND4J's per-thread generator in whatever
 * state the executor's previous tasks left it, so two runs of one config on Spark trained different
 * networks (the demo's attention model: validation loss 0.6886 and 0.6900 after the first epoch of
 * two identical runs). dl4j-spark's workers fit each minibatch right after loading it, on the same
 * thread, when nothing is prefetched ({@code workerPrefetchNumBatches(0)}, as {@link
 * org.cohortfusion.spark.ParameterAveraging.Rounds#master} sets). The file name, not the path, is
 * what identifies a shard: the shard directory carries a random id per run.
 */
public final class SeededShards {
  private SeededShards() {}

  /**
   * {@code loader}, seeding the fitting thread's generator for each shard of epoch {@code epoch}.
   */
  public static DataSetLoader of(DataSetLoader loader, long seed, int epoch) {
    return new SeededDataSets(loader, seed, epoch);
  }

  /**
   * {@code loader}, seeding the fitting thread's generator for each shard of epoch {@code epoch}.
   */
  public static MultiDataSetLoader of(MultiDataSetLoader loader, long seed, int epoch) {
    return new SeededMultiDataSets(loader, seed, epoch);
  }

  /** The seed of one shard: a function of the run's seed, the epoch and the shard's file name. */
  static long seedOf(long seed, int epoch, String path) {
    String file = path.substring(path.lastIndexOf('/') + 1);
    return seed * 1_000_003L + epoch * 7_919L + file.hashCode();
  }

  private record SeededDataSets(DataSetLoader loader, long seed, int epoch)
      implements DataSetLoader {
    @Override
    public DataSet load(Source source) throws IOException {
      DataSet loaded = loader.load(source);
      Nd4j.getRandom().setSeed(seedOf(seed, epoch, source.getPath()));
      return loaded;
    }
  }

  private record SeededMultiDataSets(MultiDataSetLoader loader, long seed, int epoch)
      implements MultiDataSetLoader {
    @Override
    public MultiDataSet load(Source source) throws IOException {
      MultiDataSet loaded = loader.load(source);
      Nd4j.getRandom().setSeed(seedOf(seed, epoch, source.getPath()));
      return loaded;
    }
  }
}
