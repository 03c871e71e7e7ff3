package org.cohortfusion.multijvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.cli.CohortFusion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run} with {@code splits.folds = 3} on executor JVMs of their own: the folds' stages run
 * their tasks on both executors, two folds' Spark jobs (job groups cv-fold-f) are in flight at the
 * same time, and the pooled result covers every labeled subject once, each in the fold ingest
 * assigned.
 */
class CrossValidationMultiJvmTest {
  private final SparkSession spark = LocalClusterSession.get();

  @TempDir Path dir;

  @Test
  void foldsRunConcurrentlyOnExecutorJvms() throws Exception {
    assertEquals(
        0,
        CohortFusion.run(
            "generate",
            "--subjects",
            "240",
            "--seed",
            "4",
            "--missing",
            "labs=0.3",
            "--output",
            dir.resolve("in").toString()));
    Path conf =
        Files.writeString(
            dir.resolve("cv.conf"),
            """
        name = cv-multi-jvm
        cohort-dir = "%s"
        subjects { path = subjects }
        modalities {
          clinical { kind = tabular, path = clinical }
          labs { kind = timeseries, path = labs, steps = 4 }
        }
        splits { seed = 3, folds = 3 }
        output { dir = "%s" }
        pretrain.encoders {
          clinical { embedding-size = 4, hidden = [8], epochs = 2 }
          labs { embedding-size = 4, cell = cnn, epochs = 2 }
        }
        fusion { default = mean, models { mean { what = [clinical, labs], how = mean, projection = 4, head = [8] } } }
        train { mode = spark, workers = 2, epochs = 2, batch-size = 32 }
        cv.parallelism = 2
        """
                .formatted(dir.resolve("in"), dir.resolve("out")));
    // Job start and end times per fold job group.
    Map<String, long[]> span = new ConcurrentHashMap<>();
    Map<Integer, String> groupOfJob = new ConcurrentHashMap<>();
    spark
        .sparkContext()
        .addSparkListener(
            new SparkListener() {
              @Override
              public void onJobStart(SparkListenerJobStart start) {
                String group =
                    start.properties() == null
                        ? null
                        : start.properties().getProperty("spark.jobGroup.id");
                if (group != null && group.startsWith("cv-fold-")) {
                  groupOfJob.put(start.jobId(), group);
                  span.merge(
                      group,
                      new long[] {start.time(), start.time()},
                      (a, b) -> new long[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
                }
              }

              @Override
              public void onJobEnd(SparkListenerJobEnd end) {
                String group = groupOfJob.get(end.jobId());
                if (group != null) {
                  span.merge(
                      group,
                      new long[] {end.time(), end.time()},
                      (a, b) -> new long[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
                }
              }
            });
    LocalClusterSession.executorsSinceLastCall();
    assertEquals(0, CohortFusion.run("run", "--config", conf.toString(), "--to", "evaluate"));
    assertEquals(
        LocalClusterSession.EXECUTORS,
        LocalClusterSession.executorsSinceLastCall().size(),
        "the folds ran tasks on both executors");
    assertEquals(Set.of("cv-fold-0", "cv-fold-1", "cv-fold-2"), span.keySet());
    long[] a = span.get("cv-fold-0");
    long[] b = span.get("cv-fold-1");
    assertTrue(
        a[0] < b[1] && b[0] < a[1], "folds 0 and 1 had Spark jobs in flight at the same time");

    Path out = dir.resolve("out");
    List<Row> aligned =
        spark
            .read()
            .parquet(out.resolve("cohort/aligned").toString())
            .where("label IS NOT NULL")
            .select("subject_id", "fold")
            .collectAsList();
    Set<String> seen = new HashSet<>();
    for (int f = 0; f < 3; f++) {
      Set<String> expected = new HashSet<>();
      for (Row r : aligned) {
        if (r.getInt(1) == f) {
          expected.add(r.getString(0));
        }
      }
      Set<String> predicted = new HashSet<>();
      spark
          .read()
          .parquet(out.resolve("folds/" + f + "/evaluate/predictions").toString())
          .where("model = 'mean'")
          .select("subject_id")
          .collectAsList()
          .forEach(r -> predicted.add(r.getString(0)));
      assertEquals(expected, predicted, "fold " + f);
      seen.addAll(predicted);
    }
    JsonNode cv = new ObjectMapper().readTree(out.resolve("cv/metrics.json").toFile());
    assertEquals(aligned.size(), seen.size());
    assertEquals(aligned.size(), cv.path("subjects").asLong());
  }
}
