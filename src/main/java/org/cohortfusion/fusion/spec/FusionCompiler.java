package org.cohortfusion.fusion.spec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.cohortfusion.fusion.ops.FusionOp;
import org.cohortfusion.fusion.ops.FusionVertexConf;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Compiles a {@link FusionSpec} to one DL4J {@link ComputationGraph} (intermediate fusion, arXiv 2408.02686):
 *
 * <ul>
 *   <li>inputs: one per leaf modality {@code [batch, d_m]} in the embeddings' order, then {@code presence}
 *       {@code [batch, M]} (1 = present; absent rows are zeros and masked fusion ignores them);
 *   <li>a trainable projection (dense, with bias and the projection activation) per input where the stage's
 *       operation needs equal sizes (or always when {@code projection} is a positive size): inside the stage's
 *       fusion vertex ({@link FusionVertexConf#withProjection}, all of a stage's projections as a few whole-array
 *       ops), or a DenseLayer when a leaf feeds more than one stage (so that its projection stays shared);
 *   <li>one fusion vertex per stage from {@link FusionOp}, each fed by its inputs and their presence (a stage's
 *       presence is the OR of its leaves' presence, via {@link PresenceSelect});
 *   <li>the multimodal head: Dense layers (ReLU, dropout) then a softmax output with multi-class cross-entropy.
 * </ul>
 */
public final class FusionCompiler {
  /** Name of the presence input. */
  public static final String PRESENCE = "presence";
  /** Name of the output layer. */
  public static final String OUTPUT = "out";

  private FusionCompiler() {}

  /** A compiled spec: the graph configuration and its input order. */
  public record Compiled(FusionSpec spec, ComputationGraphConfiguration configuration, List<String> modalities,
                         int numClasses) {
    /** A freshly initialised graph. */
    public ComputationGraph newGraph() {
      ComputationGraph g = new ComputationGraph(configuration.clone());
      g.init();
      return g;
    }
  }

  /**
   * Compiles {@code spec} against the modalities of {@code embeddings}.
   *
   * @param updater updater (with learning-rate schedule) of every layer
   * @param seed weight-initialisation seed
   */
  public static Compiled compile(FusionSpec spec, EmbeddingsSpec embeddings, IUpdater updater, long seed) {
    String cannot = "Cannot compile fusion '" + spec.name() + "': ";
    if (spec.kind() == FusionSpec.Kind.LATE) {
      throw new FusionSpecException(cannot + "late fusion is a combination of trained unimodal models, not one graph");
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
          String key = spec.stages().size() > 1 ? spec.key() + ".stages[" + si + "].what[" + j + "]" : spec.key() + ".what[" + j + "]";
          throw new FusionSpecException(cannot + key + " = '" + in + "' is not a modality of the embeddings (have "
              + embeddings.modalityNames() + ")" + (spec.stages().size() > 1 ? " nor an earlier stage" : ""));
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

    ComputationGraphConfiguration.GraphBuilder b = new NeuralNetConfiguration.Builder()
        .seed(seed).dataType(DataType.FLOAT).updater(updater).weightInit(WeightInit.XAVIER)
        .graphBuilder();
    List<String> inputNames = new ArrayList<>(leaves);
    inputNames.add(PRESENCE);
    b.addInputs(inputNames.toArray(new String[0]));

    // Output vertex and size of every node that can feed a stage; leaf projections first when projection > 0.
    Map<String, String> node = new HashMap<>();
    Map<String, Integer> size = new HashMap<>();
    Map<String, Set<Integer>> leafColumns = new HashMap<>();
    boolean projectAll = spec.projection() != null && spec.projection() > 0;
    Map<String, Integer> uses = new HashMap<>();
    spec.stages().forEach(s -> s.inputs().forEach(in -> uses.merge(in, 1, Integer::sum)));
    // Leaves whose projection the consuming stage's vertex does itself (raw leaf in, projected inside).
    Set<String> projectInVertex = new java.util.HashSet<>();
    for (int i = 0; i < leaves.size(); i++) {
      String m = leaves.get(i);
      leafColumns.put(m, Set.of(i));
      if (projectAll && uses.getOrDefault(m, 0) <= 1) {
        projectInVertex.add(m);
        node.put(m, m);
        size.put(m, embeddings.dim(m));
      } else if (projectAll) {
        String p = "proj_" + m;
        b.addLayer(p, new DenseLayer.Builder().nIn(embeddings.dim(m)).nOut(spec.projection()).activation(projAct).build(), m);
        node.put(m, p);
        size.put(m, spec.projection());
      } else {
        node.put(m, m);
        size.put(m, embeddings.dim(m));
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
            throw new FusionSpecException(cannot + spec.key() + ".projection = 0 but '" + s.op().configName()
                + "' needs equal sizes and '" + in + "' has size " + sz);
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
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new FusionSpecException(cannot + spec.key() + " stage '" + s.name() + "' (" + s.op().configName() + "): " + e.getMessage());
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
      DenseLayer.Builder d = new DenseLayer.Builder().nIn(prevSize).nOut(spec.head().get(h)).activation(Activation.RELU);
      if (spec.dropout() > 0) {
        d.dropOut(1.0 - spec.dropout()); // DL4J takes the retain probability
      }
      b.addLayer("head_" + h, d.build(), prev);
      prev = "head_" + h;
      prevSize = spec.head().get(h);
    }
    b.addLayer(OUTPUT, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(prevSize)
        .nOut(embeddings.numClasses()).activation(Activation.SOFTMAX).build(), prev);
    b.setOutputs(OUTPUT);
    ComputationGraphConfiguration conf;
    try {
      conf = b.build();
    } catch (RuntimeException e) {
      throw new FusionSpecException(cannot + e.getMessage());
    }
    return new Compiled(spec, conf, List.copyOf(leaves), embeddings.numClasses());
  }

  private static Activation activation(FusionSpec spec, String name) {
    try {
      return Activation.valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new FusionSpecException("Cannot compile fusion '" + spec.name() + "': " + spec.key()
          + ".projection-activation = '" + name + "' is not a DL4J activation (e.g. relu, tanh, identity)");
    }
  }
}
