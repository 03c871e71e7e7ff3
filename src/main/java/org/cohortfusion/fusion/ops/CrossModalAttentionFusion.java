package org.cohortfusion.fusion.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Cross-modal attention fusion: every present modality m queries the OTHER present modalities with
 * scaled dot-product attention (Vaswani et al. 2017, arXiv 1706.03762), as in the crossmodal
 * attention of the Multimodal Transformer (MulT; Tsai et al. 2019, arXiv 1906.00295): {@code t_m =
 * h_m + sum_{k != m} softmax_k((h_m W_q) . (h_k W_k) / sqrt(d)) (h_k W_v)} (the residual keeps a
 * modality that has no present partner as itself), and the output is the masked mean of the present
 * tokens {@code t_m}.
 *
 * <p>Trainable parameters: {@code Wq}, {@code Wk}, {@code Wv}, each [d, d].
 *
 * <p>Masking: absent modalities are neither queries (their token is excluded from the masked mean)
 * nor keys/values (removed before each softmax, weight exactly 0), so they neither change the
 * output nor receive gradient. A row with no modality present outputs zeros.
 */
public class CrossModalAttentionFusion extends FusionVertexConf {

  private static final long serialVersionUID = 1L;

  private static final String[] PROJECTIONS = {"Wq", "Wk", "Wv"};

  public CrossModalAttentionFusion() {}

  public CrossModalAttentionFusion(int... sizes) {
    super(sizes);
    commonSize();
  }

  @Override
  public long outputSize() {
    return commonSize();
  }

  @Override
  public Map<String, long[]> paramShapes() {
    long d = commonSize();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (String p : PROJECTIONS) {
      shapes.put(p, new long[] {d, d});
    }
    return shapes;
  }

  @Override
  public void initParams(Map<String, INDArray> params) {
    for (INDArray p : params.values()) {
      initUniform(p, Math.sqrt(6.0 / (2.0 * commonSize())));
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

  /** Runtime vertex of {@link CrossModalAttentionFusion}. */
  static final class Impl extends FusionGraphVertex {
    private static final long serialVersionUID = 1L;

    Impl(
        CrossModalAttentionFusion conf,
        ComputationGraph graph,
        String name,
        int idx,
        INDArray paramsView,
        boolean init,
        DataType dataType) {
      super(conf, graph, name, idx, paramsView, init, dataType);
    }

    private double scale() {
      return 1.0 / Math.sqrt(conf.outputSize());
    }

    /** proj[j][m] = x_m W_j for j in (q, k, v). */
    private INDArray[][] project(INDArray[] x) {
      INDArray[][] proj = new INDArray[PROJECTIONS.length][x.length];
      for (int j = 0; j < PROJECTIONS.length; j++) {
        for (int m = 0; m < x.length; m++) {
          proj[j][m] = x[m].mmul(param(PROJECTIONS[j]));
        }
      }
      return proj;
    }

    /** Attention weights [batch, M] of query m over the other present modalities. */
    private INDArray attention(INDArray[][] proj, INDArray presence, int m) {
      List<INDArray> scores = new ArrayList<>();
      for (int k = 0; k < proj[1].length; k++) {
        scores.add(FusionMath.rowDot(proj[0][m], proj[1][k]).muli(scale()));
      }
      INDArray keyMask = presence.dup();
      keyMask.getColumn(m).assign(0.0);
      return FusionMath.maskedSoftmax(Nd4j.hstack(scores), keyMask);
    }

    @Override
    protected INDArray forward(INDArray[] x, INDArray presence) {
      INDArray[][] proj = project(x);
      INDArray inv = FusionMath.inverseCount(presence);
      INDArray out = Nd4j.zeros(x[0].dataType(), x[0].shape());
      for (int m = 0; m < x.length; m++) {
        INDArray a = attention(proj, presence, m);
        INDArray token = x[m].dup();
        for (int k = 0; k < x.length; k++) {
          token.addi(proj[2][k].mulColumnVector(FusionMath.col(a, k)));
        }
        out.addi(token.muliColumnVector(FusionMath.col(presence, m).mul(inv)));
      }
      return out;
    }

    @Override
    protected INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon) {
      INDArray[][] proj = project(x);
      INDArray inv = FusionMath.inverseCount(presence);
      int nMod = x.length;
      INDArray[][] dProj = new INDArray[PROJECTIONS.length][nMod];
      for (INDArray[] row : dProj) {
        for (int m = 0; m < nMod; m++) {
          row[m] = Nd4j.zeros(x[m].dataType(), x[m].shape());
        }
      }
      INDArray[] dx = new INDArray[nMod];
      for (int m = 0; m < nMod; m++) {
        INDArray dToken = epsilon.mulColumnVector(FusionMath.col(presence, m).mul(inv));
        dx[m] = dToken.dup();
        INDArray a = attention(proj, presence, m);
        List<INDArray> dA = new ArrayList<>();
        for (int k = 0; k < nMod; k++) {
          dA.add(FusionMath.rowDot(dToken, proj[2][k]));
          dProj[2][k].addi(dToken.mulColumnVector(FusionMath.col(a, k)));
        }
        INDArray dS = FusionMath.softmaxBackward(a, Nd4j.hstack(dA)).muli(scale());
        for (int k = 0; k < nMod; k++) {
          if (k != m) {
            INDArray ds = FusionMath.col(dS, k);
            dProj[0][m].addi(proj[1][k].mulColumnVector(ds));
            dProj[1][k].addi(proj[0][m].mulColumnVector(ds));
          }
        }
      }
      for (int j = 0; j < PROJECTIONS.length; j++) {
        INDArray w = param(PROJECTIONS[j]);
        INDArray dW = Nd4j.zeros(w.dataType(), w.shape());
        for (int m = 0; m < nMod; m++) {
          dW.addi(x[m].transpose().mmul(dProj[j][m]));
          dx[m].addi(dProj[j][m].mmul(w.transpose()));
        }
        setGradient(PROJECTIONS[j], dW);
      }
      return dx;
    }
  }
}
