package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.cohortfusion.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.common.loader.LocalFileSourceFactory;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Modality dropout of a training shard depends on (seed, epoch, shard file name), not on the run's
 * shard directory.
 */
class BatchShardsTest {
  @TempDir Path tmp;

  static Batch batch() {
    Random r = new Random(3);
    int n = 64;
    int[] dims = {2, 3, 2};
    float[][] f = new float[3][];
    for (int m = 0; m < 3; m++) {
      f[m] = new float[n * dims[m]];
      for (int i = 0; i < f[m].length; i++) {
        f[m][i] = (float) r.nextGaussian();
      }
    }
    float[] presence = new float[n * 3];
    java.util.Arrays.fill(presence, 1f);
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 2;
    }
    return new Batch(dims, f, presence, labels, 2);
  }

  INDArray presenceAfterDropout(String dir, String file, int epoch) throws IOException {
    Path p = tmp.resolve(dir).resolve(file);
    Files.createDirectories(p.getParent());
    BatchCodec codec = BatchCodec.of(TrainConfig.ShardFormat.ARROW);
    try (OutputStream out = Files.newOutputStream(p)) {
      codec.write(batch(), out);
    }
    BatchShards.Loader loader =
        new BatchShards.Loader(codec, 2, new int[] {0, 1, 2}, 0.5, 42, epoch);
    INDArray[] features =
        loader.load(new LocalFileSourceFactory().getSource(p.toString())).getFeatures();
    return features[features.length - 1];
  }

  @Test
  void twoRunsDropTheSameModalitiesWhateverTheirShardDirectory() throws IOException {
    INDArray first = presenceAfterDropout("train-all-1a2b3c4d", "part-00000-000003.bin", 2);
    INDArray second = presenceAfterDropout("train-all-9f8e7d6c", "part-00000-000003.bin", 2);
    assertEquals(first, second);
    // Dropout did hide something, and another shard or another epoch hides something else.
    assertNotEquals(64.0 * 3, first.sumNumber().doubleValue());
    assertNotEquals(first, presenceAfterDropout("train-all-1a2b3c4d", "part-00000-000004.bin", 2));
    assertNotEquals(first, presenceAfterDropout("train-all-1a2b3c4d", "part-00000-000003.bin", 3));
  }
}
