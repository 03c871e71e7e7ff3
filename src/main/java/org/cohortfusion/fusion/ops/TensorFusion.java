package org.cohortfusion.fusion.ops;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Tensor Fusion (Zadeh et al. 2017, "Tensor Fusion Network for Multimodal Sentiment Analysis",
 * arXiv 1707.07250): the flattened outer product {@code [h_1; 1] (x) [h_2; 1] (x) ... (x) [h_M;
 * 1]}, which holds every unimodal, bimodal, ..., M-modal multiplicative interaction. Output size
 * {@code prod_m (d_m + 1)}, flattened row-major (the last modality's index varies fastest). Sizes
 * may differ; keep M and d_m small (the output grows exponentially).
 *
 * <p>Masking: an absent modality's vector is {@code [0, ..., 0, 1]}, so only the constant 1
 * survives and the product reduces to the interactions among the present modalities; absent inputs
 * neither change the output nor receive gradient. A row with no modality present outputs zeros (not
 * the lone constant term).
 */
public class TensorFusion extends FusionVertexConf {

  private static final long serialVersionUID = 1L;

  public TensorFusion() {}

  public TensorFusion(int... sizes) {
    super(sizes);
  }

  @Override
  public long outputSize() {
    long n = 1;
    for (int s : sizes) {
      n *= s + 1;
    }
    return n;
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

  /** Runtime vertex of {@link TensorFusion}; explicit loops over the (small) outer product. */
  static final class Impl extends FusionGraphVertex {
    private static final long serialVersionUID = 1L;

    Impl(
        TensorFusion conf,
        ComputationGraph graph,
        String name,
        int idx,
        INDArray paramsView,
        boolean init,
        DataType dataType) {
      super(conf, graph, name, idx, paramsView, init, dataType);
    }

    /** z[m][b] = [p_m h_m ; 1] for sample b. */
    private static double[][][] augmented(INDArray[] x, INDArray presence) {
      double[][][] z = new double[x.length][][];
      for (int m = 0; m < x.length; m++) {
        z[m] = FusionMath.withOne(x[m], FusionMath.col(presence, m)).toDoubleMatrix();
      }
      return z;
    }

    /** Per-modality index of flat output position {@code flat}. */
    private static void decode(long flat, double[][][] z, int b, int[] idx) {
      for (int m = z.length - 1; m >= 0; m--) {
        int n = z[m][b].length;
        idx[m] = (int) (flat % n);
        flat /= n;
      }
    }

    private static double productExcept(double[][][] z, int b, int[] idx, int skip) {
      double v = 1.0;
      for (int m = 0; m < z.length; m++) {
        if (m != skip) {
          v *= z[m][b][idx[m]];
        }
      }
      return v;
    }

    @Override
    protected INDArray forward(INDArray[] x, INDArray presence) {
      double[][][] z = augmented(x, presence);
      double[] any = FusionMath.anyPresent(presence).toDoubleVector();
      int batch = (int) presence.size(0);
      int n = (int) conf.outputSize();
      double[][] out = new double[batch][n];
      int[] idx = new int[x.length];
      for (int b = 0; b < batch; b++) {
        for (int j = 0; j < n && any[b] != 0; j++) {
          decode(j, z, b, idx);
          out[b][j] = productExcept(z, b, idx, -1);
        }
      }
      return Nd4j.create(out).castTo(x[0].dataType());
    }

    @Override
    protected INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon) {
      double[][][] z = augmented(x, presence);
      double[] any = FusionMath.anyPresent(presence).toDoubleVector();
      double[][] p = presence.toDoubleMatrix();
      double[][] eps = epsilon.toDoubleMatrix();
      int batch = (int) presence.size(0);
      int[] idx = new int[x.length];
      double[][][] dz = new double[x.length][batch][];
      for (int m = 0; m < x.length; m++) {
        for (int b = 0; b < batch; b++) {
          dz[m][b] = new double[z[m][b].length];
        }
      }
      for (int b = 0; b < batch; b++) {
        for (int j = 0; j < eps[b].length && any[b] != 0; j++) {
          decode(j, z, b, idx);
          for (int m = 0; m < x.length; m++) {
            dz[m][b][idx[m]] += eps[b][j] * productExcept(z, b, idx, m);
          }
        }
      }
      INDArray[] dx = new INDArray[x.length];
      for (int m = 0; m < x.length; m++) {
        double[][] g = new double[batch][(int) x[m].size(1)];
        for (int b = 0; b < batch; b++) {
          for (int i = 0; i < g[b].length; i++) {
            g[b][i] = dz[m][b][i] * p[b][m];
          }
        }
        dx[m] = Nd4j.create(g).castTo(x[m].dataType());
      }
      return dx;
    }
  }
}
