package org.cohortfusion.features.extract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.testing.SparkTestSession;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class EncoderCacheTest {
  /** A small network's model bytes; another seed gives other weights, so other bytes. */
  private static byte[] modelBytes(long seed) throws IOException {
    MultiLayerNetwork net =
        new MultiLayerNetwork(
            new NeuralNetConfiguration.Builder()
                .seed(seed)
                .list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(2).build())
                .layer(
                    new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(2)
                        .nOut(2)
                        .build())
                .build());
    net.init();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ModelSerializer.writeModel(net, out, false);
    return out.toByteArray();
  }

  @Test
  void keepsTheMostRecentlyUsedEncodersAndLoadsEachOnceWhileItStays() throws IOException {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext());
    int n = EncoderCache.CAPACITY + 1;
    List<String> shas = new ArrayList<>();
    List<Broadcast<byte[]>> bytes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] b = modelBytes(9_000 + i); // seeds no other test uses: encoders this JVM never loaded
      shas.add(Hashing.sha256(b));
      bytes.add(jsc.broadcast(b));
    }
    int before = EncoderCache.loads();
    MultiLayerNetwork first = EncoderCache.get(shas.get(0), bytes.get(0), "m0");
    assertSame(first, EncoderCache.get(shas.get(0), bytes.get(0), "m0"), "a second task reuses it");
    assertEquals(1, EncoderCache.loads() - before);
    for (int i = 1; i < n; i++) {
      EncoderCache.get(shas.get(i), bytes.get(i), "m" + i);
    }
    assertEquals(n, EncoderCache.loads() - before, "each new encoder loaded once");
    assertEquals(EncoderCache.CAPACITY, EncoderCache.size(), "never more than the capacity");
    // The last one is still there; the first, least recently used, has gone and loads again.
    EncoderCache.get(shas.get(n - 1), bytes.get(n - 1), "m" + (n - 1));
    assertEquals(n, EncoderCache.loads() - before);
    EncoderCache.get(shas.get(0), bytes.get(0), "m0");
    assertEquals(n + 1, EncoderCache.loads() - before);
    bytes.forEach(Broadcast::destroy);
  }
}
