package org.cohortfusion.fusion.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Builds a tiny graph around one fusion vertex: per-modality tanh projection -> fusion -> tanh/MSE
 * output.
 */
final class FusionTestSupport {

  /** Four fixed pattern rows plus two random rows. */
  static final int BATCH = 6;

  static final int N_OUT = 2;
  static final String FUSION = "fusion";

  private FusionTestSupport() {}

  static void useDouble() {
    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
  }

  /** Raw (pre-projection) size of modality m: deliberately different from the projected size. */
  static int rawSize(FusionVertexConf v, int m) {
    return v.getSizes()[m] + 1 + m;
  }

  static ComputationGraphConfiguration graphConf(FusionVertexConf v, IUpdater updater) {
    return graphConf(v, updater, DataType.DOUBLE);
  }

  static ComputationGraphConfiguration graphConf(
      FusionVertexConf v, IUpdater updater, DataType dataType) {
    int nMod = v.numModalities();
    ComputationGraphConfiguration.GraphBuilder b =
        new NeuralNetConfiguration.Builder()
            .seed(12345)
            .dataType(dataType)
            .updater(updater)
            .weightInit(WeightInit.XAVIER)
            .graphBuilder();
    String[] inputs = new String[nMod + 1];
    String[] fusionInputs = new String[nMod + 1];
    for (int m = 0; m < nMod; m++) {
      inputs[m] = "m" + m;
      fusionInputs[m] = "proj" + m;
    }
    inputs[nMod] = "presence";
    fusionInputs[nMod] = "presence";
    b.addInputs(inputs);
    for (int m = 0; m < nMod; m++) {
      b.addLayer(
          "proj" + m,
          new DenseLayer.Builder()
              .nIn(rawSize(v, m))
              .nOut(v.inputSize(m))
              .activation(Activation.TANH)
              .build(),
          "m" + m);
    }
    b.addVertex(FUSION, v, fusionInputs);
    b.addLayer(
        "out",
        new OutputLayer.Builder(LossFunctions.LossFunction.MSE)
            .nIn(v.outputSize())
            .nOut(N_OUT)
            .activation(Activation.TANH)
            .build(),
        FUSION);
    b.setOutputs("out");
    return b.build();
  }

  static ComputationGraph graph(FusionVertexConf v, IUpdater updater) {
    ComputationGraph g = new ComputationGraph(graphConf(v, updater));
    g.init();
    return g;
  }

  static ComputationGraph graph(FusionVertexConf v) {
    return graph(v, new NoOp());
  }

  static INDArray uniform(long rows, long cols) {
    return Nd4j.rand(DataType.DOUBLE, rows, cols).subi(0.5).muli(2.0);
  }

  /**
   * Presence mask with absent modalities and single-modality rows: row 0 all present, row 1 only
   * modality 0, row 2 all but modality 0, row 3 only the last modality; the remaining rows are
   * random (seeded).
   */
  static INDArray presence(int nMod) {
    INDArray p = Nd4j.ones(DataType.DOUBLE, BATCH, nMod);
    java.util.Random rng = new java.util.Random(nMod * 31L + 7);
    for (int m = 0; m < nMod; m++) {
      p.putScalar(1, m, m == 0 ? 1 : 0);
      p.putScalar(2, m, m == 0 ? 0 : 1);
      p.putScalar(3, m, m == nMod - 1 ? 1 : 0);
      for (int b = 4; b < BATCH; b++) {
        p.putScalar(b, m, rng.nextBoolean() ? 1 : 0);
      }
    }
    return p;
  }

  /** Raw network inputs (modalities then presence). */
  static INDArray[] networkInputs(FusionVertexConf v, INDArray presence) {
    int nMod = v.numModalities();
    INDArray[] in = new INDArray[nMod + 1];
    for (int m = 0; m < nMod; m++) {
      in[m] = uniform(presence.size(0), rawSize(v, m));
    }
    in[nMod] = presence;
    return in;
  }

  /** Already projected vertex inputs (modalities then presence). */
  static INDArray[] vertexInputs(FusionVertexConf v, INDArray presence) {
    int nMod = v.numModalities();
    INDArray[] in = new INDArray[nMod + 1];
    for (int m = 0; m < nMod; m++) {
      in[m] = uniform(presence.size(0), v.inputSize(m));
    }
    in[nMod] = presence;
    return in;
  }

  static boolean gradientCheck(ComputationGraph g, INDArray[] inputs) {
    INDArray labels = uniform(inputs[0].size(0), N_OUT).muli(0.8);
    return GradientCheckUtil.checkGradients(
        new GradientCheckUtil.GraphConfig()
            .net(g)
            .inputs(inputs)
            .labels(new INDArray[] {labels})
            .epsilon(1e-6)
            .maxRelError(1e-3)
            .minAbsoluteError(1e-8)
            .exitOnFirstError(false));
  }

  static INDArray fusionForward(ComputationGraph g, INDArray[] vertexInputs) {
    GraphVertex v = g.getVertex(FUSION);
    v.setInputs(vertexInputs);
    return v.doForward(false, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces())
        .dup();
  }

  static INDArray[] fusionBackward(ComputationGraph g, INDArray[] vertexInputs, INDArray epsilon) {
    GraphVertex v = g.getVertex(FUSION);
    v.setInputs(vertexInputs);
    v.setEpsilon(epsilon);
    INDArray[] eps =
        v.doBackward(false, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces())
            .getSecond();
    INDArray[] copy = new INDArray[eps.length];
    for (int i = 0; i < eps.length; i++) {
      copy[i] = eps[i].dup();
    }
    return copy;
  }

  static void assertArrayClose(INDArray expected, INDArray actual, double tol) {
    assertEquals(
        expected.shapeInfoToString().replaceAll("Offset.*", ""),
        actual.shapeInfoToString().replaceAll("Offset.*", ""));
    double diff = expected.sub(actual).amaxNumber().doubleValue();
    assertTrue(diff <= tol, "max abs difference " + diff + " > " + tol);
  }
}
