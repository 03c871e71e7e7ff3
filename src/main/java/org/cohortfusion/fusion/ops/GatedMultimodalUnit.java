package org.cohortfusion.fusion.ops;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Gated Multimodal Unit (Arevalo et al. 2017, "Gated Multimodal Units for Information Fusion",
 * arXiv 1702.01992), generalised to M modalities: {@code h'_m = tanh(h_m W_m)}, gate logits {@code
 * g = [p_1 h_1; ...; p_M h_M] W_z + b_z}, gates {@code z = softmax(g)} over the PRESENT modalities
 * and output {@code sum_m z_m h'_m}. For M = 2 the softmax gate is exactly the original sigmoid
 * gate {@code z, 1 - z}.
 *
 * <p>Trainable parameters: {@code W0..W(M-1)} [d_m, outSize], {@code Wz} [sum d_m, M], {@code bz}
 * [1, M]. Modality sizes may differ; {@code outSize} defaults to the first modality size.
 *
 * <p>Masking: absent modalities are zero-filled in the gate input and excluded from the gate
 * softmax (gate exactly 0), so they neither change the output nor receive gradient. A row with no
 * modality present outputs zeros.
 */
public class GatedMultimodalUnit extends FusionVertexConf {

  private static final long serialVersionUID = 1L;

  private int outSize;

  public GatedMultimodalUnit() {}

  public GatedMultimodalUnit(int outSize, int... sizes) {
    super(sizes);
    this.outSize = outSize > 0 ? outSize : sizes[0];
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
    return new Object[] {outSize};
  }

  private long totalSize() {
    long n = 0;
    for (int s : sizes) {
      n += s;
    }
    return n;
  }

  @Override
  public Map<String, long[]> paramShapes() {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (int m = 0; m < sizes.length; m++) {
      shapes.put("W" + m, new long[] {sizes[m], outSize});
    }
    shapes.put("Wz", new long[] {totalSize(), sizes.length});
    shapes.put("bz", new long[] {1, sizes.length});
    return shapes;
  }

  @Override
  public void initParams(Map<String, INDArray> params) {
    for (Map.Entry<String, INDArray> e : params.entrySet()) {
      long[] s = e.getValue().shape();
      if (e.getKey().equals("bz")) {
        e.getValue().assign(0.0);
      } else {
        initUniform(e.getValue(), Math.sqrt(6.0 / (s[0] + s[1])));
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
   * Runtime vertex of {@link GatedMultimodalUnit}. The M hidden representations are written side by
   * side into one [batch, M * outSize] array (one tanh, one batched matmul for the gated sum and
   * its gradients), the gate input is masked by one matmul-spread presence mask; the forward pass's
   * intermediates are cached for the backward pass. Per modality there remain only its own
   * projection's matmuls.
   */
  static final class Impl extends FusionGraphVertex {
    private static final long serialVersionUID = 1L;

    /** [M, sum d_m] block indicator of the modalities' columns, built once per data type. */
    private transient INDArray blocks;

    /**
     * Cached forward pass: hidden [batch, M * o] (tanh), masked concatenated inputs, their spread
     * mask, gates.
     */
    private transient INDArray hidden;

    private transient INDArray maskedInputs;
    private transient INDArray spreadMask;
    private transient INDArray gates;

    Impl(
        GatedMultimodalUnit conf,
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
      hidden = null;
      maskedInputs = null;
      spreadMask = null;
      gates = null;
    }

    private INDArray blocks(DataType type) {
      if (blocks == null || blocks.dataType() != type) {
        blocks = FusionMath.blockIndicator(conf.getSizes(), type);
      }
      return blocks;
    }

    @Override
    protected INDArray forward(INDArray[] x, INDArray presence) {
      int m = x.length;
      long batch = x[0].size(0);
      long o = ((GatedMultimodalUnit) conf).outSize;
      INDArray h = Nd4j.createUninitialized(x[0].dataType(), batch, m * o);
      for (int i = 0; i < m; i++) {
        FusionMath.mmInto(x[i], param("W" + i), FusionMath.columns(h, i * o, o), false, false);
      }
      Transforms.tanh(h, false);
      INDArray spread = FusionMath.mm(presence, blocks(x[0].dataType()), false, false);
      INDArray masked = concatInputs(x).mul(spread);
      INDArray z =
          FusionMath.maskedSoftmax(
              FusionMath.mm(masked, param("Wz"), false, false).addiRowVector(param("bz")),
              presence);
      INDArray out =
          Nd4j.matmul(z.reshape('c', batch, 1, m), h.reshape('c', batch, m, o))
              .reshape('c', batch, o);
      hidden = h;
      maskedInputs = masked;
      spreadMask = spread;
      gates = z;
      return out;
    }

    @Override
    protected INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon) {
      int m = x.length;
      long batch = x[0].size(0);
      long o = ((GatedMultimodalUnit) conf).outSize;
      INDArray e = epsilon.ordering() == 'c' ? epsilon : epsilon.dup('c');
      // dL/dz[b, m] = eps_b . h'_m[b]; dL/dh'_m (through the gated sum) = z[b, m] eps_b
      INDArray dZ =
          Nd4j.matmul(hidden.reshape('c', batch, m, o), e.reshape('c', batch, o, 1))
              .reshape('c', batch, m);
      INDArray dPre =
          Nd4j.matmul(gates.reshape('c', batch, m, 1), e.reshape('c', batch, 1, o))
              .reshape('c', batch, m * o)
              .muli(FusionMath.tanhGrad(hidden));
      INDArray dG = FusionMath.softmaxBackward(gates, dZ);
      FusionMath.mmInto(maskedInputs, dG, gradientTarget("Wz"), true, false);
      gradientTarget("bz").assign(dG.sum(true, 0));
      INDArray dXcat = FusionMath.mm(dG, param("Wz"), false, true).muli(spreadMask);
      INDArray[] dx = new INDArray[m];
      long offset = 0;
      for (int i = 0; i < m; i++) {
        INDArray dPreI = FusionMath.columns(dPre, i * o, o);
        FusionMath.mmInto(x[i], dPreI, gradientTarget("W" + i), true, false);
        long width = x[i].size(1);
        dx[i] =
            FusionMath.columns(dXcat, offset, width)
                .addi(FusionMath.mm(dPreI, param("W" + i), false, true));
        offset += width;
      }
      return dx;
    }
  }
}
