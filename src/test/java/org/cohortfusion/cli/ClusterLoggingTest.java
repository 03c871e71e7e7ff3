package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.apache.logging.log4j.core.config.properties.PropertiesConfigurationFactory;
import org.junit.jupiter.api.Test;

/**
 * conf/log4j2-cluster.properties, parsed by log4j2 itself without installing it in the test JVM.
 */
class ClusterLoggingTest {
  private static final Path REPO = Path.of(System.getProperty("cohortfusion.repo", "."));

  @Test
  void projectAtInfoOthersAtWarn() throws Exception {
    ConfigurationSource source =
        ConfigurationSource.fromUri(REPO.resolve("conf/log4j2-cluster.properties").toUri());
    Configuration config = new PropertiesConfigurationFactory().getConfiguration(null, source);
    config.initialize();
    assertEquals(Level.INFO, level(config, "org.cohortfusion.cohort.ingest.IngestAction"));
    assertEquals(Level.WARN, level(config, "org.apache.spark.scheduler.TaskSetManager"));
    assertEquals(Level.WARN, level(config, "org.apache.hadoop.hdfs.DFSClient"));
    assertEquals(
        Level.WARN,
        level(config, "org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster"));
    assertEquals(Level.WARN, level(config, "org.nd4j.linalg.factory.Nd4jBackend"));
    assertEquals(Level.WARN, level(config, "com.example.Anything"));
    assertEquals(1, config.getAppenders().size());
  }

  private static Level level(Configuration config, String logger) {
    return config.getLoggerConfig(logger).getLevel();
  }
}
