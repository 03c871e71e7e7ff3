package org.cohortfusion.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.multijvm.LocalClusterSession;
import org.junit.jupiter.api.Test;

/** Minibatch shards written by executor JVMs of their own. */
class MinibatchShardsMultiJvmTest {
  private final SparkSession spark = LocalClusterSession.get();

  /**
   * A relative root is the driver's: an executor resolves a relative path against its own working
   * directory (on a worker, its application's work directory), where the driver and the other
   * executors would not find the shards.
   */
  @Test
  void aRelativeRootIsResolvedOnTheDriver() throws Exception {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Integer> batches = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      batches.add(i);
    }
    String root = "target/relative-shards-" + UUID.randomUUID();
    Path expected = Path.of(root).toAbsolutePath();
    LocalClusterSession.executorsSinceLastCall();
    try (MinibatchShards shards =
        MinibatchShards.write(
            jsc,
            jsc.parallelize(batches, 3),
            root,
            "relative",
            (batch, out) -> {
              out.write(batch);
              return 1;
            })) {
      assertEquals(
          LocalClusterSession.EXECUTORS,
          LocalClusterSession.executorsSinceLastCall().size(),
          "both executors wrote shards");
      assertEquals(6, shards.paths().size());
      assertTrue(Path.of(shards.dir()).startsWith(expected), shards.dir());
      for (String p : shards.paths()) {
        assertTrue(Files.isRegularFile(Path.of(p)), "the driver sees " + p);
      }
    } finally {
      org.apache.commons.io.FileUtils.deleteDirectory(expected.toFile());
    }
  }
}
