package org.cohortfusion.fusion.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Masked modality attention: each modality token h_m gets the additive-attention score
 * {@code s_m = q . tanh(W_k h_m)} (Bahdanau et al. 2015, arXiv 1409.0473; the gated-free form of attention-based
 * deep multiple-instance pooling, Ilse et al. 2018, arXiv 1802.04712), weights {@code a = softmax(s)} over the
 * PRESENT modalities only and output {@code sum_m a_m h_m}. With {@code keyProjection = false} the score is
 * {@code q . h_m}.
 *
 * <p>Trainable parameters: {@code q} [d, 1] and (optionally) {@code Wk} [d, d].
 *
 * <p>Masking: absent modalities are removed before the softmax (they are neither exponentiated nor part of the
 * normaliser), so their weight is exactly 0, their input values cannot change the output and their gradient is 0.
 * A row with no modality present outputs zeros.
 */
public class MaskedAttentionFusion extends FusionVertexConf {

    private static final long serialVersionUID = 1L;

    private boolean keyProjection = true;

    public MaskedAttentionFusion() {
    }

    public MaskedAttentionFusion(boolean keyProjection, int... sizes) {
        super(sizes);
        this.keyProjection = keyProjection;
        commonSize();
    }

    public boolean isKeyProjection() {
        return keyProjection;
    }

    public void setKeyProjection(boolean keyProjection) {
        this.keyProjection = keyProjection;
    }

    @Override
    public long outputSize() {
        return commonSize();
    }

    @Override
    protected Object[] optionValues() {
        return new Object[] {keyProjection};
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
    protected FusionGraphVertex createVertex(ComputationGraph graph, String name, int idx, INDArray paramsView,
                                             boolean initializeParams, DataType dataType) {
        return new Impl(this, graph, name, idx, paramsView, initializeParams, dataType);
    }

    /** Runtime vertex of {@link MaskedAttentionFusion}. */
    static final class Impl extends FusionGraphVertex {
        private static final long serialVersionUID = 1L;

        Impl(MaskedAttentionFusion conf, ComputationGraph graph, String name, int idx, INDArray paramsView,
             boolean init, DataType dataType) {
            super(conf, graph, name, idx, paramsView, init, dataType);
        }

        private boolean projected() {
            return ((MaskedAttentionFusion) conf).keyProjection;
        }

        private INDArray[] keys(INDArray[] x) {
            INDArray[] u = new INDArray[x.length];
            for (int m = 0; m < x.length; m++) {
                u[m] = projected() ? Transforms.tanh(x[m].mmul(param("Wk")), false) : x[m];
            }
            return u;
        }

        private INDArray weights(INDArray[] u, INDArray presence) {
            List<INDArray> scores = new ArrayList<>();
            for (INDArray um : u) {
                scores.add(um.mmul(param("q")));
            }
            return FusionMath.maskedSoftmax(Nd4j.hstack(scores), presence);
        }

        @Override
        protected INDArray forward(INDArray[] x, INDArray presence) {
            INDArray a = weights(keys(x), presence);
            INDArray out = Nd4j.zeros(x[0].dataType(), x[0].shape());
            for (int m = 0; m < x.length; m++) {
                out.addi(x[m].mulColumnVector(FusionMath.col(a, m)));
            }
            return out;
        }

        @Override
        protected INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon) {
            INDArray[] u = keys(x);
            INDArray a = weights(u, presence);
            List<INDArray> dA = new ArrayList<>();
            for (INDArray xm : x) {
                dA.add(FusionMath.rowDot(epsilon, xm));
            }
            INDArray dS = FusionMath.softmaxBackward(a, Nd4j.hstack(dA));
            INDArray q = param("q");
            INDArray dq = Nd4j.zeros(q.dataType(), q.shape());
            INDArray dWk = projected() ? Nd4j.zeros(q.dataType(), param("Wk").shape()) : null;
            INDArray[] dx = new INDArray[x.length];
            for (int m = 0; m < x.length; m++) {
                INDArray ds = FusionMath.col(dS, m);
                dx[m] = epsilon.mulColumnVector(FusionMath.col(a, m));
                dq.addi(u[m].transpose().mmul(ds));
                INDArray dU = ds.mmul(q.transpose());
                if (projected()) {
                    INDArray dz = dU.muli(FusionMath.tanhGrad(u[m]));
                    dWk.addi(x[m].transpose().mmul(dz));
                    dx[m].addi(dz.mmul(param("Wk").transpose()));
                } else {
                    dx[m].addi(dU);
                }
            }
            setGradient("q", dq);
            if (projected()) {
                setGradient("Wk", dWk);
            }
            return dx;
        }
    }
}
