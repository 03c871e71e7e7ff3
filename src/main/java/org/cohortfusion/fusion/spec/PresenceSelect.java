package org.cohortfusion.fusion.spec;

import java.util.Arrays;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Presence of the inputs of one fusion stage, from the presence mask of the leaf modalities {@code
 * [batch, M]}: output column j is the OR (max) of the leaf columns {@code groups[j]}. A stage
 * output counts as present when any modality under it is present. The presence is data: it gets a
 * zero epsilon and the vertex has no parameters.
 */
public class PresenceSelect extends GraphVertex {
  private static final long serialVersionUID = 1L;

  private int[][] groups = new int[0][];
  private int numColumns;

  public PresenceSelect() {}

  public PresenceSelect(int numColumns, int[][] groups) {
    this.numColumns = numColumns;
    this.groups = copy(groups);
  }

  public int[][] getGroups() {
    return copy(groups);
  }

  public void setGroups(int[][] groups) {
    this.groups = copy(groups);
  }

  public int getNumColumns() {
    return numColumns;
  }

  public void setNumColumns(int numColumns) {
    this.numColumns = numColumns;
  }

  private static int[][] copy(int[][] g) {
    if (g == null) {
      return new int[0][];
    }
    int[][] out = new int[g.length][];
    for (int i = 0; i < g.length; i++) {
      out[i] = g[i].clone();
    }
    return out;
  }

  @Override
  public PresenceSelect clone() {
    return new PresenceSelect(numColumns, groups);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PresenceSelect p
        && p.numColumns == numColumns
        && Arrays.deepEquals(p.groups, groups);
  }

  @Override
  public int hashCode() {
    return 31 * numColumns + Arrays.deepHashCode(groups);
  }

  @Override
  public long numParams(boolean backprop) {
    return 0;
  }

  @Override
  public int minVertexInputs() {
    return 1;
  }

  @Override
  public int maxVertexInputs() {
    return 1;
  }

  @Override
  public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(
      ComputationGraph graph,
      String name,
      int idx,
      INDArray paramsView,
      boolean initializeParams,
      DataType networkDatatype) {
    return new Impl(this, graph, name, idx, networkDatatype);
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType... vertexInputs) {
    return InputType.feedForward(groups.length);
  }

  @Override
  public MemoryReport getMemoryReport(InputType... inputTypes) {
    return new LayerMemoryReport.Builder(
            null, PresenceSelect.class, inputTypes[0], InputType.feedForward(groups.length))
        .standardMemory(0, 0)
        .workingMemory(0, 0, 0, 0)
        .cacheMemory(0, 0)
        .build();
  }

  @Override
  public String toString() {
    return "PresenceSelect(columns=" + numColumns + ", groups=" + Arrays.deepToString(groups) + ")";
  }

  /** Runtime vertex. */
  static final class Impl extends BaseGraphVertex {
    private static final long serialVersionUID = 1L;
    private final PresenceSelect conf;

    /** [numColumns, groups] 0/1 indicator of each group's columns, built once per data type. */
    private transient INDArray indicator;

    Impl(PresenceSelect conf, ComputationGraph graph, String name, int idx, DataType dataType) {
      super(graph, name, idx, null, null, dataType);
      this.conf = conf;
    }

    @Override
    public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
      INDArray in = inputs[0];
      if (in.rank() != 2 || in.size(1) != conf.numColumns) {
        throw new IllegalArgumentException(
            vertexName
                + ": presence input must be [batch, "
                + conf.numColumns
                + "], got "
                + Arrays.toString(in.shape()));
      }
      if (indicator == null || indicator.dataType() != in.dataType()) {
        try (org.nd4j.linalg.api.memory.MemoryWorkspace ws =
            org.nd4j.linalg.factory.Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
          INDArray g =
              org.nd4j.linalg.factory.Nd4j.zeros(
                  in.dataType(), conf.numColumns, conf.groups.length);
          for (int j = 0; j < conf.groups.length; j++) {
            for (int c : conf.groups[j]) {
              g.putScalar(c, j, 1.0);
            }
          }
          indicator = g;
        }
      }
      // OR of 0/1 columns = min(their sum, 1): one matmul and one scalar op for all groups
      INDArray out =
          workspaceMgr.createUninitialized(
              ArrayType.ACTIVATIONS, in.dataType(), in.size(0), conf.groups.length);
      org.nd4j.linalg.factory.Nd4j.gemm(in, indicator, out, false, false, 1.0, 0.0);
      return org.nd4j.linalg.ops.transforms.Transforms.min(out, 1.0, false);
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
      // create() zero-fills
      INDArray eps =
          workspaceMgr.create(ArrayType.ACTIVATION_GRAD, inputs[0].dataType(), inputs[0].shape());
      return new Pair<>(null, new INDArray[] {eps});
    }

    @Override
    public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
      if (backpropGradientsViewArray != null) {
        throw new IllegalStateException(vertexName + " has no parameters");
      }
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArrays(
        INDArray[] maskArrays, MaskState currentMaskState, int minibatchSize) {
      return null;
    }

    @Override
    public boolean hasLayer() {
      return false;
    }

    @Override
    public Layer getLayer() {
      return null;
    }

    @Override
    public String toString() {
      return "PresenceSelect.Impl(" + vertexName + ")";
    }
  }
}
