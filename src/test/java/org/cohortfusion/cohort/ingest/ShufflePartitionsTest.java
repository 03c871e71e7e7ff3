package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The aligned write's shuffle partitions grow with the input, so that a task's share of a large
 * cohort (and in local mode the driver's heap) stays about the same at any size.
 */
class ShufflePartitionsTest {
  private static final String PARTITIONS = "spark.sql.shuffle.partitions";
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  @Test
  void theSessionsCountHoldsUntilTheInputNeedsMore() {
    long mb16 = 16L << 20;
    assertEquals(8, AlignedWriter.shufflePartitions(8, 0, mb16));
    assertEquals(8, AlignedWriter.shufflePartitions(8, 8 * mb16, mb16));
    assertEquals(9, AlignedWriter.shufflePartitions(8, 8 * mb16 + 1, mb16));
    // 1.6 GB, the million-subject demo cohort as stored
    assertEquals(96, AlignedWriter.shufflePartitions(8, 1_600_000_000L, mb16));
    assertEquals(200, AlignedWriter.shufflePartitions(200, 1_600_000_000L, mb16));
    assertEquals(Integer.MAX_VALUE, AlignedWriter.shufflePartitions(8, Long.MAX_VALUE, 1));
  }

  @Test
  void anInputLargerThanItsPartitionsAllowIsWrittenInMorePartitionsWithTheSameRows()
      throws IOException {
    CohortFixture f = CohortFixture.valid(60);
    PipelineConfig config = PipelineConfigLoader.parse(f.write(spark, dir, ""), List.of());
    String before = spark.conf().get(PARTITIONS);
    // Without coalescing, every partition the join shuffles into is a task that writes a file.
    Map<String, String> noCoalescing =
        Map.of("spark.sql.adaptive.coalescePartitions.enabled", "false");
    IngestResult asConfigured =
        SessionConf.with(
            spark,
            noCoalescing,
            () -> IngestAction.of(spark, config).outputDir(dir.resolve("a").toString()).execute());
    IngestResult byInput =
        SessionConf.with(
            spark,
            noCoalescing,
            () ->
                IngestAction.of(spark, config)
                    .outputDir(dir.resolve("b").toString())
                    .inputBytesPerShufflePartition(1024)
                    .execute());
    assertEquals(before, spark.conf().get(PARTITIONS), "the session's setting is restored");
    int configured = Integer.parseInt(before);
    long files = dataFiles(byInput.cohortDir());
    assertTrue(
        dataFiles(asConfigured.cohortDir()) <= configured,
        "as configured, at most " + configured + " files");
    assertTrue(files > configured, files + " files, expected more than " + configured);
    Dataset<Row> a = aligned(asConfigured);
    Dataset<Row> b = aligned(byInput);
    assertEquals(60, a.count());
    assertEquals(0, a.exceptAll(b).count() + b.exceptAll(a).count(), "the same aligned rows");
  }

  private Dataset<Row> aligned(IngestResult r) {
    return spark.read().parquet(r.cohortDir() + "/" + CohortManifest.ALIGNED);
  }

  private static long dataFiles(String cohortDir) throws IOException {
    try (Stream<Path> s = Files.list(Path.of(cohortDir, CohortManifest.ALIGNED))) {
      return s.filter(p -> p.getFileName().toString().endsWith(".parquet")).count();
    }
  }
}
