package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.io.Json;
import org.cohortfusion.registry.ModelRegistry;
import org.cohortfusion.registry.RegistryEvent;
import org.cohortfusion.registry.RegistryLock;
import org.cohortfusion.registry.RunInfo;
import org.cohortfusion.retrain.RetrainResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * retrain end to end on two generated snapshots of a small cohort: the first bootstraps a champion,
 * the second meets it through the gate; a second run is refused while the lock is held; a run
 * stopped between registration and promotion leaves the champion in place and completes when its
 * run id is rerun, without registering twice; so does a driver JVM killed at an arbitrary moment
 * after its evaluate stage; a tampered file of a version is refused, naming the file.
 */
class RetrainCommandTest {
  @TempDir Path dir;

  private Path config(String extra) throws Exception {
    return Files.writeString(
        dir.resolve("retrain.conf"),
        """
        name = retrain-test
        cohort-dir = "%s"
        subjects { path = subjects, duplicates = first }
        modalities {
          clinical { kind = tabular, path = clinical, duplicates = first }
          labs { kind = timeseries, path = labs, steps = 4, duplicates = first }
        }
        splits { seed = 5, stratify = false }
        output { dir = "%s" }
        pretrain.encoders {
          clinical { embedding-size = 4, hidden = [8], epochs = 2 }
          labs { embedding-size = 4, cell = cnn, epochs = 2 }
        }
        fusion { default = mean, models { mean { what = [clinical, labs], how = mean, projection = 4, head = [8] } } }
        train { mode = local, epochs = 2, batch-size = 32 }
        retrain.gate { min-test-subjects = 20, min-test-positives = 5 }
        %s
        """
            .formatted(dir.resolve("s1"), dir.resolve("out"), extra));
  }

  /**
   * The CLI in a JVM of its own (embedded local Spark, the module options of this one), its output
   * in {@code log}.
   */
  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (java.io.IOException e) {
      return "";
    }
  }

  private static Process javaCli(Path log, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-opens")
          || a.startsWith("-Dorg.bytedeco")
          || a.startsWith("-Djdk.reflect")) {
        command.add(a);
      }
    }
    command.addAll(
        List.of(
            "-Xmx2g",
            "-Dspark.master=local[2]",
            "-cp",
            System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            CohortFusion.class.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  private static boolean hasState(Path status, String runId, String state) {
    try {
      Map<?, ?> s =
          new com.fasterxml.jackson.databind.ObjectMapper().readValue(status.toFile(), Map.class);
      return runId.equals(s.get("runId")) && state.equals(s.get("state"));
    } catch (java.io.IOException e) {
      return false; // not there yet, or replaced while read
    }
  }

  private RetrainResult result() {
    return Json.read(
        new Configuration(),
        dir.resolve("out/retrain/retrain.json").toString(),
        RetrainResult.class);
  }

  @Test
  void retrainRegistersGatesPromotesAndSurvivesACrashBeforePromotion() throws Exception {
    assertEquals(
        0,
        CliRun.of(
                "generate",
                "--subjects",
                "400",
                "--seed",
                "3",
                "--output",
                dir.resolve("s1").toString())
            .code());
    // The second snapshot: the first 400 subjects again and 150 new ones, with labs missing more
    // often.
    assertEquals(
        0,
        CliRun.of(
                "generate",
                "--subjects",
                "550",
                "--seed",
                "3",
                "--missing",
                "labs=0.5",
                "--output",
                dir.resolve("s2").toString())
            .code());
    Path conf = config("");
    String registryDir = dir.resolve("out/registry").toString();
    ModelRegistry registry = ModelRegistry.at(new Configuration(), registryDir);

    // Rank-stratified splits would let a subject change split between snapshots: refused before any
    // work.
    CliRun stratified =
        CliRun.of("retrain", "-c", conf.toString(), "--set", "splits.stratify=true");
    assertEquals(2, stratified.code(), stratified.err());
    assertTrue(stratified.err().contains("splits.stratify = true"), stratified.err());

    // Another run holds the registry's lock: refused, naming it, and nothing registered.
    try (RegistryLock held = registry.lock("someone-else", "other-run", Duration.ofHours(1))) {
      CliRun refused = CliRun.of("retrain", "-c", conf.toString(), "--run-id", "a");
      assertEquals(1, refused.code(), refused.err());
      assertTrue(refused.err().contains("held by someone-else (run other-run)"), refused.err());
    }
    assertTrue(registry.list().isEmpty());

    // First snapshot, no champion: the challenger is promoted exactly when it beats the best
    // unimodal model.
    CliRun first = CliRun.of("retrain", "-c", conf.toString(), "--run-id", "a");
    assertTrue(first.code() == 0 || first.code() == 3, first.out() + first.err());
    RetrainResult r1 = result();
    assertEquals(first.code() == 0, r1.promoted());
    assertEquals(1, r1.version());
    assertEquals(r1.promoted(), r1.criteria().stream().allMatch(c -> c.passed()), first.out());
    assertTrue(
        first.out().contains("Gate: mean v1 (challenger) against best unimodal model"),
        first.out());
    if (!r1.promoted()) {
      registry.promote(
          "mean", 1, ModelRegistry.CHAMPION, RunInfo.of("test: a champion to compare with"));
    }
    assertEquals(1, registry.resolve("mean", ModelRegistry.CHAMPION));

    // Second snapshot, stopped after registering v2 and before moving an alias: the champion is
    // untouched.
    Path conf2 = config("cohort-dir = \"" + dir.resolve("s2") + "\"");
    CliRun crashed =
        CliRun.of(
            "retrain",
            "-c",
            conf2.toString(),
            "--run-id",
            "b",
            "--set",
            "retrain.warm-start=true",
            "--stop-after-registration");
    assertEquals(1, crashed.code(), crashed.err());
    assertEquals(1, registry.resolve("mean", ModelRegistry.CHAMPION));
    assertEquals(List.of(1, 2), registry.versions("mean"));
    assertTrue(
        crashed.out().contains("Champion: mean v1; extracting with its encoders"), crashed.out());
    // With the champion's encoders, the subjects of the first snapshot reuse their cached
    // embeddings.
    java.util.regex.Matcher clinical =
        java.util.regex.Pattern.compile("(?m)^clinical +tabular +4 +(\\d+) +(\\d+) +(\\d+) ")
            .matcher(crashed.out());
    assertTrue(clinical.find(), crashed.out());
    int present = Integer.parseInt(clinical.group(1));
    int reused = Integer.parseInt(clinical.group(2));
    assertEquals(present, reused + Integer.parseInt(clinical.group(3)));
    assertTrue(reused > 0 && reused < present, crashed.out());
    // A killed driver would have left its lock: the rerun of its run id takes it over, another run
    // would not.
    RegistryLock.acquire(new Configuration(), registryDir, "dead-driver", "b", Duration.ofHours(1));

    CliRun rerun =
        CliRun.of(
            "retrain", "-c", conf2.toString(), "--run-id", "b", "--set", "retrain.warm-start=true");
    assertTrue(rerun.code() == 0 || rerun.code() == 3, rerun.out() + rerun.err());
    for (String stage : List.of("ingest", "extract", "train", "evaluate")) {
      assertTrue(
          rerun.out().contains("retrain: " + stage + " already done by run b, skipped"),
          rerun.out());
    }
    assertEquals(List.of(1, 2), registry.versions("mean")); // not registered twice
    RetrainResult r2 = result();
    assertEquals(2, r2.version());
    assertEquals("champion v1", r2.comparedWith());
    assertEquals(1, r2.lineage().warmStartedFrom());
    assertTrue(crashed.out().contains("[mean] warm start from "), crashed.out());
    assertEquals(rerun.code() == 0, r2.promoted());
    assertEquals(r2.promoted() ? 2 : 1, registry.resolve("mean", ModelRegistry.CHAMPION));
    if (!r2.promoted()) {
      assertEquals(2, registry.resolve("mean", ModelRegistry.CHALLENGER));
    }
    assertTrue(r2.criteria().stream().anyMatch(c -> c.name().equals("test AUROC (paired DeLong)")));
    assertTrue(r2.drift().patternPsi() > 0, "labs went missing more often: the patterns drifted");
    assertEquals(java.util.Set.of("clinical", "labs"), r2.drift().embeddingPsi().keySet());
    assertTrue(Files.readString(dir.resolve("out/retrain/report.html")).contains("<h2>Gate</h2>"));
    long registrations =
        registry.events("mean").stream()
            .filter(e -> RegistryEvent.REGISTERED.equals(e.type()))
            .count();
    assertEquals(2, registrations);
    Map<?, ?> status =
        Json.read(
            new Configuration(), dir.resolve("out/_status/retrain.json").toString(), Map.class);
    assertEquals("SUCCEEDED", status.get("state"));
    assertEquals(rerun.code(), status.get("exitCode"));
    assertEquals(
        rerun.code(),
        CliRun.of("status", "retrain", "-c", conf2.toString(), "--run-id", "b").code());

    // A driver killed by SIGKILL, again and again at different moments: first after its evaluate
    // stage, then (its
    // stages done) during champion scoring, registration or the alias move of each rerun. After
    // every kill each
    // alias points at a whole, verified version and the run registered at most once; the last rerun
    // completes,
    // judged against the champion the run first met.
    int championBeforeC = registry.resolve("mean", ModelRegistry.CHAMPION);
    java.util.Random delays = new java.util.Random(11);
    Path evaluateStatus = dir.resolve("out/_status/evaluate.json");
    for (int attempt = 0; attempt < 4; attempt++) {
      Path log = Files.createTempFile(dir, "retrain-child", ".log");
      Process killed = javaCli(log, "retrain", "-c", conf2.toString(), "--run-id", "c");
      long deadline = System.currentTimeMillis() + 600_000;
      // The first attempt runs the stages; the later ones find them done and go straight to the
      // champion.
      java.util.function.BooleanSupplier reached =
          attempt == 0
              ? () -> hasState(evaluateStatus, "c", "SUCCEEDED")
              : () -> read(log).contains("retrain: evaluate already done by run c, skipped");
      while (killed.isAlive() && System.currentTimeMillis() < deadline && !reached.getAsBoolean()) {
        Thread.sleep(20);
      }
      int n = attempt;
      assertTrue(
          killed.isAlive() || killed.exitValue() == 0 || killed.exitValue() == 3,
          () ->
              "attempt "
                  + n
                  + ": the child failed with exit code "
                  + killed.exitValue()
                  + ": "
                  + read(log));
      assertTrue(
          reached.getAsBoolean(),
          () -> "attempt " + n + " never got past its stages: " + read(log));
      Thread.sleep(delays.nextInt(3000));
      killed.destroyForcibly().waitFor();
      registry.modelPath(
          "mean", registry.resolve("mean", ModelRegistry.CHAMPION)); // verified, or this throws
      for (int v : registry.versions("mean")) {
        registry.show("mean", v);
      }
      assertTrue(
          registry.events("mean").stream()
                  .filter(e -> RegistryEvent.REGISTERED.equals(e.type()) && "c".equals(e.runId()))
                  .count()
              <= 1);
    }
    assertTrue(
        hasState(evaluateStatus, "c", "SUCCEEDED"), "the first killed driver ran the stages");
    CliRun resumed = CliRun.of("retrain", "-c", conf2.toString(), "--run-id", "c");
    assertTrue(resumed.code() == 0 || resumed.code() == 3, resumed.out() + resumed.err());
    assertEquals(
        1,
        registry.events("mean").stream()
            .filter(e -> RegistryEvent.REGISTERED.equals(e.type()) && "c".equals(e.runId()))
            .count());
    RetrainResult r3 = result();
    assertEquals("champion v" + championBeforeC, r3.comparedWith());
    assertEquals(
        r3.promoted() ? r3.version() : championBeforeC,
        registry.resolve("mean", ModelRegistry.CHAMPION));

    // Another split seed moves subjects between splits: the champion would be scored on subjects it
    // was fitted
    // on, so the comparison is refused (exit 2) and nothing is registered.
    List<Integer> before = registry.versions("mean");
    CliRun reshuffled =
        CliRun.of("retrain", "-c", conf2.toString(), "--run-id", "d", "--set", "splits.seed=6");
    assertEquals(2, reshuffled.code(), reshuffled.out() + reshuffled.err());
    assertTrue(
        reshuffled
            .err()
            .contains(
                "test subjects of this snapshot were in the champion's training or validation "
                    + "split"),
        reshuffled.err());
    assertEquals(before, registry.versions("mean"));

    // One changed byte in a version's lineage: every load of that version is refused, naming the
    // file.
    Path lineage = dir.resolve("out/registry/mean/versions/1/lineage.json");
    Files.deleteIfExists(lineage.resolveSibling(".lineage.json.crc"));
    try (RandomAccessFile f = new RandomAccessFile(lineage.toFile(), "rw")) {
      f.seek(2);
      int b = f.read();
      f.seek(2);
      f.write(b == ' ' ? '\t' : ' ');
    }
    CliRun tampered = CliRun.of("evaluate", "-c", conf2.toString(), "--model", "mean@1");
    assertFalse(tampered.code() == 0);
    assertTrue(
        tampered.err().contains("lineage.json") && tampered.err().contains("does not match"),
        tampered.err());
  }
}
