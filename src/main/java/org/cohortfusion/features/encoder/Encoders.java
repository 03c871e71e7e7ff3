package org.cohortfusion.features.encoder;

import java.util.List;
import org.cohortfusion.features.batch.FeatureBatch;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;

/** Running a pretrained encoder: the activations of the layer before the softmax head. */
public final class Encoders {
  private Encoders() {}

  /** Index of the embedding layer: the one before the head. */
  public static int embeddingLayer(MultiLayerNetwork net) {
    return net.getnLayers() - 2;
  }

  /** Output size of the encoder (the marginal representation's dimension). */
  public static int embeddingSize(MultiLayerNetwork net) {
    return (int) net.getLayer(embeddingLayer(net)).getParam("b").length();
  }

  /**
   * The features with masked time steps set to 0. A convolution whose kernel spans a padded step
   * would otherwise see its values; LSTMs and masked pooling ignore those steps anyway, and {@link
   * org.cohortfusion.features.batch.FeatureBatches} already writes zeros there, so this only guards
   * inputs built elsewhere.
   */
  public static INDArray maskedFeatures(FeatureBatch batch) {
    if (batch.featureMask() == null || batch.features().rank() != 3) {
      return batch.features();
    }
    INDArray x = batch.features();
    return Broadcast.mul(x, batch.featureMask().castTo(x.dataType()), x.ulike(), 0, 2);
  }

  /**
   * Embeddings [N, embedding-size] of a batch, in inference mode, honouring the time-series feature
   * mask. Synchronised on the network: DL4J networks are not safe for concurrent use, and tasks of
   * one executor share the cached encoder.
   */
  public static INDArray embed(MultiLayerNetwork net, FeatureBatch batch) {
    return embedWithHead(net, batch)[0];
  }

  /**
   * Embeddings [N, embedding-size] and the encoder's own softmax head output [N, classes] of a
   * batch, from one forward pass in inference mode (see {@link #embed}).
   */
  public static INDArray[] embedWithHead(MultiLayerNetwork net, FeatureBatch batch) {
    synchronized (net) {
      net.setLayerMaskArrays(batch.featureMask(), null);
      try {
        List<INDArray> activations = net.feedForward(maskedFeatures(batch), false);
        // activations: the input, then one per layer; the embedding layer's is at embeddingLayer +
        // 1
        return new INDArray[] {
          activations.get(embeddingLayer(net) + 1).detach(),
          activations.get(activations.size() - 1).detach()
        };
      } finally {
        net.clearLayerMaskArrays();
      }
    }
  }
}
