package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkException;
import org.cohortfusion.cohort.ingest.IngestException;
import org.cohortfusion.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExitCodesTest {
  @TempDir Path dir;

  @Test
  void aBadTrainModeIsAParameterErrorOfOneLine() {
    CliRun r = CliRun.of("train", "--config", "unread.conf", "--mode", "foo");
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.errLines().size(), r.err());
    assertTrue(r.errLines().get(0).startsWith("error: "), r.err());
    assertTrue(r.errLines().get(0).contains("expected local or spark, got 'foo'"), r.err());
  }

  @Test
  void anUnknownBenchConditionExitsTwoNamingTheKnownOnes() {
    CliRun r =
        CliRun.of(
            "bench",
            "fusion-seeds",
            "--conditions",
            "complete,no-such",
            "--work-dir",
            dir.toString());
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.errLines().size(), r.err());
    assertTrue(
        r.errLines()
            .get(0)
            .startsWith(
                "error: Cannot run bench fusion-seeds: unknown condition in [complete, no-such]"
                    + " (known: fusion-vs-unimodal, no-interaction, complete,"),
        r.err());
  }

  @Test
  void anUnknownOptionExitsTwoWithOneLine() {
    CliRun r = CliRun.of("ingest", "--config", "unread.conf", "--no-such-option");
    assertEquals(2, r.code(), r.err());
    assertEquals(List.of("error: Unknown option: '--no-such-option'"), r.errLines());
  }

  @Test
  void aBadConfigKeyExitsTwoWithOneLineNamingTheKey() throws Exception {
    Path conf = dir.resolve("bad.conf");
    Files.writeString(conf, "subjects { path = s }\noutput { dir = o }\nsplitz { seed = 1 }\n");
    CliRun r = CliRun.of("ingest", "--config", conf.toString());
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.errLines().size(), r.err());
    assertTrue(r.errLines().get(0).startsWith("error: Unknown config key 'splitz'"), r.err());
  }

  @Test
  void aBadKeyGivenWithSetIsBlamedOnSetNotOnTheFile() throws Exception {
    Path conf = dir.resolve("good.conf");
    Files.writeString(
        conf,
        "subjects { path = s }\nmodalities { labs { kind = timeseries, path = l } }\noutput { dir = o }\n");
    CliRun r = CliRun.of("ingest", "--config", conf.toString(), "--set", "splitz.seed=1");
    assertEquals(2, r.code(), r.err());
    assertEquals(
        List.of(
            "error: Unknown config key 'splitz' given with --set 'splitz.seed=1': expected one of"),
        List.of(r.errLines().get(0).substring(0, r.errLines().get(0).indexOf(" ["))),
        r.err());
    assertEquals(1, r.errLines().size(), r.err());
  }

  @Test
  void statusExitsFourWhenItCannotReadTheConfigSinceThatIsNoVerdictOnTheStage() {
    CliRun r =
        CliRun.of("status", "ingest", "--config", dir.resolve("nothing-here.conf").toString());
    assertEquals(4, r.code(), r.err());
    assertTrue(
        r.errLines().get(0).startsWith("error: Cannot read pipeline config: no file at "), r.err());
  }

  @Test
  void userErrorsAreFoundByTypeAlsoAsTheCauseOfASparkFailure() {
    assertEquals(2, ExitCodes.of(new ConfigException("Cannot x: y")));
    assertEquals(2, ExitCodes.of(new UserInputException("bad")));
    IngestException onExecutor = new IngestException("Cannot read table 'labs': bad file");
    SparkException wrapped =
        new SparkException("Job aborted due to stage failure: ...", onExecutor);
    assertEquals(2, ExitCodes.of(wrapped));
    assertEquals("Cannot read table 'labs': bad file", ExitCodes.oneLine(wrapped));
    // Message text no longer decides: an IllegalArgumentException that starts with "Cannot " is a
    // failure.
    assertEquals(
        1, ExitCodes.of(new IllegalArgumentException("Cannot compute metrics: no subjects")));
    assertEquals(1, ExitCodes.of(new IllegalStateException("boom", new RuntimeException("x"))));
  }

  @Test
  void oneLineKeepsOnlyTheFirstLine() {
    assertEquals("first", ExitCodes.oneLine(new IllegalStateException("first\nsecond\n\tat x")));
    assertEquals("java.lang.NullPointerException", ExitCodes.oneLine(new NullPointerException()));
  }
}
