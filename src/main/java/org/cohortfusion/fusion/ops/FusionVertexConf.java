package org.cohortfusion.fusion.ops;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;

import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Common configuration of a masked fusion vertex.
 *
 * <p>Inputs {@code 0..M-1} are the modality representations ({@code [batch, sizes[m]]}); input {@code M} is the
 * presence mask {@code [batch, M]} (1 = modality present for that subject, 0 = absent). The presence input is data:
 * it always receives a zero epsilon. Rows in which no modality is present produce an all-zero output.
 *
 * <p>Configurations are serialised by DL4J's (shaded) Jackson mapper, which reads fields directly; subclasses keep
 * their options in plain fields with getters/setters and report them through {@link #optionValues()} so that
 * {@code equals}/{@code hashCode} are defined once here.
 */
public abstract class FusionVertexConf extends GraphVertex {

    private static final long serialVersionUID = 1L;

    /** Representation size of each modality input, in input order. */
    protected int[] sizes = new int[0];

    protected FusionVertexConf() {
    }

    protected FusionVertexConf(int... sizes) {
        if (sizes == null || sizes.length == 0) {
            throw new IllegalArgumentException("At least one modality is required");
        }
        for (int s : sizes) {
            if (s <= 0) {
                throw new IllegalArgumentException("Modality sizes must be positive: " + Arrays.toString(sizes));
            }
        }
        this.sizes = sizes.clone();
    }

    public int[] getSizes() {
        return sizes.clone();
    }

    public void setSizes(int[] sizes) {
        this.sizes = sizes == null ? new int[0] : sizes.clone();
    }

    /** Number of modality inputs M (the vertex has M + 1 inputs). */
    public int numModalities() {
        return sizes.length;
    }

    /** Size of the fused representation. */
    public abstract long outputSize();

    /** Option values that, together with the class and sizes, define equality. */
    protected Object[] optionValues() {
        return new Object[0];
    }

    /** Trainable parameter names and shapes, in the order in which they are laid out in the flat view. */
    public Map<String, long[]> paramShapes() {
        return Collections.emptyMap();
    }

    /** Initialise freshly allocated parameter views (only called when {@link #paramShapes()} is non-empty). */
    public void initParams(Map<String, INDArray> params) {
        // no parameters by default
    }

    protected abstract FusionGraphVertex createVertex(ComputationGraph graph, String name, int idx,
                                                      INDArray paramsView, boolean initializeParams,
                                                      DataType dataType);

    /** The common size d for operations that need equal modality sizes. */
    protected int commonSize() {
        for (int s : sizes) {
            if (s != sizes[0]) {
                throw new IllegalStateException(getClass().getSimpleName()
                        + " needs equal (projected) modality sizes, got " + Arrays.toString(sizes));
            }
        }
        return sizes[0];
    }

    /** Fills {@code target} with U(-limit, limit) values. */
    protected static void initUniform(INDArray target, double limit) {
        target.assign(Nd4j.rand(target.dataType(), target.shape()).subi(0.5).muli(2.0 * limit));
    }

    @Override
    public long numParams(boolean backprop) {
        long n = 0;
        for (long[] shape : paramShapes().values()) {
            long p = 1;
            for (long s : shape) {
                p *= s;
            }
            n += p;
        }
        return n;
    }

    @Override
    public int minVertexInputs() {
        return sizes.length + 1;
    }

    @Override
    public int maxVertexInputs() {
        return sizes.length + 1;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                      INDArray paramsView, boolean initializeParams,
                                                                      DataType networkDatatype) {
        return createVertex(graph, name, idx, paramsView, initializeParams, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) throws InvalidInputTypeException {
        if (vertexInputs.length != sizes.length + 1) {
            throw new InvalidInputTypeException(getClass().getSimpleName() + " expects " + (sizes.length + 1)
                    + " inputs (modalities then presence), got " + vertexInputs.length);
        }
        return InputType.feedForward(outputSize());
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        InputType out = InputType.feedForward(outputSize());
        long nParams = numParams(true);
        return new LayerMemoryReport.Builder(null, getClass(), inputTypes[0], out)
                .standardMemory(nParams, nParams).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }

    @Override
    public FusionVertexConf clone() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(this);
            }
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                return (FusionVertexConf) in.readObject();
            }
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("Cannot clone " + this, e);
        }
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o == null || o.getClass() != getClass()) {
            return false;
        }
        FusionVertexConf other = (FusionVertexConf) o;
        return Arrays.equals(sizes, other.sizes) && Arrays.equals(optionValues(), other.optionValues());
    }

    @Override
    public int hashCode() {
        return Objects.hash(getClass().getName(), Arrays.hashCode(sizes), Arrays.hashCode(optionValues()));
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(sizes=" + Arrays.toString(sizes) + ", options="
                + Arrays.toString(optionValues()) + ")";
    }
}
