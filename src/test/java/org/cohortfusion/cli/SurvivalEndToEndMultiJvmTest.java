package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.multijvm.LocalClusterSession;
import org.junit.jupiter.api.AfterEach;

/**
 * {@link SurvivalEndToEndTest} with parameter averaging on executor JVMs of their own: the
 * end-to-end graph with its hazard head, the aligned cohort's feature batches and their survival
 * codes are rebuilt in other JVMs, and the averaged model must still find the event-time signal.
 */
class SurvivalEndToEndMultiJvmTest extends SurvivalEndToEndTest {
  @Override
  SparkSession session() {
    return LocalClusterSession.get();
  }

  @Override
  List<String> modes() {
    return List.of("spark");
  }

  @AfterEach
  void ranOnExecutorJvms() {
    assertFalse(
        LocalClusterSession.executorsSinceLastCall().isEmpty(), "no task ran on an executor JVM");
  }
}
