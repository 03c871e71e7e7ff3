package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchCodecTest {
  /** Both shard formats give back exactly the batch written: every float, presence bit and label. */
  @Test
  void everyFormatRoundTripsABatchExactly() throws Exception {
    Random rng = new Random(3);
    int n = 37;
    int[] dims = {5, 1, 12};
    float[][] features = new float[dims.length][];
    for (int m = 0; m < dims.length; m++) {
      features[m] = new float[n * dims[m]];
      for (int i = 0; i < features[m].length; i++) {
        features[m][i] = (float) rng.nextGaussian() * 1e3f;
      }
    }
    features[1][4] = Float.MIN_VALUE;
    features[2][0] = -0f;
    float[] presence = new float[n * dims.length];
    for (int i = 0; i < presence.length; i++) {
      presence[i] = rng.nextBoolean() ? 1f : 0f;
    }
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = rng.nextInt(3);
    }
    Batch batch = new Batch(dims, features, presence, labels, 3);
    for (BatchCodec codec : BatchCodec.values()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      codec.write(batch, out);
      Batch back = codec.read(new ByteArrayInputStream(out.toByteArray()), 3);
      assertEquals(batch, back, codec.name());
      assertEquals(3, back.numClasses(), codec.name());
    }
  }
}
