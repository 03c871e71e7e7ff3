package org.cohortfusion.fusion.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.cohortfusion.config.FusionModelConfig;
import org.cohortfusion.config.FusionStageConfig;
import org.cohortfusion.fusion.ops.FusionVertexConf;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * The fusion's L2 and L1 penalties, checked against its definition: one plain SGD step with
 * learning rate {@code lr} on the same batch from the same parameters moves every penalised weight
 * by exactly {@code -lr * l2 * w} more than the unpenalised step does, and every bias (and every
 * encoder layer of an end-to-end model) by the same amount.
 */
class FusionPenaltyTest {
  static final double LR = 0.1;
  static final double L2 = 0.05;
  static final double L1 = 0.02;

  /**
   * Parameter names of biases, as DL4J's layers ({@code b}) and the fusion vertices ({@code Pb},
   * {@code b}, {@code bz}) name them.
   */
  static final Set<String> BIASES = Set.of("b", "Pb", "bz");

  static FusionModelConfig single(String how, Integer projection, double l2) {
    return single(how, projection, l2, 0);
  }

  static FusionModelConfig single(String how, Integer projection, double l2, double l1) {
    return FusionModelConfig.builder()
        .what(List.of("clinical", "labs", "imaging"))
        .how(how)
        .projection(projection)
        .projectionActivation("tanh")
        .head(List.of(16))
        .l2(l2)
        .l1(l1)
        .build();
  }

  /**
   * Hierarchical, with clinical used by both stages so that its projection is a DenseLayer of its
   * own ("proj_clinical").
   */
  static FusionModelConfig hierarchical(double l2) {
    return FusionModelConfig.builder()
        .stages(
            List.of(
                new FusionStageConfig(
                    "pair", List.of("clinical", "labs"), "lowrank_tensor", Map.of("rank", 2)),
                new FusionStageConfig(
                    "all", List.of("pair", "clinical", "imaging"), "gmu", Map.of())))
        .projection(8)
        .projectionActivation("tanh")
        .head(List.of(16))
        .l2(l2)
        .build();
  }

  static MultiDataSet batch() {
    Nd4j.getRandom().setSeed(3);
    INDArray presence =
        Nd4j.createFromArray(
            new float[][] {{1, 0, 1}, {1, 1, 1}, {0, 0, 1}, {0, 0, 0}, {1, 0, 0}, {1, 1, 0}});
    INDArray labels =
        Nd4j.createFromArray(new float[][] {{1, 0}, {0, 1}, {0, 1}, {1, 0}, {1, 0}, {0, 1}});
    return new MultiDataSet(
        new INDArray[] {
          Nd4j.randn(DataType.FLOAT, 6, 8),
          Nd4j.randn(DataType.FLOAT, 6, 12),
          Nd4j.randn(DataType.FLOAT, 6, 6),
          presence
        },
        new INDArray[] {labels});
  }

  /** Every parameter of the graph by vertex and name, copied. */
  static Map<String, INDArray> parameters(ComputationGraph g) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (GraphVertex v : g.getVertices()) {
      Map<String, INDArray> table = v.hasLayer() ? v.getLayer().paramTable() : v.paramTable(false);
      if (table != null) {
        table.forEach((name, p) -> out.put(v.getVertexName() + "/" + name, p.dup()));
      }
    }
    return out;
  }

  /**
   * Asserts the penalised step's parameters against the unpenalised one's; returns the penalised
   * weights' names.
   */
  static List<String> assertOneStepMatchesTheDefinition(
      FusionCompiler.Compiled free,
      FusionCompiler.Compiled penalised,
      Set<String> unpenalisedVertices) {
    return assertOneStepMatchesTheDefinition(free, penalised, unpenalisedVertices, L2, 0);
  }

  /**
   * The same for L2 coefficient {@code l2} and L1 coefficient {@code l1}: the penalised step moves
   * a weight w by {@code -lr * (l2 * w + l1 * sign(w))} more.
   */
  static List<String> assertOneStepMatchesTheDefinition(
      FusionCompiler.Compiled free,
      FusionCompiler.Compiled penalised,
      Set<String> unpenalisedVertices,
      double l2,
      double l1) {
    ComputationGraph a = free.newGraph();
    ComputationGraph b = penalised.newGraph();
    b.setParams(a.params().dup());
    Map<String, INDArray> before = parameters(a);
    a.fit(batch());
    b.fit(batch());
    Map<String, INDArray> afterFree = parameters(a);
    Map<String, INDArray> afterPenalised = parameters(b);
    List<String> penalisedWeights = new ArrayList<>();
    for (Map.Entry<String, INDArray> e : before.entrySet()) {
      String key = e.getKey();
      String vertex = key.substring(0, key.indexOf('/'));
      String param = key.substring(key.indexOf('/') + 1);
      boolean bias =
          BIASES.contains(param) || unpenalisedVertices.stream().anyMatch(vertex::startsWith);
      INDArray w = e.getValue();
      INDArray expected =
          bias
              ? afterFree.get(key)
              : afterFree
                  .get(key)
                  .sub(w.mul(LR * l2))
                  .sub(org.nd4j.linalg.ops.transforms.Transforms.sign(w, true).mul(LR * l1));
      INDArray actual = afterPenalised.get(key);
      double scale = Math.max(1e-3, e.getValue().amaxNumber().doubleValue());
      double worst = actual.sub(expected).amaxNumber().doubleValue();
      assertTrue(
          worst <= 1e-5 * scale + 1e-7,
          key + (bias ? " (not penalised)" : " (penalised)") + ": off by " + worst);
      if (!bias) {
        penalisedWeights.add(key);
      }
    }
    return penalisedWeights;
  }

  static FusionCompiler.Compiled compile(FusionModelConfig c) {
    return FusionCompiler.compile(
        FusionSpec.fromConfig("m", c), FusionCompilerTest.EMB, new Sgd(LR), 7);
  }

  @ParameterizedTest
  @ValueSource(strings = {"attention", "gmu", "lowrank_tensor", "cross_attention", "concat"})
  void oneStepShrinksEveryFusionWeightByLrTimesL2AndNoBias(String how) {
    List<String> penalised =
        assertOneStepMatchesTheDefinition(
            compile(single(how, 8, 0)), compile(single(how, 8, L2)), Set.of());
    assertTrue(penalised.contains(FusionCompiler.OUTPUT + "/W"), penalised.toString());
    assertTrue(penalised.contains("head_0/W"), penalised.toString());
    assertTrue(
        penalised.stream().anyMatch(k -> k.startsWith("fuse_m/P")),
        "the vertex's own projection: " + penalised);
  }

  @ParameterizedTest
  @ValueSource(strings = {"attention", "gmu"})
  void l1AddsLrTimesL1TimesTheWeightsSignToTheSameWeights(String how) {
    List<String> penalised =
        assertOneStepMatchesTheDefinition(
            compile(single(how, 8, 0, 0)), compile(single(how, 8, L2, L1)), Set.of(), L2, L1);
    assertTrue(penalised.stream().anyMatch(k -> k.startsWith("fuse_m/P")), penalised.toString());
    assertTrue(
        FusionSpec.fromConfig("m", single(how, 8, L2, L1))
            .describe()
            .endsWith(" | L2 " + L2 + " | L1 " + L1));
  }

  @Test
  void hierarchicalFusionPenalisesDenseProjectionsAndEveryStage() {
    List<String> penalised =
        assertOneStepMatchesTheDefinition(
            compile(hierarchical(0)), compile(hierarchical(L2)), Set.of());
    assertTrue(penalised.contains("proj_clinical/W"), penalised.toString());
    assertTrue(penalised.stream().anyMatch(k -> k.startsWith("fuse_pair/W")), penalised.toString());
    assertTrue(penalised.stream().anyMatch(k -> k.startsWith("fuse_all/W")), penalised.toString());
  }

  @Test
  void endToEndModelsLeaveTheEncoderLayersUnpenalised() {
    Map<String, MultiLayerNetwork> encoders = EndToEndFusionTest.encoders();
    FusionCompiler.Compiled[] compiled = new FusionCompiler.Compiled[2];
    double[] l2 = {0, L2};
    for (int i = 0; i < 2; i++) {
      FusionSpec spec =
          FusionSpec.fromConfig(
              "e2e",
              FusionModelConfig.builder()
                  .what(EndToEndFusionTest.WHAT)
                  .when("embedding")
                  .how("attention")
                  .projection(4)
                  .projectionActivation("tanh")
                  .head(List.of(3))
                  .encoderLearningRate(1.0)
                  .l2(l2[i])
                  .build());
      compiled[i] =
          FusionCompiler.compile(
              spec,
              EndToEndFusionTest.inputs(),
              new Sgd(LR),
              5,
              new FusionCompiler.Encoders(
                  encoders, EndToEndFusionTest.shapes(), true, new Sgd(LR)));
    }
    ComputationGraph a = compiled[0].newGraph();
    ComputationGraph b = compiled[1].newGraph();
    b.setParams(a.params().dup());
    Map<String, INDArray> before = parameters(a);
    Nd4j.getRandom().setSeed(4);
    INDArray presence =
        Nd4j.createFromArray(new float[][] {{1, 1, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 0}});
    MultiDataSet batch =
        new MultiDataSet(
            new INDArray[] {
              Nd4j.randn(DataType.FLOAT, 4, 6),
              Nd4j.randn(DataType.FLOAT, 4, 1, 6, 6),
              Nd4j.randn(DataType.FLOAT, 4, 4, EndToEndFusionTest.STEPS),
              presence
            },
            new INDArray[] {Nd4j.createFromArray(new float[][] {{1, 0}, {0, 1}, {0, 1}, {1, 0}})});
    a.fit(batch);
    b.fit(batch.copy());
    Map<String, INDArray> afterFree = parameters(a);
    Map<String, INDArray> afterPenalised = parameters(b);
    int encoderParams = 0;
    for (String key : before.keySet()) {
      String vertex = key.substring(0, key.indexOf('/'));
      boolean encoderLayer = WHAT_PREFIXES.stream().anyMatch(p -> vertex.startsWith(p + "_"));
      if (encoderLayer) {
        encoderParams++;
        assertEquals(
            0.0,
            afterPenalised.get(key).sub(afterFree.get(key)).amaxNumber().doubleValue(),
            1e-7,
            key + " is an encoder layer: no penalty");
      }
    }
    assertTrue(encoderParams > 0, "the graph holds encoder layers");
    INDArray w = before.get(FusionCompiler.OUTPUT + "/W");
    assertEquals(
        0.0,
        afterPenalised
            .get(FusionCompiler.OUTPUT + "/W")
            .sub(afterFree.get(FusionCompiler.OUTPUT + "/W").sub(w.mul(LR * L2)))
            .amaxNumber()
            .doubleValue(),
        1e-6,
        "the head is penalised");
  }

  static final List<String> WHAT_PREFIXES = EndToEndFusionTest.WHAT;

  @Test
  void thePenaltySurvivesTheJsonTheExecutorsRebuildTheGraphFrom() {
    ComputationGraphConfiguration conf = compile(single("attention", 8, L2)).configuration();
    ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
    FusionVertexConf v = (FusionVertexConf) back.getVertices().get("fuse_m");
    assertEquals(L2, v.getL2(), 0.0);
    assertEquals(conf.getVertices().get("fuse_m"), v);
    FusionVertexConf free =
        (FusionVertexConf)
            compile(single("attention", 8, 0)).configuration().getVertices().get("fuse_m");
    assertFalse(free.equals(v), "the coefficient is part of the configuration's identity");
  }

  @Test
  void baselinesTakeTheDefaultModelsPenaltyAndTheNotationShowsIt() {
    FusionSpec spec = FusionSpec.fromConfig("m", single("attention", 8, L2));
    assertEquals(L2, FusionSpec.early(spec.modalities(), spec).l2(), 0.0);
    FusionSpec withDropout =
        FusionSpec.fromConfig(
            "d",
            FusionModelConfig.builder()
                .what(List.of("clinical", "labs", "imaging"))
                .how("attention")
                .projection(8)
                .head(List.of(16))
                .modalityDropout(0.3)
                .build());
    assertEquals(
        0.3,
        FusionSpec.early(withDropout.modalities(), withDropout).modalityDropout(),
        0.0,
        "early fusion trains under the fusion models' modality dropout");
    assertEquals(
        0.0,
        FusionSpec.unimodal("labs", withDropout).modalityDropout(),
        0.0,
        "a unimodal model has nothing to drop but its one modality");
    assertEquals(L2, FusionSpec.unimodal("labs", spec).l2(), 0.0);
    assertTrue(spec.describe().endsWith(" | L2 " + L2), spec.describe());
    assertFalse(FusionSpec.fromConfig("m", single("attention", 8, 0)).describe().contains("L2"));
  }

  @Test
  void aNegativeCoefficientIsRefusedNamingTheKey() {
    String msg =
        assertThrows(
                FusionSpecException.class,
                () -> FusionSpec.fromConfig("m", single("concat", null, -0.1)))
            .getMessage();
    assertEquals(
        "Cannot compile fusion 'm': fusion.models.m.l2 = -0.1 must be a coefficient >= 0", msg);
  }
}
