package org.cohortfusion.features.encoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.cohortfusion.config.EncoderConfig;
import org.cohortfusion.features.batch.FeatureBatch;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.stage.ModalityKind;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class EncoderTest {

  @Test
  void everyKindOutputsItsConfiguredEmbeddingSize() {
    int[] sizes = {5, 7, 9, 11, 13};
    List<ModalityPreprocessing> preps =
        List.of(
            prep("tab", ModalityKind.TABULAR, List.of(), 0),
            prep("vec", ModalityKind.VECTOR, List.of(10), 0),
            prep("img", ModalityKind.IMAGE, List.of(2, 8, 8), 0),
            prep("ts", ModalityKind.TIMESERIES, List.of(3, 5), 0),
            prep("txt", ModalityKind.TEXT, List.of(), 32));
    for (int i = 0; i < preps.size(); i++) {
      ModalityPreprocessing p = preps.get(i);
      MultiLayerNetwork net = EncoderFactory.build(p, config(sizes[i], null), 3, 7);
      FeatureBatch batch = randomBatch(p, 4);
      INDArray emb = Encoders.embed(net, batch);
      assertArrayEquals(new long[] {4, sizes[i]}, emb.shape(), p.modality());
      assertEquals(sizes[i], Encoders.embeddingSize(net));
      assertArrayEquals(
          new long[] {4, 3},
          net.output(batch.features(), false, batch.featureMask(), null).shape());
    }
  }

  @Test
  void timeseriesEncodersIgnoreMaskedSteps() {
    ModalityPreprocessing p = prep("ts", ModalityKind.TIMESERIES, List.of(3, 6), 0);
    for (EncoderConfig.Cell cell : EncoderConfig.Cell.values()) {
      MultiLayerNetwork net = EncoderFactory.build(p, config(8, cell), 2, 11);
      FeatureBatch batch = randomBatch(p, 5);
      INDArray mask = batch.featureMask();
      mask.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2)).assign(0); // two left-padded steps
      INDArray changed = batch.features().dup();
      changed
          .get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 2))
          .assign(Nd4j.rand(DataType.FLOAT, 5, 6, 2).mul(50));
      INDArray a = Encoders.embed(net, batch);
      INDArray b = Encoders.embed(net, new FeatureBatch(changed, mask));
      assertTrue(a.equalsWithEps(b, 1e-5), cell + ": masked steps changed the embedding");
      // Sanity: an unmasked step does change it.
      INDArray visible = batch.features().dup();
      visible.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(5)).addi(3);
      assertTrue(
          !a.equalsWithEps(Encoders.embed(net, new FeatureBatch(visible, mask)), 1e-5),
          cell + ": a visible step did not matter");
    }
  }

  @Test
  void volumesGetA3dCnnWithTheConfiguredEmbeddingSize() {
    var net =
        EncoderFactory.build(
            prep("vol", ModalityKind.IMAGE, List.of(2, 4, 6, 6), 0), config(5, null), 2, 1);
    INDArray volumes = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 3, 2, 4, 6, 6);
    assertArrayEquals(
        new long[] {3, 5}, Encoders.embed(net, new FeatureBatch(volumes, null)).shape());
    assertArrayEquals(new long[] {3, 2}, net.output(volumes).shape());
  }

  /**
   * weight-decay reaches every layer's weights as DL4J's WeightDecay with that coefficient; absent,
   * no layer has one.
   */
  @Test
  void weightDecayIsAppliedToEveryLayer() {
    EncoderConfig decayed =
        new EncoderConfig(4, List.of(6), 1, 8, 1e-2, 2, null, null, null, null, null, 0.05);
    var net = EncoderFactory.build(prep("tab", ModalityKind.TABULAR, List.of(), 0), decayed, 2, 1);
    var plain =
        EncoderFactory.build(
            prep("tab", ModalityKind.TABULAR, List.of(), 0), config(4, null), 2, 1);
    for (int i = 0; i < net.getnLayers(); i++) {
      var reg =
          ((org.deeplearning4j.nn.conf.layers.BaseLayer) net.getLayer(i).conf().getLayer())
              .getRegularization();
      assertTrue(
          reg.stream()
              .anyMatch(
                  r ->
                      r instanceof org.nd4j.linalg.learning.regularization.WeightDecay w
                          && w.getCoeff().valueAt(0, 0) == 0.05),
          "layer " + i + ": " + reg);
      assertTrue(
          ((org.deeplearning4j.nn.conf.layers.BaseLayer) plain.getLayer(i).conf().getLayer())
              .getRegularization()
              .isEmpty());
    }
  }

  static EncoderConfig config(int embedding, EncoderConfig.Cell cell) {
    return new EncoderConfig(
        embedding, List.of(6), 1, 8, 1e-2, 2, List.of(4, 4), cell, null, null, null, null);
  }

  static ModalityPreprocessing prep(
      String name, ModalityKind kind, List<Integer> shape, int buckets) {
    if (kind == ModalityKind.TABULAR) {
      return new ModalityPreprocessing(
          name,
          kind,
          List.of("a", "b"),
          List.of("c"),
          List.of(List.of("x", "y")),
          new double[] {0, 0},
          new double[] {1, 1},
          null,
          false,
          null,
          0);
    }
    return new ModalityPreprocessing(
        name, kind, null, null, null, null, null, null, false, shape, buckets);
  }

  static FeatureBatch randomBatch(ModalityPreprocessing p, int n) {
    return switch (p.kind()) {
      case IMAGE ->
          new FeatureBatch(
              Nd4j.rand(DataType.FLOAT, n, p.shape().get(0), p.shape().get(1), p.shape().get(2)),
              null);
      case TIMESERIES ->
          new FeatureBatch(
              Nd4j.rand(DataType.FLOAT, n, p.inputSize(), p.steps()),
              Nd4j.ones(DataType.FLOAT, n, p.steps()));
      default -> new FeatureBatch(Nd4j.rand(DataType.FLOAT, n, p.inputSize()), null);
    };
  }
}
