package org.cohortfusion.features.encoder;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.Convolution3D;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.Subsampling3DLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;

/**
 * The stable names of an encoder's layers and the depths a fusion spec can name. Names are derived
 * from the layer types in order, so encoders saved before the layers carried names resolve the same
 * way: convolutions {@code conv0, conv1, ...}, poolings {@code pool0, ...}, the global pooling
 * {@code gpool}, recurrent layers {@code lstm0, ...}, hidden dense layers {@code dense0, ...}, the
 * embedding layer {@code embedding} (the one before the head) and the softmax head {@code head}.
 */
public final class EncoderLayers {
  /** Depth: the preprocessed features themselves, no encoder layer. */
  public static final String INPUT = "input";

  /** Depth: the whole encoder through its embedding layer. */
  public static final String EMBEDDING = "embedding";

  /** Name of the softmax head, never a depth. */
  public static final String HEAD = "head";

  /** What a layer's output looks like, for joining a fusion at it. */
  public enum Output {
    FLAT,
    SEQUENCE,
    SPATIAL
  }

  private EncoderLayers() {}

  /** Layer names of a configuration, in layer order. */
  public static List<String> names(MultiLayerConfiguration conf) {
    List<Layer> layers = new ArrayList<>();
    for (int i = 0; i < conf.getConfs().size(); i++) {
      layers.add(conf.getConf(i).getLayer());
    }
    int n = layers.size();
    List<String> out = new ArrayList<>();
    int conv = 0;
    int pool = 0;
    int rnn = 0;
    int dense = 0;
    for (int i = 0; i < n; i++) {
      Layer l = layers.get(i);
      String name;
      if (i == n - 1) {
        name = HEAD;
      } else if (i == n - 2) {
        name = EMBEDDING;
      } else if (l instanceof ConvolutionLayer
          || l instanceof Convolution3D) { // Convolution1DLayer is a ConvolutionLayer
        name = "conv" + conv++;
      } else if (l instanceof GlobalPoolingLayer) {
        name = "gpool";
      } else if (l instanceof SubsamplingLayer || l instanceof Subsampling3DLayer) {
        name = "pool" + pool++;
      } else if (l instanceof BaseRecurrentLayer || l instanceof LastTimeStep) {
        name = "lstm" + rnn++;
      } else if (l instanceof DenseLayer) {
        name = "dense" + dense++;
      } else {
        name = l.getClass().getSimpleName().toLowerCase(Locale.ROOT) + i;
      }
      out.add(name);
    }
    return out;
  }

  /** The names a spec can use as depth: input, every layer but the head (embedding last). */
  public static List<String> depths(MultiLayerConfiguration conf) {
    List<String> out = new ArrayList<>();
    out.add(INPUT);
    List<String> names = names(conf);
    out.addAll(names.subList(0, names.size() - 1));
    return out;
  }

  /**
   * The number of encoder layers in the graph for a depth: 0 for input, {@code i + 1} for layer
   * name or index {@code i}; -1 when the depth names no layer (or the head).
   */
  public static int layerCount(MultiLayerConfiguration conf, String depth) {
    String d = depth.trim();
    if (d.equalsIgnoreCase(INPUT)) {
      return 0;
    }
    List<String> names = names(conf);
    int headIndex = names.size() - 1;
    if (d.matches("-?\\d+")) {
      int i = Integer.parseInt(d);
      return i >= 0 && i < headIndex ? i + 1 : -1;
    }
    int i = names.indexOf(d.toLowerCase(Locale.ROOT));
    return i >= 0 && i < headIndex ? i + 1 : -1;
  }

  /** The output kind of layer {@code i}. */
  public static Output output(MultiLayerConfiguration conf, int i) {
    Layer l = conf.getConf(i).getLayer();
    if (l instanceof LastTimeStep
        || l instanceof GlobalPoolingLayer
        || l instanceof DenseLayer
        || l instanceof OutputLayer) {
      return Output.FLAT;
    }
    if (l instanceof Convolution1DLayer || l instanceof BaseRecurrentLayer) {
      return Output.SEQUENCE;
    }
    return Output.SPATIAL;
  }

  /**
   * Features (channels or units) at the output of layer {@code i}: the last nOut at or before it.
   */
  public static int outputSize(MultiLayerConfiguration conf, int i) {
    for (int j = i; j >= 0; j--) {
      Layer l = conf.getConf(j).getLayer();
      if (l instanceof LastTimeStep lts) {
        return (int) ((FeedForwardLayer) lts.getUnderlying()).getNOut();
      }
      if (l instanceof FeedForwardLayer f) {
        return (int) f.getNOut();
      }
    }
    throw new IllegalStateException(
        "Cannot size encoder layer " + i + ": no layer with an output size before it");
  }
}
