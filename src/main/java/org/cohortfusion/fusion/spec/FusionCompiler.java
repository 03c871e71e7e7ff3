package org.cohortfusion.fusion.spec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.cohortfusion.config.ConfigException;
import org.cohortfusion.features.encoder.EncoderLayers;
import org.cohortfusion.fusion.ops.FusionOp;
import org.cohortfusion.fusion.ops.FusionVertexConf;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.ReshapeVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Compiles a {@link FusionSpec} to one DL4J {@link ComputationGraph} (intermediate fusion, arXiv
 * 2408.02686):
 *
 * <ul>
 *   <li>inputs: one per leaf modality {@code [batch, d_m]} in the embeddings' order, then {@code
 *       presence} {@code [batch, M]} (1 = present; absent rows are zeros and masked fusion ignores
 *       them);
 *   <li>a trainable projection (dense, with bias and the projection activation) per input where the
 *       stage's operation needs equal sizes (or always when {@code projection} is a positive size):
 *       inside the stage's fusion vertex ({@link FusionVertexConf#withProjection}, all of a stage's
 *       projections as a few whole-array ops), or a DenseLayer when a leaf feeds more than one
 *       stage (so that its projection stays shared);
 *   <li>one fusion vertex per stage from {@link FusionOp}, each fed by its inputs and their
 *       presence (a stage's presence is the OR of its leaves' presence, via {@link
 *       PresenceSelect});
 *   <li>the multimodal head: Dense layers (ReLU, dropout) then a softmax output with multi-class
 *       cross-entropy;
 *   <li>optionally a wide path ({@link FusionSpec.Wide}): a linear layer over every leaf where it
 *       joins the fusion and the presence, concatenated to the head's output before the output
 *       layer.
 * </ul>
 */
public final class FusionCompiler {
  /** Name of the presence input. */
  public static final String PRESENCE = "presence";

  /** Name of the output layer. */
  public static final String OUTPUT = "out";

  /** Name of the wide path's linear layer ({@link FusionSpec.Wide}). */
  public static final String WIDE = "wide";

  private FusionCompiler() {}

  /**
   * A compiled spec: the graph configuration, its input order and, for end-to-end graphs, the
   * pretrained parameters of the encoder layers in it (graph layer name to parameters).
   */
  public record Compiled(
      FusionSpec spec,
      ComputationGraphConfiguration configuration,
      List<String> modalities,
      int numClasses,
      Map<String, INDArray> initialParams) {
    public Compiled(
        FusionSpec spec,
        ComputationGraphConfiguration configuration,
        List<String> modalities,
        int numClasses) {
      this(spec, configuration, modalities, numClasses, Map.of());
    }

    /** A freshly initialised graph, with the pretrained encoder layers' parameters copied in. */
    public ComputationGraph newGraph() {
      ComputationGraph g = new ComputationGraph(configuration.clone());
      g.init();
      initialParams.forEach((layer, p) -> g.getLayer(layer).setParams(p.dup()));
      return g;
    }
  }

  /**
   * The encoders of an end-to-end graph: per modality its network (pretrained weights, or fresh for
   * from-scratch training; the softmax head is never used), and the updater of the encoder layers.
   *
   * @param encoders modality to encoder network
   * @param pretrained whether to copy the encoders' parameters into the graph
   * @param shapes modality to the shape of one example of its preprocessed features
   * @param updater updater of the encoder layers (scaled learning rate, frozen epochs)
   */
  public record Encoders(
      Map<String, MultiLayerNetwork> encoders,
      Map<String, long[]> shapes,
      boolean pretrained,
      IUpdater updater) {}

  /**
   * Name of encoder layer {@code layerName} of modality {@code modality} in an end-to-end graph.
   */
  public static String encoderLayer(String modality, String layerName) {
    return modality + "_" + layerName;
  }

  /**
   * Whether each graph input (in order, presence excluded) takes its feature mask: a time series
   * does where a layer of its encoder reads it, not where it joins the fusion as flattened input
   * features (the mask is then meaningless to the graph; the masked steps are zeros).
   */
  public static boolean[] maskedInputs(ComputationGraphConfiguration conf) {
    List<String> inputs = conf.getNetworkInputs();
    boolean[] out = new boolean[inputs.size() - 1];
    for (int i = 0; i < out.length; i++) {
      String in = inputs.get(i);
      boolean masked = true;
      for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
        if (e.getValue().contains(in)
            && !(conf.getVertices().get(e.getKey()) instanceof LayerVertex)) {
          masked = false;
        }
      }
      out[i] = masked;
    }
    return out;
  }

  /**
   * Compiles {@code spec} against the modalities of {@code embeddings}.
   *
   * @param updater updater (with learning-rate schedule) of every layer
   * @param seed weight-initialisation seed
   */
  public static Compiled compile(
      FusionSpec spec, EmbeddingsSpec embeddings, IUpdater updater, long seed) {
    if (spec.endToEnd()) {
      throw new FusionSpecException(
          "Cannot compile fusion '"
              + spec.name()
              + "': "
              + spec.key()
              + ".when = "
              + spec.when()
              + " trains end to end and needs the encoders");
    }
    return compile(spec, embeddings, updater, seed, null);
  }

  /**
   * Compiles an end-to-end {@code spec}: the inputs are the preprocessed features of each modality
   * (the {@code embeddings} descriptor then stands for the features: its dims are their per-example
   * sizes), each passed through its encoder up to the depth {@link FusionSpec#when()} names before
   * it joins the fusion: nothing ({@code input}; a multi-dimensional input is flattened), the
   * encoder through that layer, or the whole encoder through {@code embedding}. A convolution or
   * recurrent output joins through mask-aware global average pooling. Encoder layers are named
   * {@code <modality>_<layer>} ({@link #encoderLayer}).
   */
  public static Compiled compile(
      FusionSpec spec, EmbeddingsSpec embeddings, IUpdater updater, long seed, Encoders encoders) {
    String cannot = "Cannot compile fusion '" + spec.name() + "': ";
    if (spec.kind() == FusionSpec.Kind.LATE) {
      throw new FusionSpecException(
          cannot + "late fusion is a combination of trained unimodal models, not one graph");
    }
    Set<String> stageNames = new LinkedHashSet<>();
    spec.stages().forEach(s -> stageNames.add(s.name()));
    // Leaf modalities in the embeddings' (table and presence) order.
    List<String> used = spec.modalities();
    for (int si = 0; si < spec.stages().size(); si++) {
      FusionSpec.Stage s = spec.stages().get(si);
      for (int j = 0; j < s.inputs().size(); j++) {
        String in = s.inputs().get(j);
        if (!stageNames.contains(in) && !embeddings.hasModality(in)) {
          String key =
              spec.stages().size() > 1
                  ? spec.key() + ".stages[" + si + "].what[" + j + "]"
                  : spec.key() + ".what[" + j + "]";
          throw new FusionSpecException(
              cannot
                  + key
                  + " = '"
                  + in
                  + "' is not a modality of the embeddings (have "
                  + embeddings.modalityNames()
                  + ")"
                  + (spec.stages().size() > 1 ? " nor an earlier stage" : ""));
        }
      }
    }
    List<String> leaves = new ArrayList<>();
    for (String m : embeddings.modalityNames()) {
      if (used.contains(m)) {
        leaves.add(m);
      }
    }
    Activation projAct = activation(spec, spec.projectionActivation());

    ComputationGraphConfiguration.GraphBuilder b =
        new NeuralNetConfiguration.Builder()
            .seed(seed)
            .dataType(DataType.FLOAT)
            .updater(updater)
            .weightInit(WeightInit.XAVIER)
            .graphBuilder();
    List<String> inputNames = new ArrayList<>(leaves);
    inputNames.add(PRESENCE);
    b.addInputs(inputNames.toArray(new String[0]));

    // Output vertex and size of every node that can feed a stage; leaf projections first when
    // projection > 0.
    Map<String, String> node = new HashMap<>();
    Map<String, Integer> size = new HashMap<>();
    Map<String, Set<Integer>> leafColumns = new HashMap<>();
    boolean projectAll = spec.projection() != null && spec.projection() > 0;
    Map<String, Integer> uses = new HashMap<>();
    spec.stages().forEach(s -> s.inputs().forEach(in -> uses.merge(in, 1, Integer::sum)));
    // Leaves whose projection the consuming stage's vertex does itself (raw leaf in, projected
    // inside).
    Set<String> projectInVertex = new java.util.HashSet<>();
    Map<String, INDArray> initialParams = new java.util.LinkedHashMap<>();
    // Where each leaf joins the fusion, before any projection: the wide path reads these.
    List<String> joins = new ArrayList<>();
    int joinedSize = 0;
    for (int i = 0; i < leaves.size(); i++) {
      String m = leaves.get(i);
      leafColumns.put(m, Set.of(i));
      String src = m;
      int dim = embeddings.dim(m);
      if (spec.endToEnd()) {
        if (encoders == null || !encoders.encoders().containsKey(m)) {
          throw new FusionSpecException(
              cannot + "no encoder for modality '" + m + "' (run pretrain first)");
        }
        int[] out = new int[1];
        src = addEncoderPrefix(b, spec, m, encoders, initialParams, out);
        dim = out[0];
      }
      joins.add(src);
      joinedSize += dim;
      if (projectAll && uses.getOrDefault(m, 0) <= 1) {
        projectInVertex.add(m);
        node.put(m, src);
        size.put(m, dim);
      } else if (projectAll) {
        String p = "proj_" + m;
        b.addLayer(
            p,
            new DenseLayer.Builder()
                .nIn(dim)
                .nOut(spec.projection())
                .activation(projAct)
                .l2(spec.l2())
                .l1(spec.l1())
                .build(),
            src);
        node.put(m, p);
        size.put(m, spec.projection());
      } else {
        node.put(m, src);
        size.put(m, dim);
      }
    }
    String last = null;
    int lastSize = 0;
    for (FusionSpec.Stage s : spec.stages()) {
      int n = s.inputs().size();
      String[] vertexInputs = new String[n + 1];
      int[] sizes = new int[n];
      int[] inputSizes = new int[n];
      int target = spec.projection() == null ? FusionSpec.DEFAULT_PROJECTION : spec.projection();
      for (int j = 0; j < n; j++) {
        String in = s.inputs().get(j);
        String src = node.get(in);
        int sz = size.get(in);
        if (projectInVertex.contains(in)) {
          inputSizes[j] = sz;
          sz = spec.projection();
        } else if (s.op().requiresEqualSizes() && sz != target) {
          if (target == 0) {
            throw new FusionSpecException(
                cannot
                    + spec.key()
                    + ".projection = 0 but '"
                    + s.op().configName()
                    + "' needs equal sizes and '"
                    + in
                    + "' has size "
                    + sz);
          }
          inputSizes[j] = sz;
          sz = target;
        }
        vertexInputs[j] = src;
        sizes[j] = sz;
      }
      // Presence of this stage's inputs: OR over the leaves under each input.
      int[][] groups = new int[n][];
      Set<Integer> union = new LinkedHashSet<>();
      boolean identity = n == leaves.size();
      for (int j = 0; j < n; j++) {
        Set<Integer> cols = leafColumns.get(s.inputs().get(j));
        groups[j] = cols.stream().mapToInt(Integer::intValue).sorted().toArray();
        union.addAll(cols);
        identity &= groups[j].length == 1 && groups[j][0] == j;
      }
      String presence = PRESENCE;
      if (!identity) {
        presence = "presence_" + s.name();
        b.addVertex(presence, new PresenceSelect(leaves.size(), groups), PRESENCE);
      }
      vertexInputs[n] = presence;
      FusionVertexConf v;
      try {
        v = s.op().vertex(n, sizes, s.options());
        if (java.util.Arrays.stream(inputSizes).anyMatch(x -> x > 0)) {
          v.withProjection(inputSizes, projAct.name().toLowerCase(Locale.ROOT));
        }
        v.setPenalties(spec.l2(), spec.l1());
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new FusionSpecException(
            cannot
                + spec.key()
                + " stage '"
                + s.name()
                + "' ("
                + s.op().configName()
                + "): "
                + e.getMessage());
      }
      String fused = "fuse_" + s.name();
      b.addVertex(fused, v, vertexInputs);
      node.put(s.name(), fused);
      size.put(s.name(), (int) v.outputSize());
      leafColumns.put(s.name(), union);
      last = fused;
      lastSize = (int) v.outputSize();
    }

    String prev = last;
    int prevSize = lastSize;
    for (int h = 0; h < spec.head().size(); h++) {
      DenseLayer.Builder d =
          new DenseLayer.Builder()
              .nIn(prevSize)
              .nOut(spec.head().get(h))
              .activation(Activation.RELU)
              .l2(spec.l2())
              .l1(spec.l1());
      if (spec.dropout() > 0) {
        d.dropOut(1.0 - spec.dropout()); // DL4J takes the retain probability
      }
      b.addLayer("head_" + h, d.build(), prev);
      prev = "head_" + h;
      prevSize = spec.head().get(h);
    }
    if (spec.wide() != null) {
      joins.add(PRESENCE);
      joinedSize += leaves.size();
      String wideIn = "wide_in";
      b.addVertex(wideIn, new MergeVertex(), joins.toArray(new String[0]));
      // No bias: the output layer's own bias is the intercept; a second one would be redundant.
      b.addLayer(
          WIDE,
          new DenseLayer.Builder()
              .nIn(joinedSize)
              .nOut(embeddings.outputs())
              .activation(Activation.IDENTITY)
              .hasBias(false)
              .l2(spec.wide().l2())
              .build(),
          wideIn);
      b.addVertex("head_and_wide", new MergeVertex(), prev, WIDE);
      prev = "head_and_wide";
      prevSize += embeddings.outputs();
    }
    // A survival outcome: one hazard per follow-up interval, each a sigmoid, binary cross-entropy
    // under the label mask
    // of the intervals at risk (the discrete-time hazard likelihood); else a softmax over the
    // classes.
    boolean hazards = embeddings.survival();
    b.addLayer(
        OUTPUT,
        new OutputLayer.Builder(
                hazards ? LossFunctions.LossFunction.XENT : LossFunctions.LossFunction.MCXENT)
            .nIn(prevSize)
            .nOut(embeddings.outputs())
            .activation(hazards ? Activation.SIGMOID : Activation.SOFTMAX)
            .l2(spec.l2())
            .l1(spec.l1())
            .build(),
        prev);
    b.setOutputs(OUTPUT);
    ComputationGraphConfiguration conf;
    try {
      conf = b.build();
    } catch (RuntimeException e) {
      throw new FusionSpecException(cannot + e.getMessage());
    }
    return new Compiled(spec, conf, List.copyOf(leaves), embeddings.numClasses(), initialParams);
  }

  /**
   * Adds modality {@code m}'s encoder layers up to its depth (copies of the encoder's layer
   * configurations, with the encoder updater), then pooling or flattening to a vector; returns the
   * vertex that joins the fusion and puts its size into {@code size[0]}.
   */
  private static String addEncoderPrefix(
      ComputationGraphConfiguration.GraphBuilder b,
      FusionSpec spec,
      String m,
      Encoders encoders,
      Map<String, INDArray> initialParams,
      int[] size) {
    MultiLayerNetwork encoder = encoders.encoders().get(m);
    MultiLayerConfiguration ec = encoder.getLayerWiseConfigurations();
    String depth = spec.when().get(m);
    int layers = EncoderLayers.layerCount(ec, depth);
    if (layers < 0) {
      throw new ConfigException(
          "Cannot compile fusion '"
              + spec.name()
              + "': "
              + spec.key()
              + ".when."
              + m
              + " = '"
              + depth
              + "' is not a layer of the "
              + m
              + " encoder (valid: "
              + String.join(", ", EncoderLayers.depths(ec))
              + ", or a layer index 0.."
              + (ec.getConfs().size() - 2)
              + ")");
    }
    List<String> names = EncoderLayers.names(ec);
    String prev = m;
    if (layers == 0) {
      long[] shape = encoders.shapes().get(m);
      int dim = (int) java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
      size[0] = dim;
      if (shape.length > 1) {
        String flat = m + "_flat";
        b.addVertex(flat, new ReshapeVertex('c', new int[] {-1, dim}, null), m);
        return flat;
      }
      return m;
    }
    for (int i = 0; i < layers; i++) {
      Layer l = ec.getConf(i).getLayer().clone();
      String name = encoderLayer(m, names.get(i));
      l.setLayerName(name);
      setUpdater(l, encoders.updater());
      b.addLayer(name, l, ec.getInputPreProcess(i), prev);
      if (encoders.pretrained() && encoder.getLayer(i).numParams() > 0) {
        initialParams.put(name, encoder.getLayer(i).params().dup());
      }
      prev = name;
    }
    size[0] = EncoderLayers.outputSize(ec, layers - 1);
    if (EncoderLayers.output(ec, layers - 1) != EncoderLayers.Output.FLAT) {
      String pool = m + "_gap";
      b.addLayer(pool, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), prev);
      return pool;
    }
    return prev;
  }

  private static void setUpdater(Layer l, IUpdater updater) {
    if (l instanceof BaseWrapperLayer w) {
      setUpdater(w.getUnderlying(), updater);
    } else if (l instanceof BaseLayer bl) {
      bl.setIUpdater(updater.clone());
      bl.setBiasUpdater(updater.clone());
    }
  }

  private static Activation activation(FusionSpec spec, String name) {
    try {
      return Activation.valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new FusionSpecException(
          "Cannot compile fusion '"
              + spec.name()
              + "': "
              + spec.key()
              + ".projection-activation = '"
              + name
              + "' is not a DL4J activation (e.g. relu, tanh, identity)");
    }
  }
}
