package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * jobs/submit.sh gives a run id, and with --wait reads the recorded outcome, only for the commands
 * it lists as stages: a command that records a status but is missing there exits with
 * spark-submit's code, which in standalone cluster mode is 0 even when the driver failed.
 */
class SubmitScriptTest {
  private static final Path REPO = Path.of(System.getProperty("cohortfusion.repo", "."));

  @Test
  void submitShTreatsExactlyTheCommandsThatRecordAStatusAsStages() throws IOException {
    Matcher m =
        Pattern.compile("case \"\\$STAGE\" in ([a-z|]+)\\) IS_STAGE=true")
            .matcher(Files.readString(REPO.resolve("jobs/submit.sh")));
    assertTrue(m.find(), "jobs/submit.sh has no IS_STAGE case line");
    Set<String> script = new TreeSet<>(List.of(m.group(1).split("\\|")));
    Set<String> recording = new TreeSet<>(CohortFusion.stageNames());
    assertTrue(recording.containsAll(List.of("ingest", "run", "retrain")), recording.toString());
    assertEquals(recording, script);
  }
}
