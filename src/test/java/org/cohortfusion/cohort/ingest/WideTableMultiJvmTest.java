package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertFalse;

import org.apache.spark.sql.SparkSession;
import org.cohortfusion.multijvm.LocalClusterSession;
import org.junit.jupiter.api.AfterEach;

/**
 * {@link WideTableTest}'s cases on executor JVMs: the CSV line parser (a UDF holding a univocity
 * parser per task) is deserialised and run in another JVM, and a wide Parquet table's packed rows
 * are checkpointed in the executors' block managers and read back from there by the later passes.
 */
class WideTableMultiJvmTest extends WideTableTest {
  @Override
  SparkSession session() {
    return LocalClusterSession.get();
  }

  @AfterEach
  void ranOnExecutorJvms() {
    assertFalse(
        LocalClusterSession.executorsSinceLastCall().isEmpty(), "no task ran on an executor JVM");
  }
}
