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
 * Gated Multimodal Unit (Arevalo et al. 2017, "Gated Multimodal Units for Information Fusion", arXiv 1702.01992),
 * generalised to M modalities: {@code h'_m = tanh(h_m W_m)}, gate logits {@code g = [p_1 h_1; ...; p_M h_M] W_z +
 * b_z}, gates {@code z = softmax(g)} over the PRESENT modalities and output {@code sum_m z_m h'_m}. For M = 2 the
 * softmax gate is exactly the original sigmoid gate {@code z, 1 - z}.
 *
 * <p>Trainable parameters: {@code W0..W(M-1)} [d_m, outSize], {@code Wz} [sum d_m, M], {@code bz} [1, M]. Modality
 * sizes may differ; {@code outSize} defaults to the first modality size.
 *
 * <p>Masking: absent modalities are zero-filled in the gate input and excluded from the gate softmax (gate exactly
 * 0), so they neither change the output nor receive gradient. A row with no modality present outputs zeros.
 */
public class GatedMultimodalUnit extends FusionVertexConf {

    private static final long serialVersionUID = 1L;

    private int outSize;

    public GatedMultimodalUnit() {
    }

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
    protected FusionGraphVertex createVertex(ComputationGraph graph, String name, int idx, INDArray paramsView,
                                             boolean initializeParams, DataType dataType) {
        return new Impl(this, graph, name, idx, paramsView, initializeParams, dataType);
    }

    /** Runtime vertex of {@link GatedMultimodalUnit}. */
    static final class Impl extends FusionGraphVertex {
        private static final long serialVersionUID = 1L;

        Impl(GatedMultimodalUnit conf, ComputationGraph graph, String name, int idx, INDArray paramsView,
             boolean init, DataType dataType) {
            super(conf, graph, name, idx, paramsView, init, dataType);
        }

        private INDArray[] hidden(INDArray[] x) {
            INDArray[] h = new INDArray[x.length];
            for (int m = 0; m < x.length; m++) {
                h[m] = Transforms.tanh(x[m].mmul(param("W" + m)), false);
            }
            return h;
        }

        private static INDArray maskedConcat(INDArray[] x, INDArray presence) {
            List<INDArray> parts = new ArrayList<>();
            for (int m = 0; m < x.length; m++) {
                parts.add(x[m].mulColumnVector(FusionMath.col(presence, m)));
            }
            return Nd4j.hstack(parts);
        }

        private INDArray gates(INDArray xcat, INDArray presence) {
            return FusionMath.maskedSoftmax(xcat.mmul(param("Wz")).addiRowVector(param("bz")), presence);
        }

        @Override
        protected INDArray forward(INDArray[] x, INDArray presence) {
            INDArray[] h = hidden(x);
            INDArray z = gates(maskedConcat(x, presence), presence);
            INDArray out = Nd4j.zeros(h[0].dataType(), h[0].shape());
            for (int m = 0; m < x.length; m++) {
                out.addi(h[m].mulColumnVector(FusionMath.col(z, m)));
            }
            return out;
        }

        @Override
        protected INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon) {
            INDArray[] h = hidden(x);
            INDArray xcat = maskedConcat(x, presence);
            INDArray z = gates(xcat, presence);
            List<INDArray> dZ = new ArrayList<>();
            for (INDArray hm : h) {
                dZ.add(FusionMath.rowDot(epsilon, hm));
            }
            INDArray dG = FusionMath.softmaxBackward(z, Nd4j.hstack(dZ));
            setGradient("Wz", xcat.transpose().mmul(dG));
            setGradient("bz", dG.sum(true, 0));
            INDArray dXcat = dG.mmul(param("Wz").transpose());
            INDArray[] dx = new INDArray[x.length];
            long offset = 0;
            for (int m = 0; m < x.length; m++) {
                INDArray pre = epsilon.mulColumnVector(FusionMath.col(z, m)).muli(FusionMath.tanhGrad(h[m]));
                setGradient("W" + m, x[m].transpose().mmul(pre));
                long width = x[m].size(1);
                dx[m] = pre.mmul(param("W" + m).transpose()).addi(
                        FusionMath.columns(dXcat, offset, width).mulColumnVector(FusionMath.col(presence, m)));
                offset += width;
            }
            return dx;
        }
    }
}
