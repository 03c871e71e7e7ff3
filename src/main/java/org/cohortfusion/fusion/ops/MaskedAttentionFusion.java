package org.cohortfusion.fusion.ops;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Masked modality attention: each modality token h_m gets the additive-attention score {@code s_m =
 * q . tanh(W_k h_m)} (Bahdanau et al. 2015, arXiv 1409.0473; the gated-free form of attention-based
 * deep multiple-instance pooling, Ilse et al. 2018, arXiv 1802.04712), weights {@code a =
 * softmax(s)} over the PRESENT modalities only and output {@code sum_m a_m h_m}. With {@code
 * keyProjection = false} the score is {@code q . h_m}.
 *
 * <p>With {@code normalised = false} each present modality's weight is {@code sigmoid(s_m)} on its
 * own, as in gated attention pooling, and the weights do not sum to one: the output then grows with
 * the modalities a subject has, as a sum or a zero-filled concatenation does, where the softmax's
 * convex combination keeps one scale whatever the count. A label whose evidence adds up across
 * modalities is what the unnormalised form can represent and the softmax cannot.
 *
 * <p>Trainable parameters: {@code q} [d, 1] and (optionally) {@code Wk} [d, d].
 *
 * <p>Masking: absent modalities are removed before the softmax (they are neither exponentiated nor
 * part of the normaliser), so their weight is exactly 0, their input values cannot change the
 * output and their gradient is 0. A row with no modality present outputs zeros.
 */
public class MaskedAttentionFusion extends FusionVertexConf {

  private static final long serialVersionUID = 1L;

  private boolean keyProjection = true;
  private boolean normalised = true;

  public MaskedAttentionFusion() {}

  public MaskedAttentionFusion(boolean keyProjection, int... sizes) {
    this(keyProjection, true, sizes);
  }

  public MaskedAttentionFusion(boolean keyProjection, boolean normalised, int... sizes) {
    super(sizes);
    this.keyProjection = keyProjection;
    this.normalised = normalised;
    commonSize();
  }

  public boolean isKeyProjection() {
    return keyProjection;
  }

  public void setKeyProjection(boolean keyProjection) {
    this.keyProjection = keyProjection;
  }

  public boolean isNormalised() {
    return normalised;
  }

  public void setNormalised(boolean normalised) {
    this.normalised = normalised;
  }

  @Override
  public long outputSize() {
    return commonSize();
  }

  @Override
  protected Object[] optionValues() {
    return new Object[] {keyProjection, normalised};
  }

  @Override
  public Map<String, long[]> paramShapes() {
    long d = commonSize();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put("q", new long[] {d, 1});
    if (keyProjection) {
      shapes.put("Wk", new long[] {d, d});
    }
    return shapes;
  }

  @Override
  public void initParams(Map<String, INDArray> params) {
    double limit = Math.sqrt(6.0 / (2.0 * commonSize()));
    for (INDArray p : params.values()) {
      initUniform(p, limit);
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
   * Runtime vertex of {@link MaskedAttentionFusion}. The M modality tokens are stacked into one
   * [batch * M, d] array, so keys, scores, the masked softmax over modalities and the weighted sum
   * are a fixed handful of whole-array ops (matmuls and batched matmuls) whatever M; the forward
   * pass's intermediates are cached for the backward pass.
   */
  static final class Impl extends FusionGraphVertex {
    private static final long serialVersionUID = 1L;

    /**
     * Cached forward pass: tokens [batch, M * d], keys [batch * M, d] (tanh, or the tokens),
     * weights [batch, M].
     */
    private transient INDArray tokens;

    private transient INDArray keys;
    private transient INDArray weights;

    Impl(
        MaskedAttentionFusion conf,
        ComputationGraph graph,
        String name,
        int idx,
        INDArray paramsView,
        boolean init,
        DataType dataType) {
      super(conf, graph, name, idx, paramsView, init, dataType);
    }

    private boolean projected() {
      return ((MaskedAttentionFusion) conf).keyProjection;
    }

    private boolean normalised() {
      return ((MaskedAttentionFusion) conf).normalised;
    }

    @Override
    protected boolean cachesForward() {
      return true;
    }

    @Override
    protected void clearForwardCache() {
      tokens = null;
      keys = null;
      weights = null;
    }

    @Override
    protected INDArray forward(INDArray[] x, INDArray presence) {
      int m = x.length;
      long batch = x[0].size(0);
      long d = x[0].size(1);
      INDArray stacked = concatInputs(x);
      INDArray flat = stacked.reshape('c', batch * m, d);
      INDArray u =
          projected()
              ? Transforms.tanh(FusionMath.mm(flat, param("Wk"), false, false), false)
              : flat;
      INDArray scores = FusionMath.mm(u, param("q"), false, false).reshape('c', batch, m);
      INDArray a =
          normalised()
              ? FusionMath.maskedSoftmax(scores, presence)
              : Transforms.sigmoid(scores, false).muli(presence);
      INDArray out =
          Nd4j.matmul(a.reshape('c', batch, 1, m), stacked.reshape('c', batch, m, d))
              .reshape('c', batch, d);
      tokens = stacked;
      keys = u;
      weights = a;
      return out;
    }

    @Override
    protected INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon) {
      int m = x.length;
      long batch = x[0].size(0);
      long d = x[0].size(1);
      INDArray e = epsilon.ordering() == 'c' ? epsilon : epsilon.dup('c');
      // dL/da[b, m] = eps_b . x_m[b]; dL/dx_m (through the weighted sum) = a[b, m] eps_b
      INDArray dA =
          Nd4j.matmul(tokens.reshape('c', batch, m, d), e.reshape('c', batch, d, 1))
              .reshape('c', batch, m);
      INDArray dx =
          Nd4j.matmul(weights.reshape('c', batch, m, 1), e.reshape('c', batch, 1, d))
              .reshape('c', batch * m, d);
      // an absent modality's sigmoid weight is 0, so a (1 - a) is 0 there and it gets no gradient
      INDArray dS =
          (normalised()
                  ? FusionMath.softmaxBackward(weights, dA)
                  : dA.muli(weights.rsub(1.0).muli(weights)))
              .reshape('c', batch * m, 1);
      INDArray q = param("q");
      FusionMath.mmInto(keys, dS, gradientTarget("q"), true, false);
      INDArray dU = FusionMath.mm(dS, q, false, true);
      if (projected()) {
        INDArray dz = dU.muli(FusionMath.tanhGrad(keys));
        INDArray flat = tokens.reshape('c', batch * m, d);
        FusionMath.mmInto(flat, dz, gradientTarget("Wk"), true, false);
        FusionMath.mmInto(dz, param("Wk"), dx, false, true, 1.0);
      } else {
        dx.addi(dU);
      }
      INDArray wide = dx.reshape('c', batch, m * d);
      INDArray[] out = new INDArray[m];
      for (int i = 0; i < m; i++) {
        out[i] = FusionMath.columns(wide, i * d, d);
      }
      return out;
    }
  }
}
