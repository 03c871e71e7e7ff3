package org.cohortfusion.fusion.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.config.ConfigException;
import org.cohortfusion.config.EncoderConfig;
import org.cohortfusion.config.FusionModelConfig;
import org.cohortfusion.features.batch.FeatureBatch;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.cohortfusion.features.encoder.EncoderFactory;
import org.cohortfusion.features.encoder.EncoderLayers;
import org.cohortfusion.features.encoder.Encoders;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.stage.ModalityKind;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * End-to-end fusion specs: parsing and validation of {@code when}, compilation of encoder prefixes
 * into the graph (layers and pretrained weights), and a double-precision gradient check through an
 * encoder prefix, a fusion vertex and presence masking.
 */
class EndToEndFusionTest {
  static final List<String> WHAT = List.of("tab", "img", "ts");
  static final int STEPS = 4;

  @TempDir Path tmp;

  @AfterEach
  void floatAgain() {
    Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
  }

  static ModalityPreprocessing tab() {
    return new ModalityPreprocessing(
        "tab",
        ModalityKind.TABULAR,
        List.of("a", "b", "c"),
        List.of(),
        List.of(),
        new double[] {0, 0, 0},
        new double[] {1, 1, 1},
        null,
        false,
        List.of(),
        0);
  }

  static ModalityPreprocessing img() {
    return new ModalityPreprocessing(
        "img",
        ModalityKind.IMAGE,
        List.of(),
        List.of(),
        List.of(),
        new double[] {0},
        new double[] {1},
        null,
        false,
        List.of(1, 6, 6),
        0);
  }

  static ModalityPreprocessing ts() {
    return new ModalityPreprocessing(
        "ts",
        ModalityKind.TIMESERIES,
        List.of(),
        List.of(),
        List.of(),
        new double[] {0, 0},
        new double[] {1, 1},
        null,
        false,
        List.of(2, STEPS),
        0);
  }

  static EncoderConfig encoder(String json) {
    return org.cohortfusion.io.Json.MAPPER.convertValue(
        org.cohortfusion.io.Json.MAPPER.valueToTree(parse(json)), EncoderConfig.class);
  }

  static Map<?, ?> parse(String json) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, Map.class);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Small encoders: tab MLP [5] -> embedding 3; img conv [2, 3] -> dense (default hidden) ->
   * embedding 3; ts LSTM [3] -> embedding 2.
   */
  static Map<String, MultiLayerNetwork> encoders() {
    Map<String, MultiLayerNetwork> out = new LinkedHashMap<>();
    out.put(
        "tab",
        EncoderFactory.build(tab(), encoder("{\"embedding-size\": 3, \"hidden\": [5]}"), 2, 11));
    out.put(
        "img",
        EncoderFactory.build(
            img(), encoder("{\"embedding-size\": 3, \"conv-channels\": [2, 3]}"), 2, 12));
    out.put(
        "ts",
        EncoderFactory.build(
            ts(), encoder("{\"embedding-size\": 2, \"hidden\": [3], \"cell\": \"lstm\"}"), 2, 13));
    return out;
  }

  static EmbeddingsSpec inputs() {
    return new EmbeddingsSpec(
        List.of(
            new EmbeddingsSpec.Modality("tab", 6, null),
            new EmbeddingsSpec.Modality("img", 36, null),
            new EmbeddingsSpec.Modality("ts", 4 * STEPS, null)),
        List.of("no", "yes"),
        "c");
  }

  static Map<String, long[]> shapes() {
    return Map.of("tab", new long[] {6}, "img", new long[] {1, 6, 6}, "ts", new long[] {4, STEPS});
  }

  static FusionModelConfig config(Object when, String how, Integer freeze, Double lr) {
    return FusionModelConfig.builder()
        .what(WHAT)
        .when(when)
        .how(how)
        .projection(4)
        .projectionActivation("tanh")
        .head(List.of(3))
        .freezeEncoderEpochs(freeze)
        .encoderLearningRate(lr)
        .build();
  }

  static FusionCompiler.Compiled compile(
      Object when,
      Map<String, MultiLayerNetwork> encoders,
      boolean pretrained,
      org.nd4j.linalg.learning.config.IUpdater updater) {
    FusionSpec spec = FusionSpec.fromConfig("e2e", config(when, "attention", null, null));
    return FusionCompiler.compile(
        spec,
        inputs(),
        updater,
        5,
        new FusionCompiler.Encoders(encoders, shapes(), pretrained, updater));
  }

  @Test
  void encoderLayersHaveStableDocumentedNames() {
    Map<String, MultiLayerNetwork> e = encoders();
    assertEquals(
        List.of("dense0", "embedding", "head"),
        EncoderLayers.names(e.get("tab").getLayerWiseConfigurations()));
    assertEquals(
        List.of("conv0", "pool0", "conv1", "gpool", "dense0", "embedding", "head"),
        EncoderLayers.names(e.get("img").getLayerWiseConfigurations()));
    assertEquals(
        List.of("lstm0", "embedding", "head"),
        EncoderLayers.names(e.get("ts").getLayerWiseConfigurations()));
    // The network carries the names too (DL4J's own layer names, as in its summary).
    assertEquals("conv1", e.get("img").getLayer(2).conf().getLayer().getLayerName());
  }

  @Test
  void rawInputsFusedWithoutAProjectionAreEarlyFusion() {
    // Every modality at its input with no projection: the raw features concatenated (early).
    FusionSpec raw = FusionSpec.fromConfig("r", withProjection("input", "concat", 0));
    assertEquals(FusionSpec.Kind.EARLY, raw.kind());
    assertTrue(
        raw.describe().contains("| when: early (every modality at its input) |"), raw.describe());
    // Unset projection: concat needs none, so the inputs are fused raw as well.
    assertEquals(
        FusionSpec.Kind.EARLY,
        FusionSpec.fromConfig("r", withProjection("input", "concat", null)).kind());
    // A projection per modality is a learned marginal representation: intermediate.
    assertEquals(
        FusionSpec.Kind.FUSION,
        FusionSpec.fromConfig("p", withProjection("input", "concat", 4)).kind());
    // Attention needs equal sizes, so an unset projection means one is learned.
    assertEquals(
        FusionSpec.Kind.FUSION,
        FusionSpec.fromConfig("a", withProjection("input", "attention", null)).kind());
    // One modality past its input: intermediate.
    Map<String, Object> per = new LinkedHashMap<>();
    per.put("tab", "input");
    per.put("img", "input");
    per.put("ts", "embedding");
    assertEquals(
        FusionSpec.Kind.FUSION,
        FusionSpec.fromConfig("m", withProjection(per, "concat", 0)).kind());
    assertEquals(
        FusionSpec.Kind.FUSION,
        FusionSpec.fromConfig("e", withProjection("embeddings", "concat", 0)).kind());
  }

  private static FusionModelConfig withProjection(Object when, String how, Integer projection) {
    return FusionModelConfig.builder()
        .what(WHAT)
        .when(when)
        .how(how)
        .projection(projection)
        .projectionActivation("tanh")
        .head(List.of(3))
        .build();
  }

  @Test
  void whenIsParsedPerModalityAndShownInTheNotation() {
    assertFalse(
        FusionSpec.fromConfig("a", config(null, "attention", null, null)).endToEnd(),
        "default: embeddings");
    assertFalse(
        FusionSpec.fromConfig("a", config("embeddings", "attention", null, null)).endToEnd());
    FusionSpec all = FusionSpec.fromConfig("a", config("Embedding", "attention", null, null));
    assertEquals(Map.of("tab", "embedding", "img", "embedding", "ts", "embedding"), all.when());
    Map<String, Object> per = new LinkedHashMap<>();
    per.put("img", "conv1");
    per.put("ts", 0);
    per.put("tab", "input");
    FusionSpec mixed = FusionSpec.fromConfig("m", config(per, "attention", 2, 0.5));
    assertEquals(
        List.of("tab", "img", "ts"),
        List.copyOf(mixed.when().keySet()),
        "the spec's modality order");
    assertEquals("0", mixed.when().get("ts"));
    assertEquals(
        "what: tab+img+ts | when: end to end (tab = input, img = conv1, ts = 0; encoders frozen 2 epoch(s);"
            + " encoder learning rate x0.5) | how many: single | how: attention [attention]",
        mixed.describe());

    String other =
        assertThrows(
                FusionSpecException.class,
                () ->
                    FusionSpec.fromConfig(
                        "m",
                        config(
                            Map.of("tab", "input", "img", "input", "ts", "input", "notes", "input"),
                            "attention",
                            null,
                            null)))
            .getMessage();
    assertTrue(other.startsWith("Cannot compile fusion 'm': fusion.models.m.when.notes"), other);
    String missing =
        assertThrows(
                FusionSpecException.class,
                () ->
                    FusionSpec.fromConfig(
                        "m", config(Map.of("tab", "input"), "attention", null, null)))
            .getMessage();
    assertTrue(missing.contains("fusion.models.m.when names no depth for [img, ts]"), missing);
    String frozenInMap =
        assertThrows(
                FusionSpecException.class,
                () ->
                    FusionSpec.fromConfig(
                        "m",
                        config(
                            Map.of("tab", "embeddings", "img", "input", "ts", "input"),
                            "attention",
                            null,
                            null)))
            .getMessage();
    assertTrue(frozenInMap.contains("fusion.models.m.when.tab = embeddings"), frozenInMap);
    String lr =
        assertThrows(
                FusionSpecException.class,
                () -> FusionSpec.fromConfig("m", config("input", "attention", null, 2.0)))
            .getMessage();
    assertTrue(lr.contains("fusion.models.m.encoder-learning-rate = 2.0 must be in (0, 1]"), lr);
    String freeze =
        assertThrows(
                FusionSpecException.class,
                () -> FusionSpec.fromConfig("m", config("input", "attention", -1, null)))
            .getMessage();
    assertTrue(freeze.contains("fusion.models.m.freeze-encoder-epochs = -1"), freeze);
  }

  @Test
  void theConfigValidatorNamesTheEndToEndKeys() {
    java.util.function.Function<String, String> load =
        model ->
            assertThrows(
                    ConfigException.class,
                    () ->
                        org.cohortfusion.config.PipelineConfigLoader.parse(
                            org.cohortfusion.features.FeatureTestCohorts.config(
                                "out",
                                "fusion.models.x { what = [tab, vec], how = concat, "
                                    + model
                                    + " }"),
                            List.of()))
                .getMessage();
    assertTrue(
        load.apply("encoder-learning-rate = 0")
            .startsWith("Bad value for config key 'fusion.models.x.encoder-learning-rate'"),
        load.apply("encoder-learning-rate = 0"));
    assertTrue(
        load.apply("freeze-encoder-epochs = -2")
            .contains("'fusion.models.x.freeze-encoder-epochs'"));
    assertTrue(load.apply("encoder-init = warm").contains("'fusion.models.x.encoder-init'"));
    assertTrue(load.apply("when = [input]").contains("'fusion.models.x.when'"));
    assertEquals(
        Map.of("tab", "conv1", "vec", 2),
        org.cohortfusion.config.PipelineConfigLoader.parse(
                org.cohortfusion.features.FeatureTestCohorts.config(
                    "out",
                    "fusion.models.x { what = [tab, vec], how = concat, when = { tab = conv1, vec = 2 } }"),
                List.of())
            .fusion()
            .models()
            .get("x")
            .when());
  }

  @Test
  void aBadLayerNameNamesTheKeyAndTheValidLayers() {
    Map<String, Object> when = Map.of("tab", "input", "img", "conv7", "ts", "input");
    ConfigException e =
        assertThrows(ConfigException.class, () -> compile(when, encoders(), true, new Adam(1e-3)));
    assertEquals(
        "Cannot compile fusion 'e2e': fusion.models.e2e.when.img = 'conv7' is not a layer of the img encoder"
            + " (valid: input, conv0, pool0, conv1, gpool, dense0, embedding, or a layer index 0..5)",
        e.getMessage());
    // The head is never a depth.
    assertThrows(
        ConfigException.class,
        () ->
            compile(
                Map.of("tab", "head", "img", "input", "ts", "input"),
                encoders(),
                true,
                new Adam(1e-3)));
    assertThrows(
        ConfigException.class,
        () ->
            compile(
                Map.of("tab", 2, "img", "input", "ts", "input"), encoders(), true, new Adam(1e-3)));
  }

  /**
   * The graph holds each encoder up to its depth with the parameters of the saved encoder artifact;
   * at depth embedding its activations are those of the encoder's own embedding (the extract
   * stage's computation).
   */
  @Test
  void compiledGraphHoldsTheEncoderLayersWithThePretrainedWeights() {
    Map<String, MultiLayerNetwork> built = encoders();
    Configuration hconf = new Configuration();
    Map<String, MultiLayerNetwork> loaded = new LinkedHashMap<>();
    Map<String, ModalityPreprocessing> preps = Map.of("tab", tab(), "img", img(), "ts", ts());
    for (Map.Entry<String, MultiLayerNetwork> e : built.entrySet()) {
      String dir = tmp.resolve(e.getKey()).toString();
      ModelArtifact.save(
          hconf,
          dir,
          e.getValue(),
          new ModelArtifact.Provenance(
              "encoder:x",
              "c",
              "test",
              EncoderArtifact.provenanceConfig(
                  preps.get(e.getKey()), encoder("{}"), List.of("no", "yes")),
              Map.of(),
              "now"));
      loaded.put(e.getKey(), EncoderArtifact.load(hconf, dir).network());
    }
    Map<String, Object> when = new LinkedHashMap<>();
    when.put("tab", "embedding");
    when.put("img", "conv1");
    when.put("ts", "embedding");
    FusionCompiler.Compiled c = compile(when, loaded, true, new Adam(1e-3));
    ComputationGraph g = c.newGraph();
    Map<String, Integer> expected = new LinkedHashMap<>();
    expected.put("tab_dense0", 0);
    expected.put("tab_embedding", 1);
    expected.put("img_conv0", 0);
    expected.put("img_conv1", 2);
    expected.put("ts_lstm0", 0);
    expected.put("ts_embedding", 1);
    for (Map.Entry<String, Integer> e : expected.entrySet()) {
      String m = e.getKey().substring(0, e.getKey().indexOf('_'));
      INDArray artifact =
          EncoderArtifact.restore(
                  ModelArtifact.verified(hconf, tmp.resolve(m).toString()),
                  org.cohortfusion.io.Hashing.sha256(
                      ModelArtifact.verified(hconf, tmp.resolve(m).toString())),
                  m)
              .getLayer(e.getValue())
              .params();
      assertEquals(
          artifact,
          g.getLayer(e.getKey()).params(),
          e.getKey() + " starts from the encoder artifact");
    }
    assertTrue(
        g.getConfiguration().getVertices().containsKey("img_pool0"),
        "pooling layers up to the depth");
    assertFalse(
        g.getConfiguration().getVertices().containsKey("img_gpool"), "nothing past the depth");
    assertFalse(g.getConfiguration().getVertices().containsKey("tab_head"), "never the head");
    assertTrue(
        g.getConfiguration().getVertices().containsKey("img_gap"),
        "a convolution joins by global pooling");
    // Scratch: same layers, fresh weights.
    ComputationGraph scratch = compile(when, loaded, false, new Adam(1e-3)).newGraph();
    assertFalse(g.getLayer("tab_dense0").params().equals(scratch.getLayer("tab_dense0").params()));

    // The embedding inside the graph is the encoder's embedding, time-series mask included.
    Nd4j.getRandom().setSeed(3);
    int n = 5;
    INDArray x = Nd4j.randn(DataType.FLOAT, n, 4, STEPS);
    INDArray mask =
        Nd4j.createFromArray(
            new float[][] {{0, 1, 1, 1}, {1, 1, 1, 1}, {0, 0, 1, 1}, {0, 0, 0, 1}, {1, 1, 1, 1}});
    Encoders.maskedFeatures(new FeatureBatch(x, mask));
    INDArray xm = Encoders.maskedFeatures(new FeatureBatch(x, mask));
    INDArray tabX = Nd4j.randn(DataType.FLOAT, n, 6);
    INDArray imgX = Nd4j.randn(DataType.FLOAT, n, 1, 6, 6);
    INDArray presence = Nd4j.ones(DataType.FLOAT, n, 3);
    g.setLayerMaskArrays(new INDArray[] {null, null, mask, null}, null);
    Map<String, INDArray> acts = g.feedForward(new INDArray[] {tabX, imgX, xm, presence}, false);
    g.clearLayerMaskArrays();
    assertTrue(
        Encoders.embed(loaded.get("ts"), new FeatureBatch(xm, mask))
            .equalsWithEps(acts.get("ts_embedding"), 1e-5));
    assertTrue(
        Encoders.embed(loaded.get("tab"), new FeatureBatch(tabX, null))
            .equalsWithEps(acts.get("tab_embedding"), 1e-5));
  }

  /**
   * A step mask of all ones is no mask: every gradient of the graph is the same (the mask path
   * changes nothing else).
   */
  @Test
  void anAllOnesStepMaskChangesNoGradient() {
    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    Map<String, Object> when = new LinkedHashMap<>();
    when.put("tab", "embedding");
    when.put("img", "conv1");
    when.put("ts", "lstm0");
    ComputationGraph g =
        compile(when, encoders(), true, new NoOp()).newGraph().convertDataType(DataType.DOUBLE);
    int n = 6;
    Nd4j.getRandom().setSeed(17);
    INDArray[] in = {
      Nd4j.rand(DataType.DOUBLE, n, 6).subi(0.5),
      Nd4j.rand(DataType.DOUBLE, n, 1, 6, 6).subi(0.5),
      Nd4j.rand(DataType.DOUBLE, n, 4, STEPS).subi(0.5),
      Nd4j.ones(DataType.DOUBLE, n, 3)
    };
    Map<String, INDArray> unmasked = new LinkedHashMap<>();
    g.setInputs(in);
    g.setLabels(labels(n));
    g.computeGradientAndScore();
    g.gradient().gradientForVariable().forEach((k, v) -> unmasked.put(k, v.dup()));
    g.setLayerMaskArrays(
        new INDArray[] {null, null, Nd4j.ones(DataType.DOUBLE, n, STEPS), null}, null);
    g.computeGradientAndScore();
    assertEquals(unmasked.keySet(), g.gradient().gradientForVariable().keySet());
    g.gradient()
        .gradientForVariable()
        .forEach((k, v) -> assertTrue(unmasked.get(k).equalsWithEps(v, 1e-12), k));
  }

  static INDArray labels(int n) {
    INDArray labels = Nd4j.zeros(DataType.DOUBLE, n, 2);
    for (int r = 0; r < n; r++) {
      labels.putScalar(r, r % 2, 1.0);
    }
    return labels;
  }

  /**
   * GradientCheckUtil (double precision) through encoder prefixes — an MLP through its embedding,
   * convolutions with max pooling through conv1 then global pooling, an LSTM's last step — the
   * attention vertex with its projections, and presence masking with absent modalities and an
   * all-absent row. No step mask: with a left-padded mask (the aligned cohort's layout: the last T
   * observations, padding first) DL4J's LSTM with LastTimeStep fails the gradient check already as
   * the bare encoder (MultiLayerNetwork, 43 of 110 parameters; right-padded passes), so the mask
   * path is covered by {@link #anAllOnesStepMaskChangesNoGradient} and by the forward equality with
   * the encoder.
   */
  @Test
  void gradientCheckThroughEncoderPrefixesFusionAndPresence() {
    Map<String, Object> when = new LinkedHashMap<>();
    when.put("tab", "embedding");
    when.put("img", "conv1");
    when.put("ts", "lstm0");
    assertTrue(gradientCheck(when), "gradient check of the end-to-end graph");
  }

  /**
   * ReLU swapped for tanh: ReLU's kink at 0 (reached exactly by the all-absent row, whose fused
   * vector is 0, through a zero bias) and max pooling's ties make finite differences meaningless
   * there (DL4J warns about it); the check is of the composition's backpropagation, the layers
   * themselves are DL4J's.
   */
  private static FusionCompiler.Compiled smooth(FusionCompiler.Compiled c) {
    for (org.deeplearning4j.nn.conf.graph.GraphVertex v :
        c.configuration().getVertices().values()) {
      if (v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv
          && lv.getLayerConf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseLayer bl
          && bl.getActivationFn() instanceof org.nd4j.linalg.activations.impl.ActivationReLU) {
        bl.setActivationFn(new org.nd4j.linalg.activations.impl.ActivationTanH());
      }
    }
    return c;
  }

  private boolean gradientCheck(Map<String, Object> when) {
    return gradientCheck(compile(when, encoders(), true, new NoOp()));
  }

  /**
   * The gradient check of a graph compiled over {@link #inputs()} (tab, img, ts and presence), in
   * double precision with ReLU swapped for tanh ({@link #smooth}); the caller resets the default
   * data type afterwards.
   */
  static boolean gradientCheck(FusionCompiler.Compiled compiled) {
    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    FusionCompiler.Compiled c = smooth(compiled);
    ComputationGraph g = c.newGraph().convertDataType(DataType.DOUBLE);
    int n = 6;
    Nd4j.getRandom().setSeed(17);
    INDArray presence =
        Nd4j.createFromArray(
            new double[][] {{1, 1, 1}, {1, 0, 0}, {0, 1, 1}, {0, 0, 1}, {0, 0, 0}, {1, 0, 1}});
    INDArray[] in = {
      Nd4j.rand(DataType.DOUBLE, n, 6).subi(0.5),
      Nd4j.rand(DataType.DOUBLE, n, 1, 6, 6).subi(0.5),
      Nd4j.rand(DataType.DOUBLE, n, 4, STEPS).subi(0.5),
      presence
    };
    GradientCheckUtil.GraphConfig check =
        new GradientCheckUtil.GraphConfig()
            .net(g)
            .inputs(in)
            .labels(new INDArray[] {labels(n)})
            .epsilon(1e-6)
            .maxRelError(1e-3)
            .minAbsoluteError(1e-8)
            .exitOnFirstError(false);
    return GradientCheckUtil.checkGradients(check);
  }
}
