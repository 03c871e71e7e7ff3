package org.cohortfusion.fusion.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.config.FusionModelConfig;
import org.cohortfusion.config.FusionStageConfig;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.fusion.ops.FusionOp;
import org.cohortfusion.fusion.ops.FusionVertexConf;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

class FusionCompilerTest {
  static final EmbeddingsSpec EMB =
      new EmbeddingsSpec(
          List.of(
              new EmbeddingsSpec.Modality("clinical", 8, "a"),
              new EmbeddingsSpec.Modality("labs", 12, "b"),
              new EmbeddingsSpec.Modality("imaging", 6, "c")),
          List.of("no", "yes"),
          "cohort");

  static FusionModelConfig single(List<String> what, String how) {
    return FusionModelConfig.builder().what(what).how(how).head(List.of(16)).build();
  }

  static FusionModelConfig hier(List<FusionStageConfig> stages) {
    return FusionModelConfig.builder().stages(stages).head(List.of(16)).build();
  }

  /** Single fusion of the three modalities with small projections and head, for gradient checks. */
  static FusionModelConfig smallSingle(String how) {
    return FusionModelConfig.builder()
        .what(List.of("clinical", "labs", "imaging"))
        .how(how)
        .projection(4)
        .head(List.of(5))
        .build();
  }

  /**
   * The two-stage hierarchy of the gradient checks: early = lowrank_tensor(imaging, labs), then
   * late = attention(early, clinical), with small projections and head so the checks stay quick.
   */
  static FusionModelConfig lowRankThenAttention() {
    return FusionModelConfig.builder()
        .stages(
            List.of(
                new FusionStageConfig("early", List.of("imaging", "labs"), "lowrank_tensor", null),
                new FusionStageConfig("late", List.of("early", "clinical"), "attention", null)))
        .projection(4)
        .head(List.of(5))
        .build();
  }

  static FusionSpec.Stage stage(String name, List<String> what, String how) {
    return new FusionSpec.Stage(name, what, FusionOp.fromName(how), Map.of());
  }

  static FusionCompiler.Compiled compile(FusionSpec spec) {
    return FusionCompiler.compile(spec, EMB, new Adam(1e-3), 7);
  }

  static INDArray[] inputs(long seed, int batch, INDArray presence) {
    Nd4j.getRandom().setSeed(seed);
    return new INDArray[] {
      Nd4j.randn(DataType.FLOAT, batch, 8),
      Nd4j.randn(DataType.FLOAT, batch, 12),
      Nd4j.randn(DataType.FLOAT, batch, 6),
      presence
    };
  }

  static INDArray presence() {
    return Nd4j.createFromArray(
        new float[][] {{1, 0, 1}, {1, 1, 1}, {0, 0, 1}, {0, 1, 0}, {1, 0, 0}});
  }

  @ParameterizedTest
  @EnumSource(FusionOp.class)
  void everyOperationCompilesWithOneInputPerModalityPlusPresence(FusionOp op) {
    FusionSpec spec =
        FusionSpec.fromConfig("m", single(List.of("imaging", "clinical", "labs"), op.configName()));
    FusionCompiler.Compiled c = compile(spec);
    ComputationGraph g = c.newGraph();
    assertEquals(
        List.of("clinical", "labs", "imaging"),
        c.modalities(),
        "inputs follow the embeddings order");
    assertEquals(4, g.getNumInputArrays());
    assertEquals(
        List.of("clinical", "labs", "imaging", FusionCompiler.PRESENCE),
        c.configuration().getNetworkInputs());
    FusionVertexConf v = (FusionVertexConf) c.configuration().getVertices().get("fuse_m");
    assertEquals(3, v.numModalities());
    if (op.requiresEqualSizes()) {
      assertTrue(
          java.util.Arrays.stream(v.getSizes()).allMatch(s -> s == FusionSpec.DEFAULT_PROJECTION));
    } else {
      assertEquals(
          List.of(6, 8, 12),
          java.util.Arrays.stream(v.getSizes()).boxed().toList(),
          "no projection, what order");
    }
    INDArray out = g.outputSingle(inputs(1, 5, presence()));
    assertEquals(5, out.size(0));
    assertEquals(2, out.size(1));
  }

  @Test
  void hierarchicalSpecCompilesAndStagePresenceIsTheOrOfItsInputs() {
    FusionSpec spec =
        FusionSpec.fromConfig(
            "hier",
            hier(
                List.of(
                    new FusionStageConfig(
                        "early", List.of("clinical", "labs"), "concat_mask", null),
                    new FusionStageConfig(
                        "late", List.of("early", "imaging"), "gmu", Map.of("outSize", 10)))));
    assertEquals(
        "what: clinical+labs+imaging | when: embeddings (intermediate) | how many: hierarchical (2 stages: "
            + "early = concat_mask(clinical+labs); late = gmu(early+imaging)) | how: concat_mask [concatenation], gmu (outSize = 10) [gating]",
        spec.describe());
    ComputationGraph g = compile(spec).newGraph();
    assertEquals(4, g.getNumInputArrays());
    Map<String, INDArray> acts = g.feedForward(inputs(2, 5, presence()), false);
    INDArray p = acts.get("presence_late");
    assertEquals(Nd4j.createFromArray(new float[][] {{1, 1}, {1, 1}, {0, 1}, {1, 0}, {1, 0}}), p);
    assertEquals(10, acts.get("fuse_late").size(1));
  }

  @Test
  void describeUsesTheReviewNotation() {
    FusionSpec s = FusionSpec.fromConfig("att", single(List.of("clinical", "labs"), "attention"));
    assertEquals(
        "what: clinical+labs | when: embeddings (intermediate) | how many: single | how: attention [attention]",
        s.describe());
    assertTrue(
        FusionSpec.early(EMB.modalityNames(), s)
            .describe()
            .startsWith("what: clinical+labs+imaging | when: early"));
    assertTrue(FusionSpec.late(EMB.modalityNames()).describe().contains("when: late"));
    FusionSpec unnormalised =
        FusionSpec.fromConfig(
            "att-sigmoid",
            FusionModelConfig.builder()
                .what(List.of("clinical", "labs"))
                .how("attention")
                .options(Map.of("normalised", false))
                .head(List.of(16))
                .build());
    assertEquals(
        "what: clinical+labs | when: embeddings (intermediate) | how many: single | how: attention"
            + " (normalised = false) [attention]",
        unnormalised.describe());
  }

  @Test
  void badSpecsGiveErrorsNamingTheKey() {
    String unknownModality =
        assertThrows(
                FusionSpecException.class,
                () ->
                    compile(
                        FusionSpec.fromConfig("x", single(List.of("clinical", "genome"), "mean"))))
            .getMessage();
    assertTrue(unknownModality.contains("fusion.models.x.what[1] = 'genome'"), unknownModality);
    String unknownOp =
        assertThrows(
                FusionSpecException.class,
                () -> FusionSpec.fromConfig("x", single(List.of("clinical"), "magic")))
            .getMessage();
    assertTrue(unknownOp.contains("fusion.models.x.how = 'magic'"), unknownOp);
    String badOption =
        assertThrows(
                FusionSpecException.class,
                () ->
                    FusionSpec.fromConfig(
                        "x",
                        FusionModelConfig.builder()
                            .what(List.of("clinical"))
                            .how("mean")
                            .options(Map.of("rank", 3))
                            .build()))
            .getMessage();
    assertTrue(badOption.contains("fusion.models.x.options.rank"), badOption);
    String cycle =
        assertThrows(
                FusionSpecException.class,
                () ->
                    FusionSpec.fromConfig(
                        "h",
                        hier(
                            List.of(
                                new FusionStageConfig(
                                    "a", List.of("clinical", "b"), "concat", null),
                                new FusionStageConfig("b", List.of("a", "labs"), "concat", null)))))
            .getMessage();
    assertTrue(cycle.contains("fusion.models.h.stages[0].what[1] = 'b'"), cycle);
    String unknownStageInput =
        assertThrows(
                FusionSpecException.class,
                () ->
                    compile(
                        FusionSpec.fromConfig(
                            "h",
                            hier(
                                List.of(
                                    new FusionStageConfig(
                                        "a", List.of("clinical", "labs"), "concat", null),
                                    new FusionStageConfig(
                                        "b", List.of("a", "erly"), "concat", null))))))
            .getMessage();
    assertTrue(
        unknownStageInput.contains("fusion.models.h.stages[1].what[1] = 'erly'"),
        unknownStageInput);
    String badWhen =
        assertThrows(
                FusionSpecException.class,
                () ->
                    FusionSpec.fromConfig(
                        "r",
                        FusionModelConfig.builder()
                            .what(List.of("clinical"))
                            .when("no way")
                            .how("concat")
                            .build()))
            .getMessage();
    assertTrue(
        badWhen.startsWith(
            "Cannot compile fusion 'r': fusion.models.r.when = 'no way' is not a depth"),
        badWhen);
    String needsEncoders =
        assertThrows(
                FusionSpecException.class,
                () ->
                    compile(
                        FusionSpec.fromConfig(
                            "r",
                            FusionModelConfig.builder()
                                .what(List.of("clinical"))
                                .when("input")
                                .how("concat")
                                .build())))
            .getMessage();
    assertTrue(needsEncoders.contains("trains end to end and needs the encoders"), needsEncoders);
  }

  /**
   * Changing an absent modality's input leaves every prediction unchanged, for masked ops and
   * hierarchies.
   */
  @Test
  void absentModalityInputsDoNotChangePredictions() {
    List<FusionSpec> specs =
        List.of(
            FusionSpec.fromConfig(
                "att", single(List.of("clinical", "labs", "imaging"), "attention")),
            FusionSpec.fromConfig("mean", single(List.of("clinical", "labs", "imaging"), "mean")),
            FusionSpec.fromConfig("gmu", single(List.of("clinical", "labs", "imaging"), "gmu")),
            FusionSpec.fromConfig(
                "concat", single(List.of("clinical", "labs", "imaging"), "concat")),
            FusionSpec.fromConfig(
                "hier",
                hier(
                    List.of(
                        new FusionStageConfig(
                            "early", List.of("clinical", "labs"), "lowrank_tensor", null),
                        new FusionStageConfig(
                            "late", List.of("early", "imaging"), "cross_attention", null)))),
            FusionSpec.early(EMB.modalityNames(), FusionSpec.baselineTemplate()));
    for (FusionSpec spec : specs) {
      ComputationGraph g = compile(spec).newGraph();
      INDArray[] in = inputs(3, 5, presence());
      INDArray before = g.outputSingle(in);
      INDArray[] changed = inputs(3, 5, presence());
      for (int m = 0; m < 3; m++) {
        for (int r = 0; r < 5; r++) {
          if (presence().getFloat(r, m) == 0f) {
            changed[m].getRow(r).assign(Nd4j.randn(DataType.FLOAT, changed[m].size(1)).muli(10));
          }
        }
      }
      INDArray after = g.outputSingle(changed);
      assertTrue(before.equalsWithEps(after, 1e-6), spec.name() + ": " + before + " vs " + after);
      // ...while changing a present modality does change something (the test is not vacuous).
      changed[0].getRow(1).addi(5);
      assertTrue(!before.equalsWithEps(g.outputSingle(changed), 1e-6), spec.name());
    }
  }

  @Test
  void compiledGraphRoundTripsThroughJsonAndModelArtifact() throws Exception {
    FusionSpec spec =
        FusionSpec.fromConfig(
            "hier",
            hier(
                List.of(
                    new FusionStageConfig("early", List.of("clinical", "labs"), "attention", null),
                    new FusionStageConfig("late", List.of("early", "imaging"), "gmu", null))));
    FusionCompiler.Compiled c = compile(spec);
    assertEquals(
        c.configuration(), ComputationGraphConfiguration.fromJson(c.configuration().toJson()));
    ComputationGraph g = c.newGraph();
    Path dir = Files.createTempDirectory("cf-compiler");
    Configuration conf = new Configuration();
    String target = dir.resolve("model").toString();
    ModelArtifact.save(
        conf,
        target,
        g,
        new ModelArtifact.Provenance("fusion:hier", "h", "v", Map.of(), Map.of(), "now"));
    ComputationGraph back = ModelArtifact.loadGraph(conf, target).model();
    INDArray[] in = inputs(4, 5, presence());
    assertEquals(g.outputSingle(in), back.outputSingle(in));
  }

  /**
   * Gradient check of whole compiled networks (double precision, no dropout), with the projections
   * inside the fusion vertices: the demo's shapes of attention and gmu, and a hierarchy (low-rank
   * tensor, then attention).
   */
  @Test
  void compiledNetworksPassGradientChecks() {
    List<FusionSpec> specs =
        List.of(
            FusionSpec.fromConfig("att", smallSingle("attention")),
            FusionSpec.fromConfig("gmu", smallSingle("gmu")),
            FusionSpec.fromConfig("hier", lowRankThenAttention()));
    DataType before = Nd4j.dataType();
    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    try {
      for (FusionSpec spec : specs) {
        FusionCompiler.Compiled c =
            FusionCompiler.compile(spec, EMB, new org.nd4j.linalg.learning.config.NoOp(), 7);
        assertTrue(
            c.configuration().getVertices().keySet().stream().noneMatch(k -> k.startsWith("proj_")),
            spec.name() + ": projections inside the fusion vertices, no DenseLayer");
        ComputationGraph g = new ComputationGraph(c.configuration().clone());
        g.init();
        g = g.convertDataType(DataType.DOUBLE);
        INDArray[] in = inputs(5, 5, presence());
        for (int i = 0; i < in.length; i++) {
          in[i] = in[i].castTo(DataType.DOUBLE);
        }
        INDArray labels =
            Nd4j.createFromArray(new double[][] {{1, 0}, {0, 1}, {0, 1}, {1, 0}, {1, 0}});
        assertTrue(
            org.deeplearning4j.gradientcheck.GradientCheckUtil.checkGradients(
                new org.deeplearning4j.gradientcheck.GradientCheckUtil.GraphConfig()
                    .net(g)
                    .inputs(in)
                    .labels(new INDArray[] {labels})
                    .epsilon(1e-6)
                    .maxRelError(1e-3)
                    .minAbsoluteError(1e-8)
                    .exitOnFirstError(false)),
            spec.name() + ": gradient check failed");
      }
    } finally {
      Nd4j.setDefaultDataTypes(before, before);
    }
  }

  /**
   * Gradient check (double precision) of a compiled two-stage hierarchy: early =
   * lowrank_tensor(imaging, labs), then late = attention(early, clinical), each stage's presence
   * from a {@link PresenceSelect} vertex, on a batch whose first row has every modality absent (the
   * late attention has nothing to attend to), beside rows where only the early stage, only
   * clinical, or both are present. The stage presences are first checked against the OR by hand.
   */
  @Test
  void hierarchicalGraphPassesAGradientCheckOnABatchWithAnAllAbsentRow() {
    FusionSpec spec = FusionSpec.fromConfig("hier", lowRankThenAttention());
    // columns: clinical, labs, imaging (the embeddings order)
    double[][] mask = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 1}, {1, 0, 1}};
    double[][] early = {{0, 0}, {0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 0}}; // imaging, labs
    double[][] late = {
      {0, 0}, {0, 1}, {1, 0}, {1, 0}, {1, 1}, {1, 1}
    }; // early = imaging or labs, clinical
    DataType before = Nd4j.dataType();
    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    try {
      FusionCompiler.Compiled c =
          FusionCompiler.compile(spec, EMB, new org.nd4j.linalg.learning.config.NoOp(), 7);
      assertTrue(c.configuration().getVertices().get("presence_early") instanceof PresenceSelect);
      assertTrue(c.configuration().getVertices().get("presence_late") instanceof PresenceSelect);
      ComputationGraph g = new ComputationGraph(c.configuration().clone());
      g.init();
      g = g.convertDataType(DataType.DOUBLE);
      // The all-absent row reaches the ReLU head with a zero fusion output, i.e. at its bias;
      // initialised to 0 that is
      // ReLU's kink, where a finite difference is not the gradient. Biases away from 0 keep the
      // check meaningful.
      g.getParam("head_0_b")
          .assign(Nd4j.createFromArray(new double[][] {{0.3, -0.2, 0.25, -0.35, 0.15}}));
      INDArray[] in = inputs(6, 6, Nd4j.createFromArray(mask).castTo(DataType.FLOAT));
      for (int i = 0; i < in.length; i++) {
        in[i] = in[i].castTo(DataType.DOUBLE);
      }
      Map<String, INDArray> acts = g.feedForward(in, false);
      assertEquals(Nd4j.createFromArray(early), acts.get("presence_early"));
      assertEquals(Nd4j.createFromArray(late), acts.get("presence_late"));
      // The all-absent row fuses to zeros at both stages.
      assertEquals(0.0, acts.get("fuse_early").getRow(0).amaxNumber().doubleValue());
      assertEquals(0.0, acts.get("fuse_late").getRow(0).amaxNumber().doubleValue());
      INDArray labels =
          Nd4j.createFromArray(new double[][] {{1, 0}, {0, 1}, {0, 1}, {1, 0}, {1, 0}, {0, 1}});
      assertTrue(
          org.deeplearning4j.gradientcheck.GradientCheckUtil.checkGradients(
              new org.deeplearning4j.gradientcheck.GradientCheckUtil.GraphConfig()
                  .net(g)
                  .inputs(in)
                  .labels(new INDArray[] {labels})
                  .epsilon(1e-6)
                  .maxRelError(1e-3)
                  .minAbsoluteError(1e-8)
                  .exitOnFirstError(false)),
          "gradient check failed");
    } finally {
      Nd4j.setDefaultDataTypes(before, before);
    }
  }

  @Test
  void fusionAndTrainSectionsBindFromHocon() {
    PipelineConfig c =
        PipelineConfigLoader.parse(
            """
        subjects { path = s.csv }
        modalities { clinical { kind = tabular, path = c.csv } }
        output { dir = out }
        fusion {
          models {
            attention { what = [clinical, labs, imaging], when = embeddings, how = attention, projection = 32, head = [64], dropout = 0.1, modality-dropout = 0.2 }
            hier { stages = [ {name = early, what = [clinical, labs], how = concat_mask}, {name = late, what = [early, imaging], how = gmu, options { outSize = 16 }} ] }
          }
          default = attention
        }
        train { mode = local, epochs = 4, batch-size = 32, updater = nesterovs, schedule = step, schedule-step = 2, patience = 3 }
        """,
            List.of("train.learning-rate=0.01"));
    assertEquals("attention", c.fusion().defaultModel());
    assertEquals(2, c.fusion().models().size());
    assertEquals(0.2, c.fusion().models().get("attention").modalityDropout());
    assertEquals(0.01, c.train().learningRate());
    assertEquals(2, FusionSpec.fromConfig("hier", c.fusion().models().get("hier")).stages().size());
    PipelineConfig plain =
        PipelineConfigLoader.parse(
            "subjects { path = s.csv }\nmodalities { clinical { kind = tabular, path = c.csv } }\noutput { dir = out }",
            List.of());
    assertTrue(plain.fusion().models().isEmpty());
    assertEquals(20, plain.train().epochs());
  }
}
