package org.cohortfusion.fusion.ops;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Concatenation fusion: {@code [p_1 h_1; ...; p_M h_M]} (optionally followed by the M presence
 * indicators).
 *
 * <p>Concatenation is the field's default baseline: in the review of multimodal deep learning for
 * biomedical data integration (arXiv 2408.02686) it accounts for 82% of the single-fusion models.
 * With {@code withIndicators} the presence indicators are appended ("concatenation with mask
 * indicators"), letting downstream layers tell an absent modality from a present one whose
 * representation happens to be zero.
 *
 * <p>Masking: an absent modality is zero-filled, so its input values never reach the output and it
 * receives a zero gradient. Modality sizes may differ. Output size {@code sum(d_m) (+ M)}.
 */
public class ConcatFusion extends FusionVertexConf {

  private static final long serialVersionUID = 1L;

  private boolean withIndicators;

  public ConcatFusion() {}

  public ConcatFusion(boolean withIndicators, int... sizes) {
    super(sizes);
    this.withIndicators = withIndicators;
  }

  public boolean isWithIndicators() {
    return withIndicators;
  }

  public void setWithIndicators(boolean withIndicators) {
    this.withIndicators = withIndicators;
  }

  @Override
  public long outputSize() {
    long n = withIndicators ? sizes.length : 0;
    for (int s : sizes) {
      n += s;
    }
    return n;
  }

  @Override
  protected Object[] optionValues() {
    return new Object[] {withIndicators};
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

  /**
   * Runtime vertex of {@link ConcatFusion}: one concat and one multiplication by the presence mask
   * spread over the columns (itself one matmul), forward and backward alike.
   */
  static final class Impl extends FusionGraphVertex {
    private static final long serialVersionUID = 1L;

    /** [M, sum d_m] block indicator of the modalities' columns, built once per data type. */
    private transient INDArray blocks;

    Impl(
        ConcatFusion conf,
        ComputationGraph graph,
        String name,
        int idx,
        INDArray paramsView,
        boolean init,
        DataType dataType) {
      super(conf, graph, name, idx, paramsView, init, dataType);
    }

    private INDArray spread(INDArray presence) {
      if (blocks == null || blocks.dataType() != presence.dataType()) {
        blocks = FusionMath.blockIndicator(conf.getSizes(), presence.dataType());
      }
      return FusionMath.mm(presence, blocks, false, false);
    }

    @Override
    protected INDArray forward(INDArray[] x, INDArray presence) {
      boolean indicators = ((ConcatFusion) conf).withIndicators;
      INDArray[] parts = x;
      if (indicators) {
        parts = java.util.Arrays.copyOf(x, x.length + 1);
        parts[x.length] = presence;
      }
      INDArray out = parts.length == 1 ? x[0].dup('c') : Nd4j.hstack(parts);
      INDArray spread = spread(presence);
      FusionMath.columns(out, 0, spread.size(1)).muli(spread);
      return out;
    }

    @Override
    protected INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon) {
      INDArray spread = spread(presence);
      INDArray dx = FusionMath.columns(epsilon, 0, spread.size(1)).mul(spread);
      INDArray[] out = new INDArray[x.length];
      long offset = 0;
      for (int m = 0; m < x.length; m++) {
        long width = x[m].size(1);
        out[m] = FusionMath.columns(dx, offset, width);
        offset += width;
      }
      return out;
    }
  }
}
