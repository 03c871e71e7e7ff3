package org.cohortfusion.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.io.ModelArtifact;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class ModelRegistryTest {
  @TempDir Path dir;

  private final Configuration conf = new Configuration();
  private ModelRegistry registry;

  @BeforeEach
  void open() {
    registry = ModelRegistry.at(conf, dir.resolve("registry").toString());
  }

  /**
   * A trained model as train publishes it: {@code <train>/<model>/model}, its cohort hash telling
   * it apart.
   */
  private String trained(String tag, double auroc) {
    MultiLayerNetwork net =
        new MultiLayerNetwork(
            new NeuralNetConfiguration.Builder()
                .seed(tag.hashCode())
                .list()
                .layer(
                    new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(3)
                        .nOut(2)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
    net.init();
    String modelDir = dir.resolve("train-" + tag).resolve("attention").toString();
    ModelArtifact.save(
        conf,
        modelDir + "/model",
        net,
        new ModelArtifact.Provenance(
            "fusion:attention",
            "cohort-" + tag,
            "test",
            Map.of("train", Map.of("epochs", tag.length()), "embeddingsSha256", "emb-" + tag),
            Map.of("auroc", auroc),
            "now"));
    return modelDir;
  }

  private List<Path> versionDirs(String model) throws Exception {
    try (Stream<Path> s = Files.list(dir.resolve("registry").resolve(model).resolve("versions"))) {
      return s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
    }
  }

  @Test
  void registerCopiesEveryFileAndShowVerifiesThem() throws Exception {
    ModelRegistry.Registered r =
        registry.register("sepsis", trained("a", 0.7), RunInfo.of("first"));
    assertEquals(1, r.version());
    ModelRegistry.Version v = registry.show("sepsis", 1);
    assertEquals("cohort-a", v.provenance().cohortHash());
    Set<String> files = new TreeSet<>();
    try (Stream<Path> s = Files.list(dir.resolve("registry/sepsis/versions/1"))) {
      s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).forEach(files::add);
    }
    assertEquals(
        Set.of(
            "manifest.json",
            "metrics.json",
            "model.sha256",
            "model.zip",
            "provenance.json",
            "registration.json"),
        files);
    ModelArtifact.loadNetwork(conf, registry.modelPath("sepsis", 1));
  }

  @Test
  void aTamperedFileInAVersionIsRefusedNamingTheFile() throws Exception {
    registry.register("sepsis", trained("a", 0.7), RunInfo.of(""));
    Path metrics = dir.resolve("registry/sepsis/versions/1/metrics.json");
    Files.writeString(metrics, "{\"auroc\": 0.99}");
    Files.deleteIfExists(metrics.resolveSibling(".metrics.json.crc"));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> registry.modelPath("sepsis", 1));
    assertTrue(e.getMessage().startsWith("Cannot load model "), e.getMessage());
    assertTrue(e.getMessage().contains("metrics.json has SHA-256 "), e.getMessage());
  }

  @Test
  void twoConcurrentRegistrationsGetDistinctVersionsBothLoadable() throws Exception {
    String a = trained("a", 0.7);
    String b = trained("bb", 0.8);
    int writers = 4;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    List<Future<ModelRegistry.Registered>> futures = new ArrayList<>();
    for (int i = 0; i < writers; i++) {
      String from = i % 2 == 0 ? a : b;
      // One registry object per writer, as separate processes would have.
      ModelRegistry own = ModelRegistry.at(conf, dir.resolve("registry").toString());
      futures.add(
          pool.submit(
              () -> {
                start.await();
                return own.register("sepsis", from, RunInfo.of("race"));
              }));
    }
    start.countDown();
    Set<Integer> versions = new TreeSet<>();
    for (Future<ModelRegistry.Registered> f : futures) {
      versions.add(f.get().version());
    }
    pool.shutdown();
    assertEquals(Set.of(1, 2, 3, 4), versions);
    assertEquals(4, versionDirs("sepsis").size());
    int fromA = 0;
    for (int v : versions) {
      ModelArtifact.Loaded<MultiLayerNetwork> l =
          ModelArtifact.loadNetwork(conf, registry.modelPath("sepsis", v));
      fromA += l.provenance().cohortHash().equals("cohort-a") ? 1 : 0;
    }
    assertEquals(2, fromA, "each version holds the files of the model it was registered from");
    assertEquals(
        4,
        registry.events("sepsis").stream()
            .filter(e -> e.type().equals(RegistryEvent.REGISTERED))
            .count());
  }

  @Test
  void promoteAndRollbackMoveTheAliasAndTheLogRecordsBoth() {
    registry.register("sepsis", trained("a", 0.7), RunInfo.of(""));
    registry.register("sepsis", trained("bb", 0.8), RunInfo.of(""));
    registry.register("sepsis", trained("ccc", 0.9), RunInfo.of(""));
    assertNull(
        registry
            .promote("sepsis", 1, ModelRegistry.CHAMPION, new RunInfo("run-1", "ana", "first"))
            .previous());
    registry.promote(
        "sepsis", 2, ModelRegistry.CHAMPION, new RunInfo("run-2", "ana", "better AUROC"));
    registry.promote(
        "sepsis", 3, ModelRegistry.CHALLENGER, new RunInfo("run-3", "ana", "candidate"));
    assertEquals(2, registry.resolve("sepsis", "champion"));

    ModelRegistry.Moved back =
        registry.rollback(
            "sepsis", ModelRegistry.CHAMPION, new RunInfo("run-4", "bo", "drift in v2"));
    assertEquals(1, back.version());
    assertEquals(2, back.previous());
    assertEquals(1, registry.resolve("sepsis", "champion"));
    assertEquals(3, registry.resolve("sepsis", "challenger"), "another alias does not move");
    assertEquals(Map.of("champion", 1, "challenger", 3), registry.aliases("sepsis"));

    List<RegistryEvent> log = registry.events("sepsis");
    RegistryEvent promoted = log.get(4);
    assertEquals(
        List.of(RegistryEvent.PROMOTED, 2, 1, "better AUROC", "run-2", "ana"),
        List.of(
            promoted.type(),
            promoted.version(),
            promoted.previous(),
            promoted.reason(),
            promoted.runId(),
            promoted.user()));
    RegistryEvent rolled = log.get(log.size() - 1);
    assertEquals(
        List.of(RegistryEvent.ROLLED_BACK, "champion", 1, 2, "drift in v2", "run-4", "bo"),
        List.of(
            rolled.type(),
            rolled.alias(),
            rolled.version(),
            rolled.previous(),
            rolled.reason(),
            rolled.runId(),
            rolled.user()));
    assertEquals(
        List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), log.stream().map(RegistryEvent::seq).toList());

    // Nothing before v1: a second rollback is refused, and the alias stays.
    RegistryException none =
        assertThrows(
            RegistryException.class,
            () -> registry.rollback("sepsis", ModelRegistry.CHAMPION, RunInfo.of("")));
    assertTrue(none.getMessage().startsWith("Cannot roll back sepsis@champion"), none.getMessage());
    assertEquals(1, registry.resolve("sepsis", "champion"));
  }

  @Test
  void aModelOtherThanTheOneTrainRecordedIsNotRegistered() throws Exception {
    String from = trained("a", 0.7);
    byte[] zip = Files.readAllBytes(Path.of(from, "model", ModelArtifact.MODEL));
    String recorded = org.cohortfusion.io.Hashing.sha256(zip);
    Path summary = Path.of(from).getParent().resolve("summary.json");
    writeSummary(summary, from + "/model", "0".repeat(64));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> registry.register("sepsis", from, RunInfo.of("")));
    assertTrue(e.getMessage().startsWith("Cannot register sepsis from "), e.getMessage());
    assertTrue(
        e.getMessage()
            .contains("has SHA-256 " + recorded + ", " + summary + " says " + "0".repeat(64)),
        e.getMessage());
    assertTrue(
        registry.list().isEmpty() || registry.versions("sepsis").isEmpty(), "nothing registered");

    writeSummary(summary, from + "/model", recorded);
    assertEquals(1, registry.register("sepsis", from, RunInfo.of("")).version());
  }

  private void writeSummary(Path summary, String modelDir, String sha) throws Exception {
    Files.deleteIfExists(summary.resolveSibling(".summary.json.crc"));
    org.cohortfusion.io.Json.write(
        conf,
        summary.toString(),
        new org.cohortfusion.stage.TrainOutputs.Summary(
            "emb",
            "test",
            List.of(
                new org.cohortfusion.stage.TrainOutputs.Entry(
                    "attention",
                    "fusion",
                    "attention",
                    modelDir,
                    sha,
                    1,
                    1,
                    false,
                    true,
                    Map.of()))));
  }

  @Test
  void unknownModelVersionOrAliasIsABadInput() {
    registry.register("sepsis", trained("a", 0.7), RunInfo.of(""));
    assertTrue(
        assertThrows(RegistryException.class, () -> registry.show("nope", 1))
            .getMessage()
            .startsWith("Cannot find model 'nope'"));
    assertTrue(
        assertThrows(
                RegistryException.class,
                () -> registry.promote("sepsis", 9, "champion", RunInfo.of("")))
            .getMessage()
            .contains("no such version (have [1])"));
    assertTrue(
        assertThrows(RegistryException.class, () -> registry.resolve("sepsis", "champion"))
            .getMessage()
            .contains("no such alias"));
  }

  @Test
  void diffNamesConfigLineageAndMetricChanges() {
    registry.register("sepsis", trained("a", 0.7), RunInfo.of(""));
    registry.register("sepsis", trained("bb", 0.8), RunInfo.of(""));
    ModelRegistry.Diff d = registry.diff("sepsis", 1, 2);
    assertEquals(
        List.of("embeddingsSha256", "train.epochs"),
        d.config().stream().map(ModelRegistry.Change::key).toList());
    assertTrue(
        d.lineage().stream()
            .anyMatch(
                c ->
                    c.key().equals("cohortHash")
                        && c.a().equals("cohort-a")
                        && c.b().equals("cohort-bb")),
        d.lineage().toString());
    ModelRegistry.MetricChange auroc = d.metrics().get(0);
    assertEquals("auroc", auroc.metric());
    assertEquals(0.1, auroc.delta(), 1e-12);
    assertNotEquals(d.lineage().size(), 0);
  }
}
