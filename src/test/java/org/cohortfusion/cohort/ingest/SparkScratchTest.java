package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.cohortfusion.spark.Sessions;
import org.junit.jupiter.api.Test;

/**
 * Spark's scratch space of embedded runs (ingest's shuffles and spills) lies under the system
 * temporary directory, never relative to the directory the launcher runs from.
 */
class SparkScratchTest {
  @Test
  void embeddedRunsScratchUnderTheSystemTemporaryDirectory() {
    String dir = Sessions.conf("ingest").get("spark.local.dir");
    assertEquals(
        Path.of(System.getProperty("java.io.tmpdir"), "cohort-fusion-spark").toString(), dir);
  }

  @Test
  void theLocalLauncherSettingsSetNoRelativeScratchDirectory() throws Exception {
    Properties p = new Properties();
    // Same whitespace-separated format as spark-defaults.conf, which Properties reads too.
    try (Reader r = Files.newBufferedReader(Path.of("conf/spark-local.properties"))) {
      p.load(r);
    }
    String dir = p.getProperty("spark.local.dir");
    assertTrue(dir == null || Path.of(dir).isAbsolute(), "spark.local.dir = " + dir);
  }
}
