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

  /**
   * What crosses to the executor JVMs (the parser, the packed rows, the rejects) is the same at any
   * width: the width changes how much work is done, not which objects are shipped. {@link
   * WideTableTest} carries the 20,000 columns.
   */
  @Override
  int wideProbes() {
    return 2_000;
  }

  @AfterEach
  void ranOnExecutorJvms() {
    assertFalse(
        LocalClusterSession.executorsSinceLastCall().isEmpty(), "no task ran on an executor JVM");
  }
}
