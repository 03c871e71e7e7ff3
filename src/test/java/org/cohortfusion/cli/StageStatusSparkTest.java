package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real stage through CohortFusion.run: its status file and the status command agree with its exit
 * code.
 */
class StageStatusSparkTest {
  @TempDir Path dir;

  @Test
  void anIngestOfMissingTablesExitsTwoRecordsFailedAndStatusSaysTwo() throws Exception {
    SparkTestSession.get(); // the stage reuses the test JVM's session
    Files.createDirectories(dir.resolve("input"));
    Path conf =
        Files.writeString(
            dir.resolve("c.conf"),
            "cohort-dir = \""
                + dir.resolve("input")
                + "\"\n"
                + "subjects { path = subjects }\nmodalities { labs { kind = timeseries, path = labs } }\n"
                + "output { dir = \""
                + dir.resolve("out").toUri()
                + "\" }\n");

    CliRun run = CliRun.of("ingest", "--config", conf.toString(), "--run-id", "e2e-1");
    assertEquals(2, run.code(), run.err());
    assertEquals(
        1,
        run.errLines().stream().filter(l -> l.startsWith("error: Cannot read table '")).count(),
        run.err());
    assertTrue(
        run.errLines().stream().noneMatch(l -> l.startsWith("\tat ")),
        "no stack trace for a user error: " + run.err());

    Map<?, ?> status =
        new ObjectMapper().readValue(dir.resolve("out/_status/ingest.json").toFile(), Map.class);
    assertEquals("FAILED", status.get("state"));
    assertEquals("e2e-1", status.get("runId"));
    assertEquals(2, status.get("exitCode"));
    assertTrue(((String) status.get("error")).startsWith("Cannot read table '"), status.toString());

    assertEquals(
        2, CliRun.of("status", "ingest", "--config", conf.toString(), "--run-id", "e2e-1").code());
    assertEquals(
        4,
        CliRun.of("status", "ingest", "--config", conf.toString(), "--run-id", "another").code());
  }

  @Test
  void aBareConfigNameIsReadFromTheFilesShippedToTheDriver() throws Exception {
    // Not under the test's temporary directory: the shared session's executor fetches added files
    // at its next task,
    // whichever test runs it, and fails if the source has gone or changed by then.
    Path shipped = Files.createTempFile("shipped-", ".conf");
    shipped.toFile().deleteOnExit();
    Files.writeString(
        shipped,
        "name = shipped\nsubjects { path = s }\nmodalities { labs { kind = timeseries, path = l } }\noutput { dir = o }\n");
    SparkTestSession.get()
        .sparkContext()
        .addFile(shipped.toString()); // what spark-submit --files does
    IngestCommand ingest = new IngestCommand();
    new picocli.CommandLine(ingest).parseArgs("--config", shipped.getFileName().toString());
    assertTrue(
        !Files.exists(Path.of(shipped.getFileName().toString())),
        "no local file of that name in the working directory");
    assertEquals("shipped", ingest.config().name());
  }
}
