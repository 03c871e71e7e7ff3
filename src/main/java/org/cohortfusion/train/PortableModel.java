package org.cohortfusion.train;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A model trained on embeddings as an executor rebuilds it from a broadcast: a graph and the
 * modality columns it reads, or late fusion (the members' graphs, each on its modality; {@link
 * TrainedModels#late}). Configuration JSON and float parameters ({@link
 * ExecutorMetrics.ModelBytes}); the graphs train compiles are float, so the rebuilt model computes
 * what the loaded one does. A plain class, not a record: Kryo cannot build records.
 */
public final class PortableModel implements Serializable {
  private static final long serialVersionUID = 1L;
  private ExecutorMetrics.ModelBytes[] graphs;
  private int[][] columns;

  /** Per member its modality index (late fusion), or null for a single graph. */
  private int[] lateModalities;

  private int numClasses;

  /** Late fusion of survival models ({@link TrainedModels#lateSurvival}). */
  private boolean survival;

  /** For Kryo. */
  private PortableModel() {}

  private PortableModel(
      ExecutorMetrics.ModelBytes[] graphs,
      int[][] columns,
      int[] lateModalities,
      int numClasses,
      boolean survival) {
    this.graphs = graphs;
    this.columns = columns;
    this.lateModalities = lateModalities;
    this.numClasses = numClasses;
    this.survival = survival;
  }

  /** A graph reading the modality columns {@code columns} (as {@link TrainedModels#graph}). */
  static PortableModel graph(ComputationGraph graph, int[] columns) {
    return new PortableModel(
        new ExecutorMetrics.ModelBytes[] {bytes(graph)},
        new int[][] {columns.clone()},
        null,
        0,
        false);
  }

  /**
   * Late fusion of unimodal graphs, keyed by the modality index each reads; of survival models
   * ({@link TrainedModels#lateSurvival}) when {@code survival}.
   */
  static PortableModel late(
      Map<Integer, ComputationGraph> members, int numClasses, boolean survival) {
    Map<Integer, ComputationGraph> sorted = new TreeMap<>(members);
    ExecutorMetrics.ModelBytes[] g = new ExecutorMetrics.ModelBytes[sorted.size()];
    int[][] cols = new int[sorted.size()][];
    int[] modalities = new int[sorted.size()];
    int j = 0;
    for (Map.Entry<Integer, ComputationGraph> e : sorted.entrySet()) {
      g[j] = bytes(e.getValue());
      cols[j] = new int[] {e.getKey()};
      modalities[j] = e.getKey();
      j++;
    }
    return new PortableModel(g, cols, modalities, numClasses, survival);
  }

  private static ExecutorMetrics.ModelBytes bytes(ComputationGraph graph) {
    return new ExecutorMetrics.ModelBytes(
        graph.getConfiguration().toJson(), graph.params().castTo(DataType.FLOAT).toFloatVector());
  }

  /** Rebuilds the graphs (once per call: call it once per partition) and returns the predictor. */
  public Metrics.Predictor predictor() {
    if (lateModalities == null) {
      return TrainedModels.graph(graphs[0].graph(), columns[0]);
    }
    Map<Integer, Metrics.Predictor> members = new TreeMap<>();
    for (int j = 0; j < graphs.length; j++) {
      members.put(lateModalities[j], TrainedModels.graph(graphs[j].graph(), columns[j]));
    }
    return survival ? TrainedModels.lateSurvival(members) : TrainedModels.late(members, numClasses);
  }
}
