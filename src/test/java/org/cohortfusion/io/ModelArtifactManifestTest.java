package org.cohortfusion.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Every file of a saved model is covered by its manifest; a changed, missing or added file refuses
 * the load.
 */
class ModelArtifactManifestTest {
  @TempDir Path dir;

  private final Configuration conf = new Configuration();
  private Path model;

  static MultiLayerNetwork tiny() {
    MultiLayerNetwork net =
        new MultiLayerNetwork(
            new NeuralNetConfiguration.Builder()
                .seed(1)
                .list()
                .layer(
                    new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(3)
                        .nOut(2)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
    net.init();
    return net;
  }

  @BeforeEach
  void save() {
    model = dir.resolve("model");
    ModelArtifact.save(
        conf,
        model.toString(),
        tiny(),
        new ModelArtifact.Provenance(
            "fusion:t",
            "c",
            "v",
            Map.of("modalities", java.util.List.of("a", "b")),
            Map.of(),
            "now"));
  }

  /** Rewrites a file without Hadoop's .crc sidecar, as a tamper on a store without one would. */
  private void tamper(String name, String content) throws Exception {
    Files.writeString(model.resolve(name), content);
    Files.deleteIfExists(model.resolve("." + name + ".crc"));
  }

  @Test
  void anUntouchedModelLoads() {
    assertEquals(
        2,
        ModelArtifact.loadNetwork(conf, model.toString())
            .model()
            .output(org.nd4j.linalg.factory.Nd4j.zeros(1, 3))
            .columns());
  }

  @Test
  void aChangedProvenanceIsRefusedNamingTheFile() throws Exception {
    String original = Files.readString(model.resolve(ModelArtifact.PROVENANCE));
    tamper(ModelArtifact.PROVENANCE, original.replace("\"b\"", "\"x\""));
    String expected = Hashing.sha256(original);
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> ModelArtifact.loadNetwork(conf, model.toString()));
    assertTrue(
        e.getMessage().startsWith("Cannot load model " + model + ": provenance.json has SHA-256 "),
        e.getMessage());
    assertTrue(e.getMessage().contains("manifest.json says " + expected), e.getMessage());
  }

  @Test
  void aChangedChecksumSidecarIsRefusedToo() throws Exception {
    tamper(ModelArtifact.CHECKSUM, "0".repeat(64) + "  model.zip\n");
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> ModelArtifact.verified(conf, model.toString()));
    assertTrue(e.getMessage().contains(": model.sha256 has SHA-256"), e.getMessage());
  }

  @Test
  void aMissingOrAddedFileIsRefused() throws Exception {
    Files.writeString(model.resolve("extra.json"), "{}");
    IllegalStateException added =
        assertThrows(
            IllegalStateException.class, () -> ModelArtifact.verified(conf, model.toString()));
    assertTrue(
        added.getMessage().contains("extra.json is not listed in manifest.json"),
        added.getMessage());
    Files.delete(model.resolve("extra.json"));
    Files.delete(model.resolve(ModelArtifact.PROVENANCE));
    IllegalStateException missing =
        assertThrows(
            IllegalStateException.class, () -> ModelArtifact.verified(conf, model.toString()));
    assertTrue(
        missing.getMessage().contains("provenance.json is listed in manifest.json but missing"),
        missing.getMessage());
  }

  @Test
  void aModelWithoutManifestIsRefused() throws Exception {
    Files.delete(model.resolve(ModelArtifact.MANIFEST));
    Files.deleteIfExists(model.resolve("." + ModelArtifact.MANIFEST + ".crc"));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> ModelArtifact.verified(conf, model.toString()));
    assertTrue(e.getMessage().contains("no manifest.json"), e.getMessage());
  }
}
