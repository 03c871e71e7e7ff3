package org.cohortfusion.features.encoder;

import java.util.List;
import org.cohortfusion.config.EncoderConfig;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.Convolution3D;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.Subsampling3DLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Builds the encoder of a modality with its pretraining head: a {@link MultiLayerNetwork} whose
 * second-to-last layer is the embedding layer (tanh, {@code embedding-size} units) and whose last
 * layer is the pretraining head: a softmax over the cohort's classes, or for a survival outcome a
 * discrete-time hazard head ({@link #buildHazard}).
 *
 * <ul>
 *   <li>tabular, vector, text: an MLP over the preprocessed features (ReLU hidden layers);
 *   <li>image [C, H, W]: 3x3 convolution blocks (ReLU, 2x2 max pooling after each but the last),
 *       global average pooling, then the dense layers; [C, D, H, W] volumes are rejected;
 *   <li>timeseries: LSTM layers of the {@code hidden} sizes whose last unmasked step feeds the
 *       embedding ({@code cell = lstm}), or 1D convolutions with mask-aware global max pooling
 *       ({@code cell = cnn}). The step mask travels as DL4J's feature mask.
 * </ul>
 *
 * <p>Layers are named by {@link EncoderLayers#names}: {@code conv0, pool0, conv1, ..., gpool}
 * (image), {@code lstm0, ...} or {@code conv0, ..., gpool} (timeseries), {@code dense0, ...}
 * (hidden dense layers), {@code embedding} and {@code head}. End-to-end fusion specs name a depth
 * with them.
 */
public final class EncoderFactory {
  private EncoderFactory() {}

  /** The encoder with a softmax head over {@code classes} classes (cross-entropy). */
  public static MultiLayerNetwork build(
      ModalityPreprocessing prep, EncoderConfig config, int classes, long seed) {
    if (classes < 2) {
      throw new IllegalArgumentException(
          "Cannot build encoder of modality '"
              + prep.modality()
              + "': the cohort has "
              + classes
              + " class(es), a softmax head needs at least 2");
    }
    return build(
        prep,
        config,
        new OutputLayer.Builder(LossFunction.MCXENT)
            .nOut(classes)
            .activation(Activation.SOFTMAX)
            .build(),
        seed);
  }

  /**
   * The encoder with a discrete-time hazard head over {@code intervals} intervals: one sigmoid per
   * interval under binary cross-entropy, the loss train's survival heads use ({@link
   * org.cohortfusion.cohort.survival.DiscreteTimeHazard}); the per-output label mask of the targets
   * keeps each subject to the intervals it was at risk in.
   */
  public static MultiLayerNetwork buildHazard(
      ModalityPreprocessing prep, EncoderConfig config, int intervals, long seed) {
    if (intervals < 1) {
      throw new IllegalArgumentException(
          "Cannot build encoder of modality '"
              + prep.modality()
              + "': a hazard head needs at least 1 interval, got "
              + intervals);
    }
    return build(
        prep,
        config,
        new OutputLayer.Builder(LossFunction.XENT)
            .nOut(intervals)
            .activation(Activation.SIGMOID)
            .build(),
        seed);
  }

  private static MultiLayerNetwork build(
      ModalityPreprocessing prep, EncoderConfig config, OutputLayer head, long seed) {
    NeuralNetConfiguration.Builder base =
        new NeuralNetConfiguration.Builder()
            .seed(seed)
            .updater(new Adam(config.learningRate()))
            .weightInit(WeightInit.XAVIER);
    if (config.weightDecayOrDefault() > 0) {
      base = base.weightDecay(config.weightDecayOrDefault());
    }
    NeuralNetConfiguration.ListBuilder b = base.list();
    int layer = 0;
    InputType inputType;
    List<Integer> dense = config.hidden();
    switch (prep.kind()) {
      case TABULAR, VECTOR, TEXT -> inputType = InputType.feedForward(prep.inputSize());
      case IMAGE -> {
        List<Integer> channels = config.convChannelsOrDefault();
        if (prep.shape().size() == 4) {
          // Volumes [C, D, H, W]: the same design with 3D convolutions and pooling.
          long d = prep.shape().get(1);
          long h = prep.shape().get(2);
          long w = prep.shape().get(3);
          inputType =
              InputType.convolutional3D(
                  Convolution3D.DataFormat.NCDHW, d, h, w, prep.shape().get(0));
          for (int i = 0; i < channels.size(); i++) {
            b.layer(
                layer++,
                new Convolution3D.Builder()
                    .kernelSize(3, 3, 3)
                    .nOut(channels.get(i))
                    .convolutionMode(ConvolutionMode.Same)
                    .dataFormat(Convolution3D.DataFormat.NCDHW)
                    .activation(Activation.RELU)
                    .build());
            if (i < channels.size() - 1 && d >= 2 && h >= 2 && w >= 2) {
              b.layer(
                  layer++,
                  new Subsampling3DLayer.Builder(PoolingType.MAX)
                      .kernelSize(2, 2, 2)
                      .stride(2, 2, 2)
                      .dataFormat(Convolution3D.DataFormat.NCDHW)
                      .build());
              d /= 2;
              h /= 2;
              w /= 2;
            }
          }
          b.layer(layer++, new GlobalPoolingLayer.Builder(PoolingType.AVG).build());
        } else {
          inputType =
              InputType.convolutional(
                  prep.shape().get(1), prep.shape().get(2), prep.shape().get(0));
          long h = prep.shape().get(1);
          long w = prep.shape().get(2);
          for (int i = 0; i < channels.size(); i++) {
            b.layer(
                layer++,
                new ConvolutionLayer.Builder(3, 3)
                    .nOut(channels.get(i))
                    .convolutionMode(ConvolutionMode.Same)
                    .activation(Activation.RELU)
                    .build());
            if (i < channels.size() - 1 && h >= 2 && w >= 2) {
              b.layer(
                  layer++,
                  new SubsamplingLayer.Builder(PoolingType.MAX)
                      .kernelSize(2, 2)
                      .stride(2, 2)
                      .build());
              h /= 2;
              w /= 2;
            }
          }
          b.layer(layer++, new GlobalPoolingLayer.Builder(PoolingType.AVG).build());
        }
      }
      case TIMESERIES -> {
        inputType = InputType.recurrent(prep.inputSize(), prep.steps());
        if (config.cellOrDefault() == EncoderConfig.Cell.LSTM) {
          for (int i = 0; i < dense.size(); i++) {
            LSTM lstm = new LSTM.Builder().nOut(dense.get(i)).activation(Activation.TANH).build();
            b.layer(layer++, i == dense.size() - 1 ? new LastTimeStep(lstm) : lstm);
          }
        } else {
          for (Integer width : dense) {
            b.layer(
                layer++,
                new Convolution1DLayer.Builder()
                    .kernelSize(3)
                    .nOut(width)
                    .convolutionMode(ConvolutionMode.Same)
                    .activation(Activation.RELU)
                    .build());
          }
          b.layer(layer++, new GlobalPoolingLayer.Builder(PoolingType.MAX).build());
        }
        dense = List.of();
      }
      default -> throw new IllegalStateException("unreachable");
    }
    for (Integer width : dense) {
      b.layer(layer++, new DenseLayer.Builder().nOut(width).activation(Activation.RELU).build());
    }
    b.layer(
        layer++,
        new DenseLayer.Builder().nOut(config.embeddingSize()).activation(Activation.TANH).build());
    b.layer(layer, head);
    MultiLayerConfiguration conf = b.setInputType(inputType).build();
    // Stable layer names (dense0, conv1, pool0, lstm0, embedding, head) that fusion specs can name
    // as a depth.
    List<String> names = EncoderLayers.names(conf);
    for (int i = 0; i < names.size(); i++) {
      conf.getConf(i).getLayer().setLayerName(names.get(i));
    }
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    return net;
  }
}
