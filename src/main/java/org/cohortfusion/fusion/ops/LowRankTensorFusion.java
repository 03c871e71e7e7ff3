package org.cohortfusion.fusion.ops;

import java.util.LinkedHashMap;
import java.util.Map;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Low-rank Multimodal Fusion (LMF; Liu et al. 2018, "Efficient Low-rank Multimodal Fusion with Modality-Specific
 * Factors", arXiv 1806.00064): the tensor-fusion weight is factorised into rank-{@code r} modality-specific
 * factors, giving {@code out = sum_{i<r} prod_m ([h_m; 1] W_m^(i)) + b} without materialising the outer product.
 * LMF's rank-combination weights are absorbed into the factors (scaling a factor is equivalent), so they are not a
 * separate parameter.
 *
 * <p>Trainable parameters: {@code W0..W(M-1)} of shape [r, d_m + 1, outSize] and bias {@code b} [1, outSize].
 * Sizes may differ.
 *
 * <p>Masking: an absent modality's vector is {@code [0, ..., 0, 1]} (only the constant survives), exactly the
 * masked semantics of {@link TensorFusion}; absent inputs neither change the output nor receive gradient. A row
 * with no modality present outputs zeros.
 */
public class LowRankTensorFusion extends FusionVertexConf {

    private static final long serialVersionUID = 1L;

    private int rank = 4;
    private int outSize;

    public LowRankTensorFusion() {
    }

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
    protected FusionGraphVertex createVertex(ComputationGraph graph, String name, int idx, INDArray paramsView,
                                             boolean initializeParams, DataType dataType) {
        return new Impl(this, graph, name, idx, paramsView, initializeParams, dataType);
    }

    /** Runtime vertex of {@link LowRankTensorFusion}. */
    static final class Impl extends FusionGraphVertex {
        private static final long serialVersionUID = 1L;

        Impl(LowRankTensorFusion conf, ComputationGraph graph, String name, int idx, INDArray paramsView,
             boolean init, DataType dataType) {
            super(conf, graph, name, idx, paramsView, init, dataType);
        }

        private static INDArray factor(INDArray w, int r) {
            return w.get(NDArrayIndex.point(r), NDArrayIndex.all(), NDArrayIndex.all());
        }

        private INDArray[] augmented(INDArray[] x, INDArray presence) {
            INDArray[] z = new INDArray[x.length];
            for (int m = 0; m < x.length; m++) {
                z[m] = FusionMath.withOne(x[m], FusionMath.col(presence, m));
            }
            return z;
        }

        /** f[m] = z_m W_m^(r), [batch, outSize]. */
        private INDArray[] projections(INDArray[] z, int r) {
            INDArray[] f = new INDArray[z.length];
            for (int m = 0; m < z.length; m++) {
                f[m] = z[m].mmul(factor(param("W" + m), r));
            }
            return f;
        }

        private static INDArray productExcept(INDArray[] f, int skip) {
            INDArray prod = null;
            for (int m = 0; m < f.length; m++) {
                if (m != skip) {
                    prod = prod == null ? f[m].dup() : prod.muli(f[m]);
                }
            }
            return prod == null ? Nd4j.onesLike(f[0]) : prod;
        }

        @Override
        protected INDArray forward(INDArray[] x, INDArray presence) {
            INDArray[] z = augmented(x, presence);
            int rank = ((LowRankTensorFusion) conf).rank;
            INDArray out = null;
            for (int r = 0; r < rank; r++) {
                INDArray prod = productExcept(projections(z, r), -1);
                out = out == null ? prod : out.addi(prod);
            }
            return out.addiRowVector(param("b")).muliColumnVector(FusionMath.anyPresent(presence));
        }

        @Override
        protected INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon) {
            INDArray[] z = augmented(x, presence);
            int rank = ((LowRankTensorFusion) conf).rank;
            INDArray e = epsilon.mulColumnVector(FusionMath.anyPresent(presence));
            setGradient("b", e.sum(true, 0));
            INDArray[] dz = new INDArray[x.length];
            INDArray[] dW = new INDArray[x.length];
            for (int m = 0; m < x.length; m++) {
                dz[m] = Nd4j.zeros(z[m].dataType(), z[m].shape());
                dW[m] = Nd4j.zeros(z[m].dataType(), param("W" + m).shape());
            }
            for (int r = 0; r < rank; r++) {
                INDArray[] f = projections(z, r);
                for (int m = 0; m < x.length; m++) {
                    INDArray dF = e.mul(productExcept(f, m));
                    INDArray w = factor(param("W" + m), r);
                    factor(dW[m], r).assign(z[m].transpose().mmul(dF));
                    dz[m].addi(dF.mmul(w.transpose()));
                }
            }
            INDArray[] dx = new INDArray[x.length];
            for (int m = 0; m < x.length; m++) {
                setGradient("W" + m, dW[m]);
                dx[m] = FusionMath.columns(dz[m], 0, x[m].size(1)).mulColumnVector(FusionMath.col(presence, m));
            }
            return dx;
        }
    }
}
