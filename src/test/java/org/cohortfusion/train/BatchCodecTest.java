package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchCodecTest {
  /**
   * Both shard formats give back exactly the batch written: every float, presence bit and label.
   */
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

  /**
   * End-to-end batches: modalities of any rank (a flat block, an image [1, 3, 2], a time series [2,
   * 4] with its step mask) come back with their shapes and masks from every shard format, from
   * Spark's Kryo serialiser (what crosses to executors), and as the MultiDataSet the graph gets
   * (features of the stored shape, the mask as the input's feature mask).
   */
  @Test
  void anyRankFeaturesAndStepMasksRoundTrip() throws Exception {
    Random rng = new Random(5);
    int n = 3;
    long[][] shapes = {{4}, {1, 3, 2}, {2, 4}};
    int[] dims = {4, 6, 8};
    float[][] features = new float[3][];
    for (int m = 0; m < 3; m++) {
      features[m] = new float[n * dims[m]];
      for (int i = 0; i < features[m].length; i++) {
        features[m][i] = (float) rng.nextGaussian();
      }
    }
    float[][] masks = {null, null, {1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1}};
    float[] presence = {1, 1, 1, 0, 1, 1, 1, 0, 0};
    Batch batch = new Batch(dims, features, presence, new int[] {0, 1, 1}, 2, shapes, masks);
    for (BatchCodec codec : BatchCodec.values()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      codec.write(batch, out);
      Batch read = codec.read(new ByteArrayInputStream(out.toByteArray()), 2);
      assertEquals(batch, read, codec.name());
      assertEquals(null, read.mask(1), codec.name() + ": no mask where none was written");
    }
    org.apache.spark.serializer.KryoSerializer kryo =
        new org.apache.spark.serializer.KryoSerializer(
            new org.apache.spark.SparkConf()
                .set("spark.kryo.registrator", "org.nd4j.kryo.Nd4jRegistrator"));
    org.apache.spark.serializer.SerializerInstance k = kryo.newInstance();
    Batch back =
        k.deserialize(
            k.serialize(batch, scala.reflect.ClassTag$.MODULE$.apply(Batch.class)),
            scala.reflect.ClassTag$.MODULE$.apply(Batch.class));
    assertEquals(batch, back, "kryo");
    org.nd4j.linalg.dataset.api.MultiDataSet mds = batch.toMultiDataSet();
    assertArrayEquals(new long[] {n, 1, 3, 2}, mds.getFeatures(1).shape());
    assertArrayEquals(new long[] {n, 2, 4}, mds.getFeatures(2).shape());
    assertArrayEquals(masks[2], mds.getFeaturesMaskArray(2).data().asFloat());
    assertEquals(null, mds.getFeaturesMaskArray(0));
    assertEquals(batch, Batch.fromMultiDataSet(mds), "MultiDataSet round trip");
    // Selecting modalities keeps their shapes and masks; dropping a mask drops only that one.
    Batch selected = batch.select(new int[] {2, 1}, -1);
    assertArrayEquals(shapes[2], selected.shape(0));
    assertArrayEquals(masks[2], selected.mask(0));
    assertEquals(null, selected.keepMasks(new boolean[] {false, true}).mask(0));
    // A removed modality is zeros, with the last step of its mask (see Batch.absentMask).
    Batch removed = batch.withPresence(new float[] {1, 1, 0, 0, 1, 1, 1, 0, 0});
    assertArrayEquals(new float[] {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1}, removed.mask(2));
    assertArrayEquals(new float[8], java.util.Arrays.copyOfRange(removed.features()[2], 0, 8));
  }
}
