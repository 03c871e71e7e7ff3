package org.cohortfusion.fusion.ops;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.api.TrainingConfig;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.L1Regularization;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * Runtime base of the fusion vertices: hand-written forward/backward (no SameDiff), parameters held
 * as views of the graph's flat parameter and gradient arrays so that they are real trainable
 * parameters.
 *
 * <p>Subclasses implement {@link #forward} and {@link #backward} on detached arrays; this class
 * handles workspaces, the zero epsilon of the presence input and the parameter/gradient
 * bookkeeping.
 *
 * <p>A subclass that {@link #cachesForward() caches its forward intermediates} (in fields of its
 * own, set by {@link #forward}) gets them reused by {@link #backward}: the backward pass runs the
 * forward first only when the vertex's inputs are not the very arrays (by identity) of its last
 * forward pass, e.g. when a test calls {@code doBackward} alone. The cache is detached (allocated
 * outside DL4J's workspaces), so it stays valid whatever workspace the graph closes between the two
 * passes, and it is dropped after the backward pass.
 */
public abstract class FusionGraphVertex extends BaseGraphVertex {

  private static final long serialVersionUID = 1L;

  protected final FusionVertexConf conf;
  private final INDArray paramsView;
  private INDArray gradientsView;
  private final Map<String, INDArray> params;
  private Map<String, INDArray> grads = Collections.emptyMap();
  private transient TrainingConfig trainingConfig;

  /**
   * The input arrays (by identity) of the forward pass whose intermediates the subclass holds, else
   * null.
   */
  private transient INDArray[] forwardInputs;

  /** The projection's activation function (when the vertex projects its inputs). */
  private transient IActivation projectionActivation;

  /**
   * Cached projection: pre-activations [batch, sum of projected sizes], the projected inputs
   * (activations).
   */
  private transient INDArray projectionPre;

  private transient INDArray projected;

  protected FusionGraphVertex(
      FusionVertexConf conf,
      ComputationGraph graph,
      String name,
      int idx,
      INDArray paramsView,
      boolean initializeParams,
      DataType dataType) {
    super(graph, name, idx, null, null, dataType);
    this.conf = conf;
    this.paramsView = paramsView;
    this.params = slice(paramsView);
    if (initializeParams && !params.isEmpty()) {
      conf.initAllParams(params);
    }
  }

  private Map<String, INDArray> slice(INDArray flat) {
    Map<String, long[]> shapes = conf.allParamShapes();
    if (shapes.isEmpty()) {
      return Collections.emptyMap();
    }
    if (flat == null || flat.length() != conf.numParams(true)) {
      throw new IllegalStateException(
          "Vertex " + vertexName + " expects a view of " + conf.numParams(true) + " parameters");
    }
    Map<String, INDArray> out = new LinkedHashMap<>();
    long offset = 0;
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      long n = 1;
      for (long s : e.getValue()) {
        n *= s;
      }
      INDArray part =
          flat.rank() == 2
              ? flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(offset, offset + n))
              : flat.get(NDArrayIndex.interval(offset, offset + n));
      out.put(e.getKey(), part.reshape('c', e.getValue()));
      offset += n;
    }
    return Collections.unmodifiableMap(out);
  }

  /** The parameter array (a view) with the given name. */
  protected INDArray param(String name) {
    return params.get(name);
  }

  /**
   * Stores a parameter gradient into the graph's gradient view (no-op when gradients are not
   * allocated).
   */
  protected void setGradient(String name, INDArray value) {
    INDArray g = grads.get(name);
    if (g != null) {
      g.assign(value);
    }
  }

  /**
   * The gradient array of the named parameter (a view into the graph's gradient array) for a
   * subclass to write into directly; a scratch array of the parameter's shape when gradients are
   * not allocated.
   */
  protected INDArray gradientTarget(String name) {
    INDArray g = grads.get(name);
    if (g != null) {
      return g;
    }
    INDArray p = params.get(name);
    return Nd4j.createUninitialized(p.dataType(), p.shape());
  }

  /**
   * Whether {@link #forward} keeps in fields of the subclass the intermediates {@link #backward}
   * needs (then the backward pass runs the forward first unless the cached pass was over the same
   * input arrays).
   */
  protected boolean cachesForward() {
    return false;
  }

  /** Drops the intermediates cached by the last forward pass (called after every backward pass). */
  protected void clearForwardCache() {
    // nothing cached by default
  }

  private boolean forwardCachedForInputs() {
    if (forwardInputs == null || inputs == null || forwardInputs.length != inputs.length) {
      return false;
    }
    for (int i = 0; i < inputs.length; i++) {
      if (forwardInputs[i] != inputs[i]) {
        return false;
      }
    }
    return true;
  }

  /** Output of the fusion; inputs are detached, in the network data type. */
  protected abstract INDArray forward(INDArray[] x, INDArray presence);

  /**
   * Backward pass: returns dL/dx_m for each modality (zero where absent) and writes parameter
   * gradients through {@link #setGradient}.
   */
  protected abstract INDArray[] backward(INDArray[] x, INDArray presence, INDArray epsilon);

  private INDArray[] modalityInputs() {
    int m = conf.numModalities();
    if (inputs.length != m + 1) {
      throw new IllegalStateException(
          vertexName + ": expected " + (m + 1) + " inputs, got " + inputs.length);
    }
    INDArray[] x = new INDArray[m];
    for (int i = 0; i < m; i++) {
      if (inputs[i].rank() != 2 || inputs[i].size(1) != conf.inputSize(i)) {
        throw new IllegalArgumentException(
            vertexName
                + ": modality input "
                + i
                + " must be [batch, "
                + conf.inputSize(i)
                + "], got "
                + java.util.Arrays.toString(inputs[i].shape()));
      }
      x[i] = inputs[i].castTo(dataType);
    }
    return x;
  }

  private INDArray presenceInput() {
    INDArray p = inputs[conf.numModalities()];
    if (p.rank() != 2 || p.size(1) != conf.numModalities()) {
      throw new IllegalArgumentException(
          vertexName
              + ": presence input must be [batch, "
              + conf.numModalities()
              + "], got "
              + java.util.Arrays.toString(p.shape()));
    }
    return p.castTo(dataType);
  }

  private IActivation projectionActivation() {
    if (projectionActivation == null) {
      projectionActivation =
          Activation.valueOf(conf.getProjectionActivation().trim().toUpperCase(Locale.ROOT))
              .getActivationFunction();
    }
    return projectionActivation;
  }

  /**
   * The vertex's own projection of its inputs (identity where an input is not projected): each
   * projected input's matmul writes into its columns of one [batch, sum of projected sizes] array,
   * then one bias add and one activation for all of them. Caches the pre-activations and the
   * activations for the backward pass.
   */
  private INDArray[] project(INDArray[] x) {
    if (!conf.hasProjection()) {
      return x;
    }
    long batch = x[0].size(0);
    long total = params.get("Pb").size(1);
    INDArray pre = Nd4j.createUninitialized(x[0].dataType(), batch, total);
    long offset = 0;
    for (int i = 0; i < x.length; i++) {
      if (conf.isProjected(i)) {
        long width = conf.getSizes()[i];
        INDArray target = total == width ? pre : FusionMath.columns(pre, offset, width);
        FusionMath.mmInto(x[i], params.get("P" + i), target, false, false);
        offset += width;
      }
    }
    pre.addiRowVector(params.get("Pb"));
    INDArray act = projectionActivation().getActivation(pre.dup('c'), true);
    projectionPre = pre;
    projected = act;
    INDArray[] out = new INDArray[x.length];
    offset = 0;
    for (int i = 0; i < x.length; i++) {
      if (conf.isProjected(i)) {
        long width = conf.getSizes()[i];
        out[i] = total == width ? act : FusionMath.columns(act, offset, width);
        offset += width;
      } else {
        out[i] = x[i];
      }
    }
    return out;
  }

  /**
   * The projected inputs side by side when every input is projected (the array the projection
   * wrote, no copy), else the inputs concatenated; {@code x} are the (projected) inputs the
   * subclass was given.
   */
  protected INDArray concatInputs(INDArray[] x) {
    if (projected != null && x.length > 0 && projected.size(1) == sumSizes(x)) {
      boolean all = true;
      for (int i = 0; i < x.length; i++) {
        all &= conf.isProjected(i);
      }
      if (all) {
        return projected;
      }
    }
    return FusionMath.concat(x);
  }

  private static long sumSizes(INDArray[] x) {
    long n = 0;
    for (INDArray a : x) {
      n += a.size(1);
    }
    return n;
  }

  @Override
  public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
    if (!canDoForward()) {
      throw new IllegalStateException(
          "Cannot do forward pass: inputs not set (" + vertexName + ")");
    }
    INDArray out;
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      out = forward(project(modalityInputs()), presenceInput());
    }
    if (training && (cachesForward() || conf.hasProjection())) {
      forwardInputs = inputs.clone();
    } else {
      // inference: no backward pass follows, so hold nothing
      forwardInputs = null;
      projectionPre = null;
      projected = null;
      clearForwardCache();
    }
    return workspaceMgr.dup(ArrayType.ACTIVATIONS, out);
  }

  @Override
  public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
    if (!canDoBackward()) {
      throw new IllegalStateException(
          "Cannot do backward pass: inputs or epsilon not set (" + vertexName + ")");
    }
    int m = conf.numModalities();
    INDArray[] eps = new INDArray[m + 1];
    INDArray[] dx;
    INDArray[] x;
    INDArray dPre = null;
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      x = modalityInputs();
      INDArray presence = presenceInput();
      INDArray[] h;
      if (!forwardCachedForInputs()) {
        h = project(x);
        if (cachesForward()) {
          forward(h, presence);
        }
      } else {
        h = conf.hasProjection() ? projectedViews(x) : x;
      }
      dx = backward(h, presence, epsilon.castTo(dataType));
      if (conf.hasProjection()) {
        dPre = projectionBackward(x, dx);
      }
    } finally {
      forwardInputs = null;
      projectionPre = null;
      projected = null;
      clearForwardCache();
    }
    long offset = 0;
    for (int i = 0; i < m; i++) {
      if (conf.isProjected(i)) {
        // dL/dx_i = dL/dpre_i P_i^T, straight into the workspace array DL4J receives
        long width = conf.getSizes()[i];
        INDArray dPreI = dPre.size(1) == width ? dPre : FusionMath.columns(dPre, offset, width);
        eps[i] =
            workspaceMgr.createUninitialized(
                ArrayType.ACTIVATION_GRAD, dataType, x[i].size(0), conf.inputSize(i));
        FusionMath.mmInto(dPreI, params.get("P" + i), eps[i], false, true);
        offset += width;
      } else {
        eps[i] = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, dx[i]);
      }
    }
    // create() zero-fills
    eps[m] =
        workspaceMgr.create(ArrayType.ACTIVATION_GRAD, inputs[m].dataType(), inputs[m].shape());
    Gradient gradient = null;
    if (!grads.isEmpty()) {
      gradient = new DefaultGradient(gradientsView);
      for (Map.Entry<String, INDArray> e : grads.entrySet()) {
        gradient.gradientForVariable().put(e.getKey(), e.getValue());
      }
    }
    return new Pair<>(gradient, eps);
  }

  /** The subclass's inputs from the cached projection (views of it where projected). */
  private INDArray[] projectedViews(INDArray[] x) {
    INDArray[] out = new INDArray[x.length];
    long total = projected.size(1);
    long offset = 0;
    for (int i = 0; i < x.length; i++) {
      if (conf.isProjected(i)) {
        long width = conf.getSizes()[i];
        out[i] = total == width ? projected : FusionMath.columns(projected, offset, width);
        offset += width;
      } else {
        out[i] = x[i];
      }
    }
    return out;
  }

  /**
   * Backward pass of the projection: dL/dpre (returned, [batch, sum of projected sizes]) from the
   * subclass's dL/dh, and the projection's parameter gradients written into the gradient view. The
   * caller turns dL/dpre into dL/dx.
   */
  private INDArray projectionBackward(INDArray[] x, INDArray[] dh) {
    java.util.List<INDArray> parts = new java.util.ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      if (conf.isProjected(i)) {
        parts.add(dh[i]);
      }
    }
    INDArray dAct = parts.size() == 1 ? parts.get(0).dup('c') : Nd4j.hstack(parts);
    INDArray dPre = projectionActivation().backprop(projectionPre, dAct).getFirst();
    if (dPre.ordering() != 'c') {
      dPre = dPre.dup('c');
    }
    gradientTarget("Pb").assign(dPre.sum(true, 0));
    long total = dPre.size(1);
    long offset = 0;
    for (int i = 0; i < x.length; i++) {
      if (conf.isProjected(i)) {
        long width = conf.getSizes()[i];
        INDArray dPreI = total == width ? dPre : FusionMath.columns(dPre, offset, width);
        FusionMath.mmInto(x[i], dPreI, gradientTarget("P" + i), true, false);
        offset += width;
      }
    }
    return dPre;
  }

  @Override
  public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
    if (conf.allParamShapes().isEmpty()) {
      if (backpropGradientsViewArray != null) {
        throw new IllegalStateException(
            vertexName + " has no parameters; no gradient view expected");
      }
      return;
    }
    this.gradientsView = backpropGradientsViewArray;
    this.grads = slice(backpropGradientsViewArray);
  }

  @Override
  public Pair<INDArray, MaskState> feedForwardMaskArrays(
      INDArray[] maskArrays, MaskState currentMaskState, int minibatchSize) {
    // Sequence masks do not apply: modality presence is an explicit input of the vertex.
    return null;
  }

  @Override
  public boolean hasLayer() {
    return false;
  }

  @Override
  public Layer getLayer() {
    return null;
  }

  @Override
  public Map<String, INDArray> paramTable(boolean backpropOnly) {
    return params;
  }

  @Override
  public long numParams() {
    return conf.numParams(true);
  }

  @Override
  public INDArray params() {
    return paramsView;
  }

  @Override
  public INDArray getGradientsViewArray() {
    return gradientsView;
  }

  @Override
  public boolean updaterDivideByMinibatch(String paramName) {
    return true;
  }

  @Override
  public TrainingConfig getConfig() {
    if (trainingConfig == null) {
      trainingConfig =
          new VertexTrainingConfig(vertexName, findUpdater(), conf.getL2(), conf.getL1());
    }
    return trainingConfig;
  }

  /** The updater of the graph's first layer with one (the global updater), else SGD(1e-3). */
  private IUpdater findUpdater() {
    if (graph != null && graph.getConfiguration() != null) {
      for (org.deeplearning4j.nn.conf.graph.GraphVertex v :
          graph.getConfiguration().getVertices().values()) {
        if (v instanceof LayerVertex
            && ((LayerVertex) v).getLayerConf() != null
            && ((LayerVertex) v).getLayerConf().getLayer() instanceof BaseLayer) {
          IUpdater u = ((BaseLayer) ((LayerVertex) v).getLayerConf().getLayer()).getIUpdater();
          if (u != null) {
            return u.clone();
          }
        }
      }
    }
    return new Sgd(1e-3);
  }

  @Override
  public String toString() {
    return getClass().getSimpleName()
        + "(name="
        + vertexName
        + ", idx="
        + vertexIndex
        + ", conf="
        + conf
        + ")";
  }

  /**
   * Training configuration of a parameterised fusion vertex: one updater, and the configuration's
   * L2 and L1 penalties on its weights (DL4J's {@link L2Regularization} and {@link
   * L1Regularization}, as a layer's {@code l2} and {@code l1} apply them), none on biases.
   */
  private static final class VertexTrainingConfig implements TrainingConfig {
    private final String name;
    private final IUpdater updater;
    private final List<Regularization> weightRegularization;

    VertexTrainingConfig(String name, IUpdater updater, double l2, double l1) {
      this.name = name;
      this.updater = updater;
      List<Regularization> r = new java.util.ArrayList<>();
      if (l2 > 0) {
        r.add(new L2Regularization(l2));
      }
      if (l1 > 0) {
        r.add(new L1Regularization(l1));
      }
      this.weightRegularization = List.copyOf(r);
    }

    @Override
    public String getLayerName() {
      return name;
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
      return FusionVertexConf.isBias(paramName) ? Collections.emptyList() : weightRegularization;
    }

    @Override
    public boolean isPretrainParam(String paramName) {
      return false;
    }

    @Override
    public IUpdater getUpdaterByParam(String paramName) {
      return updater;
    }

    @Override
    public GradientNormalization getGradientNormalization() {
      return GradientNormalization.None;
    }

    @Override
    public double getGradientNormalizationThreshold() {
      return 0;
    }

    @Override
    public void setDataType(DataType dataType) {
      // parameters already live in the network data type
    }
  }
}
