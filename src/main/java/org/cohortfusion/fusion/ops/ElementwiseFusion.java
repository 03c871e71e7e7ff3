package org.cohortfusion.fusion.ops;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Element-wise fusion of equally sized (projected) modality representations: SUM {@code sum_m p_m
 * h_m} or PRODUCT {@code prod_{m present} h_m} (Hadamard product), the element-wise "tensor
 * operations" of the fusion review (arXiv 2408.02686); cf. the element-wise fusion baselines of
 * Baltrušaitis et al., "Multimodal Machine Learning: A Survey and Taxonomy" (IEEE TPAMI 2019, arXiv
 * 1705.09406).
 *
 * <p>Masking: the sum runs over present modalities only (an absent one is not a zero addend but
 * simply skipped, which for a sum is the same); the product runs over present modalities only (an
 * absent modality is the neutral element 1, never a zero factor). A row with no modality present
 * outputs zeros. Absent modalities get a zero gradient.
 */
public class ElementwiseFusion extends FusionVertexConf {

  private static final long serialVersionUID = 1L;

  /** The element-wise reduction. */
  public enum Mode {
    SUM,
    PRODUCT
  }

  private Mode mode = Mode.SUM;

  public ElementwiseFusion() {}

  public ElementwiseFusion(Mode mode, int... sizes) {
    super(sizes);
    this.mode = mode;
    commonSize();
  }

  public Mode getMode() {
    return mode;
  }

  public void setMode(Mode mode) {
    this.mode = mode;
  }

  @Override
  public long outputSize() {
    return commonSize();
  }

  @Override
  protected Object[] optionValues() {
    return new Object[] {mode};
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

  /** Runtime vertex of {@link ElementwiseFusion}. */
  static final class Impl extends FusionGraphVertex {
    private static final long serialVersionUID = 1L;

    Impl(
        ElementwiseFusion conf,
        ComputationGraph graph,
        String name,
        int idx,
        INDArray paramsView,
        boolean init,
        DataType dataType) {
      super(conf, graph, name, idx, paramsView, init, dataType);
    }

    private boolean product() {
      return ((ElementwiseFusion) conf).mode == Mode.PRODUCT;
    }

    /** Product factor of modality m: h_m where present, 1 where absent. */
    private static INDArray factor(INDArray x, INDArray presence, int m) {
      INDArray p = FusionMath.col(presence, m);
      return x.mulColumnVector(p).addiColumnVector(p.rsub(1.0));
    }

    @Override
    protected INDArray forward(INDArray[] x, INDArray presence) {
      INDArray out = null;
      for (int m = 0; m < x.length; m++) {
        INDArray term =
            product()
                ? factor(x[m], presence, m)
                : x[m].mulColumnVector(FusionMath.col(presence, m));
        out = out == null ? term : (product() ? out.muli(term) : out.addi(term));
      }
      return product() ? out.muliColumnVector(FusionMath.anyPresent(presence)) : out;
    }

    @Override
    protected INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon) {
      INDArray[] dx = new INDArray[x.length];
      INDArray any = FusionMath.anyPresent(presence);
      for (int m = 0; m < x.length; m++) {
        INDArray g = epsilon.mulColumnVector(FusionMath.col(presence, m));
        if (product()) {
          g.muliColumnVector(any);
          for (int k = 0; k < x.length; k++) {
            if (k != m) {
              g.muli(factor(x[k], presence, k));
            }
          }
        }
        dx[m] = g;
      }
      return dx;
    }
  }
}
