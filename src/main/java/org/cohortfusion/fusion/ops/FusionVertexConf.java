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
 * <p>Inputs {@code 0..M-1} are the modality representations ({@code [batch, sizes[m]]}); input
 * {@code M} is the presence mask {@code [batch, M]} (1 = modality present for that subject, 0 =
 * absent). The presence input is data: it always receives a zero epsilon. Rows in which no modality
 * is present produce an all-zero output.
 *
 * <p>Optionally the vertex also projects its inputs ({@link #withProjection}): input m of size
 * {@code inputSizes[m] > 0} goes through {@code act(x_m P_m + b_m)} to {@code sizes[m]} before the
 * fusion, as a DenseLayer per input would, but as a handful of whole-array ops inside the vertex
 * (the per-input matmuls write into one array; one bias add and one activation for all inputs). Its
 * parameters come first in the vertex's flat view: {@code P<m>} [inputSizes[m], sizes[m]] for each
 * projected input, then {@code Pb} [1, sum of the projected sizes]; configurations without the
 * fields (saved before they existed) have no projection.
 *
 * <p>Configurations are serialised by DL4J's (shaded) Jackson mapper, which reads fields directly;
 * subclasses keep their options in plain fields with getters/setters and report them through {@link
 * #optionValues()} so that {@code equals}/{@code hashCode} are defined once here.
 */
public abstract class FusionVertexConf extends GraphVertex {

  private static final long serialVersionUID = 1L;

  /** Representation size of each modality input, in input order (after the projection, if any). */
  protected int[] sizes = new int[0];

  /**
   * Size of each modality input before the vertex's own projection; 0 (or no array) = not
   * projected.
   */
  protected int[] inputSizes;

  /**
   * DL4J activation name of the vertex's own projection (e.g. "tanh"); used when an input is
   * projected.
   */
  protected String projectionActivation;

  /**
   * L2 penalty coefficient on the vertex's weights (not its biases); 0 in configurations saved
   * before it existed.
   */
  protected double l2;

  /**
   * L1 penalty coefficient on the vertex's weights (not its biases); 0 in configurations saved
   * before it existed.
   */
  protected double l1;

  protected FusionVertexConf() {}

  protected FusionVertexConf(int... sizes) {
    if (sizes == null || sizes.length == 0) {
      throw new IllegalArgumentException("At least one modality is required");
    }
    for (int s : sizes) {
      if (s <= 0) {
        throw new IllegalArgumentException(
            "Modality sizes must be positive: " + Arrays.toString(sizes));
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

  public int[] getInputSizes() {
    return inputSizes == null ? null : inputSizes.clone();
  }

  public void setInputSizes(int[] inputSizes) {
    this.inputSizes = inputSizes == null ? null : inputSizes.clone();
  }

  public String getProjectionActivation() {
    return projectionActivation;
  }

  public void setProjectionActivation(String projectionActivation) {
    this.projectionActivation = projectionActivation;
  }

  /**
   * Projects input m from {@code inputSizes[m]} to {@code sizes[m]} inside the vertex where {@code
   * inputSizes[m] > 0} (a dense layer with bias and the given DL4J activation, e.g. "tanh");
   * returns this.
   */
  public FusionVertexConf withProjection(int[] inputSizes, String activation) {
    if (inputSizes == null || inputSizes.length != sizes.length) {
      throw new IllegalArgumentException("Expected " + sizes.length + " input sizes");
    }
    for (int s : inputSizes) {
      if (s < 0) {
        throw new IllegalArgumentException(
            "Input sizes must be >= 0: " + Arrays.toString(inputSizes));
      }
    }
    if (Arrays.stream(inputSizes).anyMatch(s -> s > 0)) {
      org.nd4j.linalg.activations.Activation.valueOf(
          activation.trim().toUpperCase(java.util.Locale.ROOT));
    }
    this.inputSizes = inputSizes.clone();
    this.projectionActivation = activation;
    return this;
  }

  public double getL2() {
    return l2;
  }

  public void setL2(double l2) {
    this.l2 = l2;
  }

  public double getL1() {
    return l1;
  }

  public void setL1(double l1) {
    this.l1 = l1;
  }

  /** Sets the L2 and L1 coefficients of the vertex's weights; returns this. */
  public FusionVertexConf setPenalties(double l2Coefficient, double l1Coefficient) {
    if (!(l2Coefficient >= 0)
        || Double.isInfinite(l2Coefficient)
        || !(l1Coefficient >= 0)
        || Double.isInfinite(l1Coefficient)) {
      throw new IllegalArgumentException(
          "Penalty coefficients must be finite and >= 0, got l2 = "
              + l2Coefficient
              + ", l1 = "
              + l1Coefficient);
    }
    this.l2 = l2Coefficient;
    this.l1 = l1Coefficient;
    return this;
  }

  /**
   * Whether the named parameter is a bias, which the L2 penalty leaves alone (as DL4J's layers do
   * unless l2Bias is set): the projection's {@code Pb} and every operation parameter whose name
   * starts with {@code b}.
   */
  public static boolean isBias(String paramName) {
    return paramName.equals("Pb") || paramName.startsWith("b");
  }

  /** Whether input m is projected by the vertex itself. */
  public boolean isProjected(int m) {
    return inputSizes != null && m < inputSizes.length && inputSizes[m] > 0;
  }

  /** Whether any input is projected by the vertex itself. */
  public boolean hasProjection() {
    for (int m = 0; m < sizes.length; m++) {
      if (isProjected(m)) {
        return true;
      }
    }
    return false;
  }

  /** Size of the vertex's input m as fed to it: before the projection if projected. */
  public int inputSize(int m) {
    return isProjected(m) ? inputSizes[m] : sizes[m];
  }

  /**
   * The projection's parameter shapes (empty without projection), laid out before {@link
   * #paramShapes()}.
   */
  public Map<String, long[]> projectionParamShapes() {
    Map<String, long[]> shapes = new java.util.LinkedHashMap<>();
    long total = 0;
    for (int m = 0; m < sizes.length; m++) {
      if (isProjected(m)) {
        shapes.put("P" + m, new long[] {inputSizes[m], sizes[m]});
        total += sizes[m];
      }
    }
    if (total > 0) {
      shapes.put("Pb", new long[] {1, total});
    }
    return shapes;
  }

  /** Every parameter in flat-view order: the projection's, then the operation's own. */
  public Map<String, long[]> allParamShapes() {
    Map<String, long[]> shapes = new java.util.LinkedHashMap<>(projectionParamShapes());
    for (Map.Entry<String, long[]> e : paramShapes().entrySet()) {
      if (shapes.put(e.getKey(), e.getValue()) != null) {
        throw new IllegalStateException("Parameter name " + e.getKey() + " used twice");
      }
    }
    return shapes;
  }

  /**
   * Initialises the projection (Xavier weights as DL4J's WeightInit.XAVIER, zero bias), then the
   * rest.
   */
  void initAllParams(Map<String, INDArray> params) {
    Map<String, INDArray> own = new java.util.LinkedHashMap<>(params);
    for (String name : projectionParamShapes().keySet()) {
      INDArray p = own.remove(name);
      if (name.equals("Pb")) {
        p.assign(0.0);
      } else {
        p.assign(
            Nd4j.randn(p.dataType(), p.shape()).muli(Math.sqrt(2.0 / (p.size(0) + p.size(1)))));
      }
    }
    if (!own.isEmpty()) {
      initParams(own);
    }
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

  /**
   * Trainable parameter names and shapes, in the order in which they are laid out in the flat view.
   */
  public Map<String, long[]> paramShapes() {
    return Collections.emptyMap();
  }

  /**
   * Initialise freshly allocated parameter views (only called when {@link #paramShapes()} is
   * non-empty).
   */
  public void initParams(Map<String, INDArray> params) {
    // no parameters by default
  }

  protected abstract FusionGraphVertex createVertex(
      ComputationGraph graph,
      String name,
      int idx,
      INDArray paramsView,
      boolean initializeParams,
      DataType dataType);

  /** The common size d for operations that need equal modality sizes. */
  protected int commonSize() {
    for (int s : sizes) {
      if (s != sizes[0]) {
        throw new IllegalStateException(
            getClass().getSimpleName()
                + " needs equal (projected) modality sizes, got "
                + Arrays.toString(sizes));
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
    for (long[] shape : allParamShapes().values()) {
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
  public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(
      ComputationGraph graph,
      String name,
      int idx,
      INDArray paramsView,
      boolean initializeParams,
      DataType networkDatatype) {
    return createVertex(graph, name, idx, paramsView, initializeParams, networkDatatype);
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType... vertexInputs)
      throws InvalidInputTypeException {
    if (vertexInputs.length != sizes.length + 1) {
      throw new InvalidInputTypeException(
          getClass().getSimpleName()
              + " expects "
              + (sizes.length + 1)
              + " inputs (modalities then presence), got "
              + vertexInputs.length);
    }
    return InputType.feedForward(outputSize());
  }

  @Override
  public MemoryReport getMemoryReport(InputType... inputTypes) {
    InputType out = InputType.feedForward(outputSize());
    long nParams = numParams(true);
    return new LayerMemoryReport.Builder(null, getClass(), inputTypes[0], out)
        .standardMemory(nParams, nParams)
        .workingMemory(0, 0, 0, 0)
        .cacheMemory(0, 0)
        .build();
  }

  @Override
  public FusionVertexConf clone() {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
        out.writeObject(this);
      }
      try (ObjectInputStream in =
          new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
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
    return Arrays.equals(sizes, other.sizes)
        && Arrays.equals(optionValues(), other.optionValues())
        && Arrays.equals(projectedSizes(), other.projectedSizes())
        && Objects.equals(
            hasProjection() ? projectionActivation : null,
            other.hasProjection() ? other.projectionActivation : null)
        && Double.compare(l2, other.l2) == 0
        && Double.compare(l1, other.l1) == 0;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        getClass().getName(),
        Arrays.hashCode(sizes),
        Arrays.hashCode(optionValues()),
        Arrays.hashCode(projectedSizes()));
  }

  /** Input sizes before projection, 0 where not projected; all zeros without projection. */
  private int[] projectedSizes() {
    int[] out = new int[sizes.length];
    for (int m = 0; m < sizes.length; m++) {
      out[m] = isProjected(m) ? inputSizes[m] : 0;
    }
    return out;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName()
        + "(sizes="
        + Arrays.toString(sizes)
        + ", options="
        + Arrays.toString(optionValues())
        + (hasProjection()
            ? ", projected from " + Arrays.toString(inputSizes) + " (" + projectionActivation + ")"
            : "")
        + (l2 > 0 ? ", l2=" + l2 : "")
        + (l1 > 0 ? ", l1=" + l1 : "")
        + ")";
  }
}
