package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.cohort.ingest.IngestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class StageStatusTest {
  @TempDir Path dir;

  /**
   * A stage without Spark: what it does is given per test; it reads its own status while running.
   */
  @CommandLine.Command(name = "fake")
  static final class FakeStage implements Stage, Callable<Integer> {
    @CommandLine.Mixin RunOptions run;
    String root;
    Callable<Integer> work;
    Map<?, ?> seenWhileRunning;

    @Override
    public RunOptions run() {
      return run;
    }

    @Override
    public String statusRoot() {
      return root;
    }

    @Override
    public Configuration hadoopConf() {
      return new Configuration();
    }

    @Override
    public void resolveLocally(Map<String, String> shippedFiles) {}

    @Override
    public Integer call() throws Exception {
      seenWhileRunning = readStatus(Path.of(root), "fake");
      return work.call();
    }
  }

  static Map<?, ?> readStatus(Path root, String stage) throws Exception {
    return new ObjectMapper()
        .readValue(root.resolve("_status").resolve(stage + ".json").toFile(), Map.class);
  }

  private Map<?, ?> runFake(Callable<Integer> work, String... args) throws Exception {
    FakeStage fake = new FakeStage();
    fake.root = dir.resolve("out").toString();
    fake.work = work;
    CommandLine cli = new CommandLine(fake);
    cli.setExecutionStrategy(new StatusRecorder());
    try {
      cli.parseArgs(args);
      cli.getExecutionStrategy().execute(cli.getParseResult());
    } catch (RuntimeException expected) {
      // the tests look at the status file
    }
    assertEquals("RUNNING", fake.seenWhileRunning.get("state"));
    assertNull(fake.seenWhileRunning.get("endTime"));
    try (Stream<Path> files = Files.list(dir.resolve("out").resolve("_status"))) {
      List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
      // The local file system keeps a checksum beside each file; nothing else may stay behind.
      assertEquals(
          List.of(".fake.json.crc", "fake.json"),
          names,
          "no temporary file is left next to the status");
    }
    return readStatus(dir.resolve("out"), "fake");
  }

  @Test
  void aSucceededStageRecordsRunningThenSucceededWithItsRunId() throws Exception {
    Instant before = Instant.now();
    Map<?, ?> s = runFake(() -> 0, "--run-id", "run-7");
    assertEquals("SUCCEEDED", s.get("state"));
    assertEquals("run-7", s.get("runId"));
    assertEquals("fake", s.get("stage"));
    assertEquals(0, s.get("exitCode"));
    assertNull(s.get("error"));
    Instant start = Instant.parse((String) s.get("startTime"));
    Instant end = Instant.parse((String) s.get("endTime"));
    assertTrue(!start.isBefore(before.minusSeconds(1)) && !end.isBefore(start), s.toString());
  }

  @Test
  void withoutRunIdAUuidIsRecorded() throws Exception {
    Map<?, ?> s = runFake(() -> 0);
    assertEquals(36, ((String) s.get("runId")).length(), s.toString());
  }

  @Test
  void aUserErrorRecordsFailedWithExitCodeTwoAndItsMessage() throws Exception {
    Map<?, ?> s =
        runFake(
            () -> {
              throw new IngestException("Cannot read table 'labs': no file or directory at /x");
            });
    assertEquals("FAILED", s.get("state"));
    assertEquals(2, s.get("exitCode"));
    assertEquals("Cannot read table 'labs': no file or directory at /x", s.get("error"));
    assertNotNull(s.get("endTime"));
  }

  @Test
  void aForeignExceptionRecordsExitCodeOneAndWithholdsItsMessage() throws Exception {
    Map<?, ?> s = runFake(() -> Integer.parseInt("subject-value-123"));
    assertEquals("FAILED", s.get("state"));
    assertEquals(1, s.get("exitCode"));
    String error = (String) s.get("error");
    assertTrue(error.startsWith("java.lang.NumberFormatException"), error);
    assertTrue(
        !error.contains("subject-value-123"),
        "a message from outside the project may quote data: " + error);
  }

  @Test
  void aNonZeroReturnRecordsFailed() throws Exception {
    Map<?, ?> s = runFake(() -> 1);
    assertEquals("FAILED", s.get("state"));
    assertEquals(1, s.get("exitCode"));
  }

  @Test
  void aSecondRunReplacesTheStatus() throws Exception {
    runFake(() -> 1, "--run-id", "a");
    Map<?, ?> s = runFake(() -> 0, "--run-id", "b");
    assertEquals("b", s.get("runId"));
    assertEquals("SUCCEEDED", s.get("state"));
  }

  // --- the status command, on status files written by hand (an oracle independent of StageStatus)
  // ---

  private Path config() throws Exception {
    Path conf = dir.resolve("c.conf");
    Files.writeString(
        conf,
        "subjects { path = s }\nmodalities { labs { kind = timeseries, path = l } }\noutput { dir = \""
            + dir.resolve("out")
            + "\" }\n");
    return conf;
  }

  private void statusFile(String json) throws Exception {
    Files.createDirectories(dir.resolve("out/_status"));
    Files.writeString(dir.resolve("out/_status/ingest.json"), json);
  }

  private static String status(String state, String runId, Integer exitCode) {
    return "{\"stage\":\"ingest\",\"state\":\""
        + state
        + "\",\"runId\":\""
        + runId
        + "\",\"startTime\":\"2026-01-01T00:00:00Z\","
        + "\"endTime\":null,\"exitCode\":"
        + exitCode
        + ",\"error\":null,\"version\":\"x\"}";
  }

  @Test
  void statusExitsFourWithoutAStatusFile() throws Exception {
    CliRun r = CliRun.of("status", "ingest", "--config", config().toString());
    assertEquals(4, r.code(), r.err());
  }

  @Test
  void statusExitsZeroForTheSucceededRunAndFourForAnotherRunId() throws Exception {
    Path conf = config();
    statusFile(status("SUCCEEDED", "r1", 0));
    CliRun ok = CliRun.of("status", "ingest", "--config", conf.toString(), "--run-id", "r1");
    assertEquals(0, ok.code(), ok.err());
    assertEquals("r1", new ObjectMapper().readValue(ok.out(), Map.class).get("runId"));
    assertEquals(
        4, CliRun.of("status", "ingest", "--config", conf.toString(), "--run-id", "r2").code());
    assertEquals(
        0,
        CliRun.of("status", "ingest", "--config", conf.toString()).code(),
        "no --run-id: the last run");
  }

  @Test
  void statusExitsWithTheFailedStagesCodeAndFourWhileRunning() throws Exception {
    Path conf = config();
    statusFile(status("FAILED", "r1", 2));
    assertEquals(
        2, CliRun.of("status", "ingest", "--config", conf.toString(), "--run-id", "r1").code());
    statusFile(status("FAILED", "r1", 1));
    assertEquals(
        1, CliRun.of("status", "ingest", "--config", conf.toString(), "--run-id", "r1").code());
    statusFile(status("RUNNING", "r1", null));
    assertEquals(
        4, CliRun.of("status", "ingest", "--config", conf.toString(), "--run-id", "r1").code());
  }

  @Test
  void statusFindsABareConfigNameAmongTheShippedFiles() throws Exception {
    Path conf = config();
    statusFile(status("SUCCEEDED", "r1", 0));
    CliRun r =
        CliRun.of(
            "status",
            "--files",
            "/elsewhere/x.conf," + conf,
            "ingest",
            "--config",
            "c.conf",
            "--run-id",
            "r1");
    assertEquals(0, r.code(), r.err());
  }

  @Test
  void statusOfANonStageIsAUserError() {
    CliRun r = CliRun.of("status", "help");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("not a stage"), r.err());
  }
}
