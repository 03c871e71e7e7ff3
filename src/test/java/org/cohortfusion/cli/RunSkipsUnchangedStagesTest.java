package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run} skips a stage whose inputs are unchanged since its output was made, and runs it (and
 * every later stage) when its config section, the source files or the upstream output changed. The
 * oracle is the file system: a skipped stage leaves every file of its output as it was (same names,
 * sizes and modification times); a stage that ran rewrote them.
 */
class RunSkipsUnchangedStagesTest {
  @TempDir Path dir;

  @Test
  void unchangedStagesAreSkippedAndAnyChangeRunsTheStageAndThoseAfterIt() throws Exception {
    assertEquals(
        0,
        CliRun.of(
                "generate",
                "--subjects",
                "200",
                "--seed",
                "3",
                "--output",
                dir.resolve("in").toString())
            .code());
    Path conf =
        Files.writeString(
            dir.resolve("x.conf"),
            """
        name = skip-test
        cohort-dir = "%s"
        subjects { path = subjects }
        modalities {
          clinical { kind = tabular, path = clinical }
          labs { kind = timeseries, path = labs, steps = 4 }
        }
        output { dir = "%s" }
        pretrain.encoders {
          clinical { embedding-size = 4, hidden = [8], epochs = 1 }
          labs { embedding-size = 4, cell = cnn, epochs = 1 }
        }
        """
                .formatted(dir.resolve("in"), dir.resolve("out")));
    Path out = dir.resolve("out");

    run("r1", conf);
    assertRan(out, "ingest", "r1");
    assertRan(out, "pretrain", "r1");
    Map<String, String> cohort = files(out.resolve("cohort"));
    Map<String, String> encoders = files(out.resolve("pretrain"));

    // Nothing changed: both skipped, outputs untouched, the status names the run that made them.
    run("r2", conf);
    assertSkipped(out, "ingest", "r1", "r2");
    assertSkipped(out, "pretrain", "r1", "r2");
    assertEquals(cohort, files(out.resolve("cohort")));
    assertEquals(encoders, files(out.resolve("pretrain")));

    // Only pretrain's config changed: ingest skipped, pretrain runs.
    run("r3", conf, "--set", "pretrain.encoders.clinical.epochs=2");
    assertSkipped(out, "ingest", "r1", "r3");
    assertRan(out, "pretrain", "r3");
    assertEquals(cohort, files(out.resolve("cohort")));
    assertNotEquals(encoders, files(out.resolve("pretrain")));
    encoders = files(out.resolve("pretrain"));

    // A new snapshot of one source table (same path, new modification time): ingest runs, and so
    // does pretrain,
    // whose own config is as in r3.
    try (Stream<Path> s = Files.walk(dir.resolve("in/labs"))) {
      Path part =
          s.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
      Files.setLastModifiedTime(
          part, FileTime.fromMillis(Files.getLastModifiedTime(part).toMillis() + 60_000));
    }
    run("r4", conf, "--set", "pretrain.encoders.clinical.epochs=2");
    assertRan(out, "ingest", "r4");
    assertRan(out, "pretrain", "r4");
    assertNotEquals(cohort, files(out.resolve("cohort")));
    assertNotEquals(encoders, files(out.resolve("pretrain")));

    // --force runs a stage whose inputs are unchanged.
    CliRun forced =
        CliRun.of(
            "run",
            "--config",
            conf.toString(),
            "--to",
            "ingest",
            "--force",
            "--run-id",
            "r5",
            "--set",
            "pretrain.encoders.clinical.epochs=2");
    assertEquals(0, forced.code(), forced.out() + forced.err());
    assertRan(out, "ingest", "r5");
  }

  private static void run(String id, Path conf, String... extra) {
    String[] args =
        Stream.concat(
                Stream.of("run", "--config", conf.toString(), "--to", "pretrain", "--run-id", id),
                Stream.of(extra))
            .toArray(String[]::new);
    CliRun r = CliRun.of(args);
    assertEquals(0, r.code(), r.out() + r.err());
  }

  private static JsonNode status(Path out, String stage) throws IOException {
    return new ObjectMapper().readTree(out.resolve("_status/" + stage + ".json").toFile());
  }

  private static void assertRan(Path out, String stage, String id) throws IOException {
    JsonNode s = status(out, stage);
    assertEquals("SUCCEEDED", s.get("state").asText(), stage);
    assertEquals(id, s.get("runId").asText(), stage);
    assertFalse(s.get("skipped").asBoolean(), stage);
    assertTrue(s.get("outputRunId").isNull(), stage);
    assertEquals(64, s.get("inputDigest").asText().length(), stage);
  }

  private static void assertSkipped(Path out, String stage, String producedBy, String id)
      throws IOException {
    JsonNode s = status(out, stage);
    assertEquals("SUCCEEDED", s.get("state").asText(), stage);
    assertEquals(id, s.get("runId").asText(), stage);
    assertTrue(s.get("skipped").asBoolean(), stage);
    assertEquals(producedBy, s.get("outputRunId").asText(), stage);
  }

  /** Every file under {@code root}: relative name to size and modification time. */
  private static Map<String, String> files(Path root) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        m.put(
            root.relativize(p).toString(),
            Files.size(p) + " " + Files.getLastModifiedTime(p).toMillis());
      }
    }
    return m;
  }
}
