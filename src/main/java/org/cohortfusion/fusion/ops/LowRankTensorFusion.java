package org.cohortfusion.fusion.ops;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Low-rank Multimodal Fusion (LMF; Liu et al. 2018, "Efficient Low-rank Multimodal Fusion with
 * Modality-Specific Factors", arXiv 1806.00064): the tensor-fusion weight is factorised into
 * rank-{@code r} modality-specific factors, giving {@code out = sum_{i<r} prod_m ([h_m; 1] W_m^(i))
 * + b} without materialising the outer product. LMF's rank-combination weights are absorbed into
 * the factors (scaling a factor is equivalent), so they are not a separate parameter.
 *
 * <p>Trainable parameters: {@code W0..W(M-1)} of shape [r, d_m + 1, outSize] and bias {@code b} [1,
 * outSize]. Sizes may differ.
 *
 * <p>Masking: an absent modality's vector is {@code [0, ..., 0, 1]} (only the constant survives),
 * exactly the masked semantics of {@link TensorFusion}; absent inputs neither change the output nor
 * receive gradient. A row with no modality present outputs zeros.
 */
public class LowRankTensorFusion extends FusionVertexConf {

  private static final long serialVersionUID = 1L;

  private int rank = 4;
  private int outSize;

  public LowRankTensorFusion() {}

  public LowRankTensorFusion(int rank, int outSize, int... sizes) {
    super(sizes);
    if (rank <= 0 || outSize <= 0) {
      throw new IllegalArgumentException("rank and outSize must be positive");
    }
    this.rank = rank;
    this.outSize = outSize;
  }

  public int getRank() {
    return rank;
  }

  public void setRank(int rank) {
    this.rank = rank;
  }

  public int getOutSize() {
    return outSize;
  }

  public void setOutSize(int outSize) {
    this.outSize = outSize;
  }

  @Override
  public long outputSize() {
    return outSize;
  }

  @Override
  protected Object[] optionValues() {
    return new Object[] {rank, outSize};
  }

  @Override
  public Map<String, long[]> paramShapes() {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (int m = 0; m < sizes.length; m++) {
      shapes.put("W" + m, new long[] {rank, sizes[m] + 1, outSize});
    }
    shapes.put("b", new long[] {1, outSize});
    return shapes;
  }

  @Override
  public void initParams(Map<String, INDArray> params) {
    for (Map.Entry<String, INDArray> e : params.entrySet()) {
      if (e.getKey().equals("b")) {
        e.getValue().assign(0.0);
      } else {
        long[] s = e.getValue().shape();
        initUniform(e.getValue(), Math.sqrt(6.0 / (s[1] + s[2])));
      }
    }
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
   * Runtime vertex of {@link LowRankTensorFusion}. Each modality's r factors are used as one [d_m +
   * 1, r * outSize] matrix, so a modality's projections for every rank are one matmul (plus its
   * constant row), the product over modalities is M - 1 element-wise products of [batch, r *
   * outSize] arrays and the sum over ranks one reduction; the forward pass's intermediates are
   * cached for the backward pass.
   */
  static final class Impl extends FusionGraphVertex {
    private static final long serialVersionUID = 1L;

    /**
     * Cached forward pass, per modality: masked input, factors as [d_m + 1, r * o], projections
     * [batch, r * o].
     */
    private transient INDArray[] maskedInputs;

    private transient INDArray[] factors;
    private transient INDArray[] projections;
    private transient INDArray anyPresent;

    Impl(
        LowRankTensorFusion conf,
        ComputationGraph graph,
        String name,
        int idx,
        INDArray paramsView,
        boolean init,
        DataType dataType) {
      super(conf, graph, name, idx, paramsView, init, dataType);
    }

    @Override
    protected boolean cachesForward() {
      return true;
    }

    @Override
    protected void clearForwardCache() {
      maskedInputs = null;
      factors = null;
      projections = null;
      anyPresent = null;
    }

    /** W_m [r, d + 1, o] as the [d + 1, r * o] matrix whose column i * o + k is W_m[i, :, k]. */
    private static INDArray wide(INDArray w) {
      return w.permute(1, 0, 2).dup('c').reshape('c', w.size(1), w.size(0) * w.size(2));
    }

    private static INDArray rows(INDArray a, long from, long to) {
      return a.get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
    }

    @Override
    protected INDArray forward(INDArray[] x, INDArray presence) {
      int m = x.length;
      long batch = x[0].size(0);
      LowRankTensorFusion c = (LowRankTensorFusion) conf;
      long o = c.outSize;
      maskedInputs = new INDArray[m];
      factors = new INDArray[m];
      projections = new INDArray[m];
      INDArray prod = null;
      for (int i = 0; i < m; i++) {
        long d = x[i].size(1);
        maskedInputs[i] = x[i].mulColumnVector(FusionMath.col(presence, i));
        factors[i] = wide(param("W" + i));
        // [p h; 1] W = (p h) W[:d] + W[d]
        projections[i] =
            FusionMath.mm(maskedInputs[i], rows(factors[i], 0, d), false, false)
                .addiRowVector(rows(factors[i], d, d + 1));
        prod = prod == null ? projections[i].dup() : prod.muli(projections[i]);
      }
      anyPresent = FusionMath.anyPresent(presence);
      return prod.reshape('c', batch, c.rank, o)
          .sum(1)
          .addiRowVector(param("b"))
          .muliColumnVector(anyPresent);
    }

    @Override
    protected INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon) {
      int m = x.length;
      int rank = ((LowRankTensorFusion) conf).rank;
      INDArray e = epsilon.mulColumnVector(anyPresent);
      gradientTarget("b").assign(e.sum(true, 0));
      // the output's gradient repeated for every rank: [batch, r * o]
      INDArray eRanks = Nd4j.tile(e, 1, rank);
      // product of the other modalities' projections: prefix and suffix products
      INDArray[] suffix = new INDArray[m + 1];
      for (int i = m - 1; i > 0; i--) {
        suffix[i] = suffix[i + 1] == null ? projections[i] : projections[i].mul(suffix[i + 1]);
      }
      INDArray prefix = null;
      INDArray[] dx = new INDArray[m];
      for (int i = 0; i < m; i++) {
        long d = x[i].size(1);
        INDArray others =
            prefix == null
                ? suffix[i + 1]
                : suffix[i + 1] == null ? prefix : prefix.mul(suffix[i + 1]);
        INDArray dF = others == null ? eRanks : eRanks.mul(others);
        INDArray dWide = Nd4j.createUninitialized(dF.dataType(), d + 1, dF.size(1));
        FusionMath.mmInto(maskedInputs[i], dF, rows(dWide, 0, d), true, false);
        rows(dWide, d, d + 1).assign(dF.sum(true, 0));
        INDArray w = param("W" + i);
        gradientTarget("W" + i)
            .assign(dWide.reshape('c', d + 1, w.size(0), w.size(2)).permute(1, 0, 2));
        dx[i] =
            FusionMath.mm(dF, rows(factors[i], 0, d), false, true)
                .muliColumnVector(FusionMath.col(presence, i));
        prefix = prefix == null ? projections[i] : prefix.mul(projections[i]);
      }
      return dx;
    }
  }
}
