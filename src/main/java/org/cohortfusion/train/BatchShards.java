package org.cohortfusion.train;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.cohortfusion.fusion.ops.ModalityDropout;
import org.cohortfusion.spark.MinibatchShards;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Embeddings minibatches as {@link MinibatchShards} in a {@link BatchCodec} (every modality block,
 * the presence mask and the labels), and the loader that turns a shard into one model's input on
 * the executor: the model's modalities only, with modality dropout for this epoch.
 */
final class BatchShards {
  private BatchShards() {}

  static MinibatchShards write(
      JavaSparkContext jsc, JavaRDD<Batch> batches, String root, String name, BatchCodec format) {
    return MinibatchShards.write(jsc, batches, root, name, writer(format));
  }

  /**
   * As {@link #write}, one group at a time: {@code batchesOfGroup.apply(i)} are the minibatches of
   * {@code groups.get(i)} (see {@link MinibatchShards#writeGroups}).
   */
  static MinibatchShards writeGroups(
      JavaSparkContext jsc,
      List<String> groups,
      IntFunction<JavaRDD<Batch>> batchesOfGroup,
      String root,
      String name,
      BatchCodec format) {
    return MinibatchShards.writeGroups(jsc, groups, batchesOfGroup, root, name, writer(format));
  }

  private static MinibatchShards.Writer<Batch> writer(BatchCodec format) {
    return (batch, out) -> {
      if (batch.size() > 0) {
        format.write(batch, out);
      }
      return batch.size();
    };
  }

  /**
   * Reads a shard, keeps the model's modalities and applies modality dropout seeded by (seed,
   * epoch, shard file name), so that the same config drops the same modalities in every run.
   */
  static final class Loader implements MultiDataSetLoader {
    private static final long serialVersionUID = 1L;
    private final BatchCodec format;
    private final int numClasses;
    private final int[] columns;
    private final double modalityDropout;
    private final long seed;
    private final int epoch;
    private final boolean[] masked;

    Loader(
        BatchCodec format,
        int numClasses,
        int[] columns,
        double modalityDropout,
        long seed,
        int epoch) {
      this(format, numClasses, columns, modalityDropout, seed, epoch, null);
    }

    /**
     * @param masked per model input whether it takes its feature mask (null: all)
     */
    Loader(
        BatchCodec format,
        int numClasses,
        int[] columns,
        double modalityDropout,
        long seed,
        int epoch,
        boolean[] masked) {
      this.masked = masked == null ? null : masked.clone();
      this.format = format;
      this.numClasses = numClasses;
      this.columns = columns.clone();
      this.modalityDropout = modalityDropout;
      this.seed = seed;
      this.epoch = epoch;
    }

    @Override
    public MultiDataSet load(Source source) throws IOException {
      Batch stored;
      try (InputStream in = source.getInputStream()) {
        stored = format.read(in, numClasses);
      }
      Batch selected = stored.select(columns, -1);
      MultiDataSet mds = (masked == null ? selected : selected.keepMasks(masked)).toMultiDataSet();
      if (modalityDropout > 0) {
        // The file name (part-<partition>-<index>), not the path: the shard directory carries a
        // random id per run,
        // and a seed that depends on it made two runs of the same config drop different modalities.
        String path = source.getPath();
        String file = path.substring(path.lastIndexOf('/') + 1);
        Random rng = new Random(seed * 7_919L + epoch * 104_729L + file.hashCode());
        mds.setFeatures(ModalityDropout.hide(mds.getFeatures(), modalityDropout, rng));
      }
      return mds;
    }
  }
}
