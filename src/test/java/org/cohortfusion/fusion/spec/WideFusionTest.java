package org.cohortfusion.fusion.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.cohortfusion.config.FusionModelConfig;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The wide path ({@link FusionSpec.Wide}) against its definition: the output's logits are the fused
 * head's plus a linear map of the concatenated inputs (where each modality joins the fusion) and
 * the presence; its weights carry their own L2 penalty; backpropagation through it and an
 * end-to-end graph passes DL4J's gradient check.
 */
class WideFusionTest {

  @AfterEach
  void floatAgain() {
    Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
  }

  static FusionModelConfig wide(String how, Object when, double l2, Boolean wide, Double wideL2) {
    return FusionModelConfig.builder()
        .what(when == null ? List.of("clinical", "labs", "imaging") : EndToEndFusionTest.WHAT)
        .when(when)
        .how(how)
        .projection(4)
        .projectionActivation("tanh")
        .head(List.of(5))
        .encoderLearningRate(1.0)
        .l2(l2)
        .wide(wide)
        .wideL2(wideL2)
        .build();
  }

  @Test
  void theLogitsAreTheHeadsPlusALinearMapOfTheInputsAndPresence() {
    FusionCompiler.Compiled c = FusionPenaltyTest.compile(wide("attention", null, 0, true, 0.5));
    ComputationGraph g = c.newGraph();
    INDArray[] in = FusionPenaltyTest.batch().getFeatures();
    // Inputs: clinical 8, labs 12, imaging 6, then presence 3.
    INDArray x = Nd4j.hstack(in[0], in[1], in[2], in[3]);
    INDArray v = g.getLayer(FusionCompiler.WIDE).getParam("W");
    assertEquals(
        List.of(29L, 2L), List.of(v.size(0), v.size(1)), "every input column and presence");
    Nd4j.getRandom().setSeed(9);
    v.assign(Nd4j.randn(DataType.FLOAT, 29, 2));
    // The head's own contribution, read from the graph: its last hidden layer times the output
    // weights of the head's columns; the wide path's columns of the output weights set to the
    // identity so that the logit is the head's plus x v exactly.
    INDArray w = g.getLayer(FusionCompiler.OUTPUT).getParam("W");
    w.get(
            org.nd4j.linalg.indexing.NDArrayIndex.interval(5, 7),
            org.nd4j.linalg.indexing.NDArrayIndex.all())
        .assign(Nd4j.eye(2));
    INDArray b = g.getLayer(FusionCompiler.OUTPUT).getParam("b");
    Map<String, INDArray> acts = g.feedForward(in, false);
    INDArray hidden = acts.get("head_0");
    INDArray headLogits =
        hidden.mmul(
            w.get(
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 5),
                org.nd4j.linalg.indexing.NDArrayIndex.all()));
    INDArray expected = Transforms.softmax(headLogits.add(x.mmul(v)).addRowVector(b), true);
    INDArray actual = g.outputSingle(in);
    assertTrue(
        actual.sub(expected).amaxNumber().doubleValue() < 1e-5,
        "softmax(head + [x, presence] v + b): " + actual + " vs " + expected);
  }

  @Test
  void theWidePathTakesItsOwnPenaltyAndNothingElseDoes() {
    List<String> penalised =
        FusionPenaltyTest.assertOneStepMatchesTheDefinition(
            FusionPenaltyTest.compile(wide("gmu", null, 0, true, 0.0)),
            FusionPenaltyTest.compile(wide("gmu", null, 0, true, FusionPenaltyTest.L2)),
            Set.of("fuse_", "head_", FusionCompiler.OUTPUT));
    assertEquals(List.of(FusionCompiler.WIDE + "/W"), penalised);
    FusionSpec spec = FusionSpec.fromConfig("m", wide("gmu", null, 0.01, true, null));
    assertEquals(0.01, spec.wide().l2(), 0.0, "wide-l2 defaults to l2");
    assertTrue(spec.describe().endsWith(" | L2 0.01 | wide: linear path beside the head, L2 0.01"));
    assertFalse(
        FusionSpec.fromConfig("m", wide("gmu", null, 0.01, null, 3.0)).describe().contains("wide"));
    assertEquals(
        "Cannot compile fusion 'm': fusion.models.m.wide-l2 = -1.0 must be a coefficient >= 0",
        assertThrows(
                FusionSpecException.class,
                () -> FusionSpec.fromConfig("m", wide("gmu", null, 0, true, -1.0)))
            .getMessage());
  }

  @Test
  void theWidePathSurvivesTheJsonTheExecutorsRebuildTheGraphFrom() {
    ComputationGraphConfiguration conf =
        FusionPenaltyTest.compile(wide("attention", null, 0, true, 0.3)).configuration();
    ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
    assertEquals(conf, back);
    assertTrue(back.getVertices().containsKey(FusionCompiler.WIDE));
  }

  /** End to end: tab joins as its input, img after conv1, ts as its LSTM's embedding. */
  @Test
  void gradientCheckThroughTheWidePathOfAnEndToEndGraph() {
    Map<String, Object> when = new LinkedHashMap<>();
    when.put("tab", "input");
    when.put("img", "conv1");
    when.put("ts", "embedding");
    FusionSpec spec = FusionSpec.fromConfig("e2e", wide("attention", when, 0, true, 0.1));
    FusionCompiler.Compiled c =
        FusionCompiler.compile(
            spec,
            EndToEndFusionTest.inputs(),
            new NoOp(),
            5,
            new FusionCompiler.Encoders(
                EndToEndFusionTest.encoders(), EndToEndFusionTest.shapes(), true, new NoOp()));
    assertTrue(EndToEndFusionTest.gradientCheck(c), "gradient check of the wide end-to-end graph");
  }
}
