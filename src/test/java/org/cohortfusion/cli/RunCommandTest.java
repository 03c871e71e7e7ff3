package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunCommandTest {
  @TempDir Path dir;

  /**
   * A stage range out of order, or a stage that does not exist, is a user error before any stage
   * runs.
   */
  @Test
  void aBadStageRangeIsAUserErrorRecordedInTheRunsStatus() throws Exception {
    Path conf =
        Files.writeString(
            dir.resolve("x.conf"),
            "subjects { path = s }\nmodalities { labs { kind = timeseries, path = l } }\n"
                + "output { dir = \""
                + dir.resolve("out")
                + "\" }\n");
    assertEquals(
        2,
        CohortFusion.run(
            "run",
            "--config",
            conf.toString(),
            "--from",
            "train",
            "--to",
            "ingest",
            "--run-id",
            "r1"));
    Map<?, ?> status =
        new ObjectMapper().readValue(dir.resolve("out/_status/run.json").toFile(), Map.class);
    assertEquals("FAILED", status.get("state"));
    assertEquals("r1", status.get("runId"));
    assertEquals(2, CohortFusion.run("run", "--config", conf.toString(), "--from", "generate"));
    // No stage ran: none wrote a status.
    assertEquals(false, Files.exists(dir.resolve("out/_status/ingest.json")));
  }
}
