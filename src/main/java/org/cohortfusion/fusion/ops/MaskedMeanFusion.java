package org.cohortfusion.fusion.ops;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Masked mean fusion: {@code (1 / |P|) sum_{m in P} h_m} over the set P of present modalities, i.e.
 * mean pooling of the modality embeddings that exist for the subject, as in the "abstraction layer"
 * of HeMIS (Havaei et al. 2016, "HeMIS: Hetero-Modal Image Segmentation", arXiv 1607.05194), which
 * averages over whichever modalities are available.
 *
 * <p>Masking: the divisor is the number of PRESENT modalities, so no zero vector of an absent
 * modality dilutes the mean; absent modalities get zero gradient; a row with no modality present
 * outputs zeros.
 */
public class MaskedMeanFusion extends FusionVertexConf {

  private static final long serialVersionUID = 1L;

  public MaskedMeanFusion() {}

  public MaskedMeanFusion(int... sizes) {
    super(sizes);
    commonSize();
  }

  @Override
  public long outputSize() {
    return commonSize();
  }

  @Override
  protected FusionGraphVertex createVertex(
      ComputationGraph graph,
      String name,
      int idx,
      INDArray paramsView,
      boolean initializeParams,
      DataType dataType) {
    return new Impl(this, graph, name, idx, paramsView, initializeParams, dataType);
  }

  /** Runtime vertex of {@link MaskedMeanFusion}. */
  static final class Impl extends FusionGraphVertex {
    private static final long serialVersionUID = 1L;

    Impl(
        MaskedMeanFusion conf,
        ComputationGraph graph,
        String name,
        int idx,
        INDArray paramsView,
        boolean init,
        DataType dataType) {
      super(conf, graph, name, idx, paramsView, init, dataType);
    }

    @Override
    protected INDArray forward(INDArray[] x, INDArray presence) {
      INDArray inv = FusionMath.inverseCount(presence);
      INDArray out = org.nd4j.linalg.factory.Nd4j.zeros(x[0].dataType(), x[0].shape());
      for (int m = 0; m < x.length; m++) {
        out.addi(x[m].mulColumnVector(FusionMath.col(presence, m).mul(inv)));
      }
      return out;
    }

    @Override
    protected INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon) {
      INDArray inv = FusionMath.inverseCount(presence);
      INDArray[] dx = new INDArray[x.length];
      for (int m = 0; m < x.length; m++) {
        dx[m] = epsilon.mulColumnVector(FusionMath.col(presence, m).mul(inv));
      }
      return dx;
    }
  }
}
