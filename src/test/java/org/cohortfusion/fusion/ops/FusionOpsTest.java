package org.cohortfusion.fusion.ops;

import static org.cohortfusion.fusion.ops.FusionTestSupport.BATCH;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

/** Gradient check, masking, serialisation and empty-row tests, run for every fusion operation. */
class FusionOpsTest {

  @BeforeAll
  static void doublePrecision() {
    FusionTestSupport.useDouble();
  }

  static Stream<Arguments> ops() {
    return Stream.of(
        Arguments.of("concat", new ConcatFusion(false, 3, 2, 4)),
        Arguments.of("concat_mask", new ConcatFusion(true, 3, 2)),
        Arguments.of("sum", new ElementwiseFusion(ElementwiseFusion.Mode.SUM, 3, 3, 3)),
        Arguments.of("product", new ElementwiseFusion(ElementwiseFusion.Mode.PRODUCT, 3, 3, 3)),
        Arguments.of("mean", new MaskedMeanFusion(3, 3, 3)),
        Arguments.of("attention", new MaskedAttentionFusion(true, 3, 3, 3)),
        Arguments.of("attention_noproj", new MaskedAttentionFusion(false, 3, 3)),
        Arguments.of("attention_unnormalised", new MaskedAttentionFusion(true, false, 3, 3, 3)),
        Arguments.of("gmu", new GatedMultimodalUnit(3, 3, 2, 4)),
        Arguments.of("tensor", new TensorFusion(2, 3)),
        Arguments.of("tensor3", new TensorFusion(2, 2, 3)),
        Arguments.of("lowrank_tensor", new LowRankTensorFusion(2, 3, 3, 2, 2)),
        Arguments.of("cross_attention", new CrossModalAttentionFusion(3, 3, 3)),
        // the vertex's own input projection (what the compiler uses instead of a DenseLayer per
        // input)
        Arguments.of(
            "attention_projected",
            new MaskedAttentionFusion(true, 3, 3, 3).withProjection(new int[] {4, 2, 5}, "tanh")),
        Arguments.of(
            "attention_noproj_projected",
            new MaskedAttentionFusion(false, 3, 3).withProjection(new int[] {0, 4}, "tanh")),
        Arguments.of(
            "attention_unnormalised_projected",
            new MaskedAttentionFusion(true, false, 3, 3, 3)
                .withProjection(new int[] {4, 2, 5}, "tanh")),
        Arguments.of(
            "gmu_projected",
            new GatedMultimodalUnit(3, 3, 2, 4).withProjection(new int[] {5, 0, 3}, "sigmoid")),
        Arguments.of(
            "lowrank_tensor_projected",
            new LowRankTensorFusion(2, 3, 3, 2, 2).withProjection(new int[] {4, 4, 3}, "tanh")),
        Arguments.of(
            "concat_mask_projected",
            new ConcatFusion(true, 3, 2).withProjection(new int[] {2, 0}, "identity")),
        Arguments.of(
            "mean_projected",
            new MaskedMeanFusion(3, 3, 3).withProjection(new int[] {2, 5, 3}, "tanh")));
  }

  private static void seed() {
    Nd4j.getRandom().setSeed(42);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void gradientCheckPassesWithAbsentModalities(String name, FusionVertexConf conf) {
    seed();
    ComputationGraph g = FusionTestSupport.graph(conf);
    INDArray[] in =
        FusionTestSupport.networkInputs(conf, FusionTestSupport.presence(conf.numModalities()));
    assertTrue(FusionTestSupport.gradientCheck(g, in), name + ": gradient check failed");
  }

  /**
   * The same gradient check with the batch's last (random) row all absent: every parameter's
   * gradient must include that row's contribution as the finite differences see it (for most ops
   * none; a bias after the fusion still gets it).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void gradientCheckPassesWithAnAllAbsentRowInTheBatch(String name, FusionVertexConf conf) {
    seed();
    ComputationGraph g = FusionTestSupport.graph(conf);
    INDArray presence = FusionTestSupport.presence(conf.numModalities());
    presence.getRow(BATCH - 1).assign(0.0);
    INDArray[] in = FusionTestSupport.networkInputs(conf, presence);
    assertTrue(FusionTestSupport.gradientCheck(g, in), name + ": gradient check failed");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void absentModalityHasNoEffectAndZeroGradient(String name, FusionVertexConf conf) {
    seed();
    ComputationGraph g = FusionTestSupport.graph(conf);
    int nMod = conf.numModalities();
    INDArray presence = FusionTestSupport.presence(nMod);
    INDArray[] in = FusionTestSupport.vertexInputs(conf, presence);
    INDArray[] changed = in.clone();
    for (int m = 0; m < nMod; m++) {
      // replace the absent rows of modality m by different (large) values
      INDArray absentRows = presence.getColumn(m, true).rsub(1.0);
      changed[m] =
          in[m]
              .mulColumnVector(presence.getColumn(m, true))
              .addi(
                  FusionTestSupport.uniform(BATCH, in[m].size(1))
                      .muli(5.0)
                      .mulColumnVector(absentRows));
    }
    assertFalse(in[0].equals(changed[0]), "test must actually change an absent modality");
    INDArray epsilon = FusionTestSupport.uniform(BATCH, conf.outputSize());
    INDArray out = FusionTestSupport.fusionForward(g, in);
    INDArray outChanged = FusionTestSupport.fusionForward(g, changed);
    FusionTestSupport.assertArrayClose(out, outChanged, 0.0);

    INDArray[] grads = FusionTestSupport.fusionBackward(g, changed, epsilon);
    INDArray[] gradsOrig = FusionTestSupport.fusionBackward(g, in, epsilon);
    assertEquals(nMod + 1, grads.length);
    for (int m = 0; m < nMod; m++) {
      INDArray absentRows = presence.getColumn(m, true).rsub(1.0);
      INDArray absentGrad = grads[m].mulColumnVector(absentRows);
      assertEquals(
          0.0,
          absentGrad.amaxNumber().doubleValue(),
          0.0,
          name + ": gradient of absent modality " + m);
      FusionTestSupport.assertArrayClose(gradsOrig[m], grads[m], 1e-12);
    }
    assertEquals(
        0.0, grads[nMod].amaxNumber().doubleValue(), 0.0, name + ": presence epsilon must be zero");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void noModalityPresentGivesFiniteZeroOutput(String name, FusionVertexConf conf) {
    seed();
    ComputationGraph g = FusionTestSupport.graph(conf);
    INDArray presence = FusionTestSupport.presence(conf.numModalities());
    presence.getRow(2).assign(0.0);
    INDArray[] in = FusionTestSupport.vertexInputs(conf, presence);
    INDArray out = FusionTestSupport.fusionForward(g, in);
    assertFalse(out.isNaN().any() || out.isInfinite().any(), name + ": non-finite output");
    assertEquals(
        0.0,
        out.getRow(2).amaxNumber().doubleValue(),
        0.0,
        name + ": empty row must fuse to zeros");
    INDArray[] grads =
        FusionTestSupport.fusionBackward(
            g, in, FusionTestSupport.uniform(BATCH, conf.outputSize()));
    for (INDArray grad : grads) {
      assertFalse(grad.isNaN().any() || grad.isInfinite().any(), name + ": non-finite gradient");
      assertEquals(
          0.0, grad.getRow(2).amaxNumber().doubleValue(), 0.0, name + ": empty row gradient");
    }
    INDArray[] netOut = g.output(FusionTestSupport.networkInputs(conf, presence));
    assertFalse(netOut[0].isNaN().any(), name + ": non-finite network output");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void jsonAndModelSerializerRoundTrip(String name, FusionVertexConf conf) throws Exception {
    seed();
    ComputationGraph g = FusionTestSupport.graph(conf, new Sgd(0.1));
    INDArray[] in =
        FusionTestSupport.networkInputs(conf, FusionTestSupport.presence(conf.numModalities()));
    // one training step first, so the updater handles the vertex's parameters (if any)
    INDArray before = g.params().dup();
    g.fit(
        new MultiDataSet(
            in, new INDArray[] {FusionTestSupport.uniform(BATCH, FusionTestSupport.N_OUT)}));
    assertFalse(before.equals(g.params()), name + ": training step changed nothing");
    INDArray expected = g.output(in)[0];

    ComputationGraphConfiguration conf2 =
        ComputationGraphConfiguration.fromJson(g.getConfiguration().toJson());
    assertEquals(g.getConfiguration(), conf2, name + ": JSON round trip changed the configuration");
    assertEquals(conf, conf2.getVertices().get(FusionTestSupport.FUSION));
    ComputationGraph g2 = new ComputationGraph(conf2);
    g2.init(g.params().dup(), false);
    FusionTestSupport.assertArrayClose(expected, g2.output(in)[0], 0.0);

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ModelSerializer.writeModel(g, bytes, true);
    ComputationGraph restored =
        ModelSerializer.restoreComputationGraph(
            new ByteArrayInputStream(bytes.toByteArray()), true);
    FusionTestSupport.assertArrayClose(expected, restored.output(in)[0], 0.0);
    assertEquals(g.params(), restored.params());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void vertexParametersAreTrainable(String name, FusionVertexConf conf) {
    seed();
    ComputationGraph g = FusionTestSupport.graph(conf, new Sgd(0.1));
    long n = conf.numParams(true);
    assertEquals(n, g.getVertex(FusionTestSupport.FUSION).numParams());
    if (n == 0) {
      return;
    }
    INDArray before = g.getVertex(FusionTestSupport.FUSION).params().dup();
    INDArray[] in =
        FusionTestSupport.networkInputs(conf, FusionTestSupport.presence(conf.numModalities()));
    g.fit(
        new MultiDataSet(
            in, new INDArray[] {FusionTestSupport.uniform(BATCH, FusionTestSupport.N_OUT)}));
    assertFalse(
        before.equals(g.getVertex(FusionTestSupport.FUSION).params()),
        name + ": vertex parameters were not updated");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void trainsInSinglePrecision(String name, FusionVertexConf conf) {
    seed();
    ComputationGraph g =
        new ComputationGraph(
            FusionTestSupport.graphConf(
                conf, new Sgd(0.1), org.nd4j.linalg.api.buffer.DataType.FLOAT));
    g.init();
    INDArray presence = FusionTestSupport.presence(conf.numModalities());
    presence.getRow(2).assign(0.0);
    INDArray[] in = FusionTestSupport.networkInputs(conf, presence);
    for (int i = 0; i < in.length; i++) {
      in[i] = in[i].castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
    }
    INDArray labels =
        FusionTestSupport.uniform(BATCH, FusionTestSupport.N_OUT)
            .castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
    g.fit(new MultiDataSet(in, new INDArray[] {labels}));
    INDArray out = g.output(in)[0];
    assertEquals(org.nd4j.linalg.api.buffer.DataType.FLOAT, out.dataType());
    assertFalse(out.isNaN().any() || out.isInfinite().any(), name + ": non-finite float output");
    assertFalse(g.params().isNaN().any(), name + ": non-finite float parameters after a step");
  }

  /**
   * Unnormalised attention weighs each modality by its own score only, so a subject's fused vector
   * is the sum of what each of its modalities gives alone; the softmax's convex combination is not
   * (its output with every modality present is an average, not a sum, of the single-modality ones).
   */
  @org.junit.jupiter.api.Test
  void unnormalisedAttentionAddsUpOverPresentModalitiesAndTheSoftmaxDoesNot() {
    seed();
    int nMod = 3;
    INDArray all = Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.DOUBLE, BATCH, nMod);
    for (boolean normalised : new boolean[] {false, true}) {
      MaskedAttentionFusion conf = new MaskedAttentionFusion(true, normalised, 3, 3, 3);
      ComputationGraph g = FusionTestSupport.graph(conf);
      INDArray[] in = FusionTestSupport.vertexInputs(conf, all);
      INDArray together = FusionTestSupport.fusionForward(g, in);
      INDArray sumOfAlone = Nd4j.zerosLike(together);
      for (int m = 0; m < nMod; m++) {
        INDArray only = Nd4j.zerosLike(all);
        only.putColumn(m, Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.DOUBLE, BATCH, 1));
        INDArray[] alone = in.clone();
        alone[nMod] = only;
        sumOfAlone.addi(FusionTestSupport.fusionForward(g, alone));
      }
      double gap = together.sub(sumOfAlone).amaxNumber().doubleValue();
      if (normalised) {
        assertTrue(gap > 1e-3, "the softmax's output is not a sum over modalities, gap " + gap);
      } else {
        assertEquals(0.0, gap, 1e-12, "unnormalised attention must add up over modalities");
      }
    }
  }
}
