package org.cohortfusion.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.cli.CohortFusion;
import org.cohortfusion.io.ModelArtifact;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** jobs/cohort-fusion registry ...: what it prints and its exit codes (0 ok, 2 bad input). */
class RegistryCommandTest {
  @TempDir Path dir;

  private String out;
  private String err;

  private int cli(String... args) {
    PrintStream saved = System.out;
    PrintStream savedErr = System.err;
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(errors, true, StandardCharsets.UTF_8));
    try {
      return CohortFusion.run(args);
    } finally {
      System.setOut(saved);
      System.setErr(savedErr);
      out = buffer.toString(StandardCharsets.UTF_8);
      err = errors.toString(StandardCharsets.UTF_8);
    }
  }

  private String trained(String tag) {
    MultiLayerNetwork net =
        new MultiLayerNetwork(
            new NeuralNetConfiguration.Builder()
                .seed(7)
                .list()
                .layer(
                    new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(2)
                        .nOut(2)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
    net.init();
    String modelDir = dir.resolve("train-" + tag).resolve("mean").toString();
    ModelArtifact.save(
        new Configuration(),
        modelDir + "/model",
        net,
        new ModelArtifact.Provenance(
            "fusion:mean", "cohort-" + tag, "test", Map.of(), Map.of("auroc", 0.5), "now"));
    return modelDir;
  }

  @Test
  void registerPromoteRollbackThroughTheCommandLine() throws Exception {
    String reg = dir.resolve("registry").toString();
    assertEquals(0, cli("registry", "register", "mean", "--from", trained("a"), "--registry", reg));
    assertTrue(out.startsWith("Registered mean v1 at "), out);
    assertEquals(
        0,
        cli(
            "registry",
            "register",
            "mean",
            "--from",
            trained("b"),
            "--registry",
            reg,
            "--reason",
            "retrain"));
    assertEquals(0, cli("registry", "promote", "mean", "--version", "1", "--registry", reg));
    assertEquals(0, cli("registry", "promote", "mean", "--version", "2", "--registry", reg));
    assertEquals("mean@champion -> v2 (was v1)", out.strip());
    assertEquals(
        0, cli("registry", "rollback", "mean", "--registry", reg, "--reason", "worse on new data"));
    assertEquals("mean@champion -> v1 (rolled back from v2)", out.strip());
    assertEquals(0, cli("registry", "list", "--registry", reg));
    assertEquals("mean  versions [1, 2]  champion=v1", out.strip());
    assertEquals(0, cli("registry", "show", "mean", "--alias", "champion", "--registry", reg));
    assertTrue(out.contains("\"cohortHash\" : \"cohort-a\""), out);
    assertEquals(0, cli("registry", "diff", "mean", "1", "champion", "--registry", reg));
    assertEquals(0, cli("registry", "log", "mean", "--registry", reg));
    assertEquals(5, out.strip().split("\n").length, out);

    // Bad input: exit 2.
    assertEquals(2, cli("registry", "show", "nope", "--registry", reg));
    assertEquals(2, cli("registry", "promote", "mean", "--version", "9", "--registry", reg));
    assertEquals(2, cli("registry", "show", "mean", "--alias", "challenger", "--registry", reg));
    assertEquals(
        2,
        cli(
            "registry",
            "register",
            "mean",
            "--from",
            dir.resolve("missing").toString(),
            "--registry",
            reg));
    assertEquals(2, cli("registry", "list"));

    // While a retrain holds the registry's lock, moving an alias by hand is refused naming the
    // holder.
    try (RegistryLock held =
        RegistryLock.acquire(
            new Configuration(), reg, "nightly-retrain", "run-7", java.time.Duration.ofHours(1))) {
      assertEquals(2, cli("registry", "promote", "mean", "--version", "2", "--registry", reg));
      assertTrue(err.contains("held by nightly-retrain (run run-7)"), err);
      assertEquals(2, cli("registry", "rollback", "mean", "--registry", reg));
    }
    assertEquals(
        1, ModelRegistry.at(new Configuration(), reg).resolve("mean", ModelRegistry.CHAMPION));
    assertEquals(0, cli("registry", "promote", "mean", "--version", "2", "--registry", reg));
    assertFalse(
        Files.exists(dir.resolve("registry/_lock.json")), "the promotion released its lock");

    // A tampered version: refused, exit 1 (not an input the user can fix by retyping).
    Path zip = dir.resolve("registry/mean/versions/2/model.zip");
    Files.write(zip, new byte[] {1, 2, 3});
    Files.deleteIfExists(zip.resolveSibling(".model.zip.crc"));
    assertEquals(1, cli("registry", "show", "mean", "--version", "2", "--registry", reg));
  }
}
