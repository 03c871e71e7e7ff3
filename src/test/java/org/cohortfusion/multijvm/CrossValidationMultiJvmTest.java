package org.cohortfusion.multijvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.RDDInfo;
import org.cohortfusion.cli.CohortFusion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.collection.JavaConverters;

/**
 * {@code run} with {@code splits.folds = 3} on executor JVMs of their own: the folds' stages run
 * their tasks on both executors, two folds' Spark jobs (job groups cv-fold-f) are in flight at the
 * same time, and the pooled result covers every labeled subject once, each in the fold ingest
 * assigned.
 *
 * <p>Beside the embedding model, an end-to-end model (clinical from its raw input, labs through its
 * pretrained encoder, a wide path, modality dropout) trains by parameter averaging in every fold:
 * its training shards are built from the fold's view of the aligned cohort and its graph is rebuilt
 * and fitted in the executor JVMs, and evaluate scores the fold's held-out subjects from the
 * cohort.
 *
 * <p>Its output.dir is relative, as in the demo configs: the executors, whose working directories
 * are their own, write the training shards under it, so the driver must settle it first.
 */
class CrossValidationMultiJvmTest {
  private final SparkSession spark = LocalClusterSession.get();

  @TempDir Path dir;

  @Test
  void foldsRunConcurrentlyOnExecutorJvms() throws Exception {
    // Relative to this JVM's working directory (the project's), under target/.
    Path relativeOut = Path.of("target", "cv-multi-jvm-" + java.util.UUID.randomUUID());
    try {
      foldsRunConcurrently(relativeOut);
    } finally {
      org.apache.commons.io.FileUtils.deleteDirectory(relativeOut.toFile());
    }
  }

  private void foldsRunConcurrently(Path relativeOut) throws Exception {
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
    // Baselines without early fusion: another embedding model trained in every fold that nothing
    // here checks, time better spent on the end-to-end model (the unimodal baselines are the cv
    // stage's reference, late fusion is free to train).
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
        fusion {
          default = mean
          baselines = [unimodal, late]
          models {
            mean { what = [clinical, labs], how = mean, projection = 4, head = [8] }
            e2e { what = [clinical, labs], how = attention, projection = 4, head = [8],
                  when = { clinical = input, labs = embedding }, wide = true, modality-dropout = 0.2 }
          }
        }
        train { mode = spark, workers = 2, epochs = 2, batch-size = 32 }
        cv.parallelism = 2
        """
                .formatted(dir.resolve("in"), relativeOut));
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
    FoldJobs jobs = new FoldJobs();
    spark.sparkContext().addSparkListener(jobs);
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

    // The end-to-end model's fits, told apart by what Spark ran rather than by what train reports:
    // in each fold, the parameter-averaging fits between the job that wrote the training shards
    // from the aligned cohort (the only shards CohortData builds) and the next shard write.
    Set<String> e2eExecutors = new HashSet<>();
    for (int f = 0; f < 3; f++) {
      List<FoldJobs.Job> fits = jobs.fitsAfterCohortShards("cv-fold-" + f);
      assertEquals(2, fits.size(), "fold " + f + ": one end-to-end fit per epoch");
      for (FoldJobs.Job fit : fits) {
        assertTrue(!fit.executors.isEmpty(), "fold " + f + ": the fit ran tasks");
        assertTrue(
            !fit.executors.contains("driver"), "fold " + f + ": fitted in executor JVMs only");
        e2eExecutors.addAll(fit.executors);
      }
    }
    assertEquals(
        LocalClusterSession.EXECUTORS,
        e2eExecutors.size(),
        "the end-to-end model was fitted on both executors, saw " + e2eExecutors);

    Path out = relativeOut.toAbsolutePath();
    List<Row> aligned =
        spark
            .read()
            .parquet(out.resolve("cohort/aligned").toString())
            .where("label IS NOT NULL AND fold IS NOT NULL")
            .selectExpr("subject_id", "fold", "CAST(label AS INT) AS label")
            .collectAsList();
    Map<String, Integer> labelOf = new HashMap<>();
    for (Row r : aligned) {
      labelOf.put(r.getString(0), r.getInt(2));
    }
    ObjectMapper json = new ObjectMapper();
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

      // The end-to-end model reads the fold's test split from the aligned cohort itself: exactly
      // the labeled subjects of fold f, once each, with their own labels. Counts only in the
      // messages: subject ids stay out of the logs.
      List<Row> e2e =
          spark
              .read()
              .parquet(out.resolve("folds/" + f + "/evaluate/predictions").toString())
              .where("model = 'e2e'")
              .select("subject_id", "label")
              .collectAsList();
      Set<String> e2eIds = new HashSet<>();
      int wrongLabel = 0;
      for (Row r : e2e) {
        e2eIds.add(r.getString(0));
        Integer label = labelOf.get(r.getString(0));
        if (label == null || label != r.getInt(1)) {
          wrongLabel++;
        }
      }
      assertEquals(e2e.size(), e2eIds.size(), "fold " + f + ": e2e predicted a subject twice");
      Set<String> missing = new HashSet<>(expected);
      missing.removeAll(e2eIds);
      Set<String> extra = new HashSet<>(e2eIds);
      extra.removeAll(expected);
      assertTrue(
          missing.isEmpty() && extra.isEmpty(),
          "fold "
              + f
              + ": e2e predictions miss "
              + missing.size()
              + " and add "
              + extra.size()
              + " of "
              + expected.size()
              + " labeled test subjects");
      assertEquals(0, wrongLabel, "fold " + f + ": e2e predictions with another label");

      // Train read the same view: the e2e model's early-stopping split is the labeled subjects of
      // the next fold, (f + 1) mod k.
      int validationFold = (f + 1) % 3;
      long inValidationFold = aligned.stream().filter(r -> r.getInt(1) == validationFold).count();
      JsonNode trained = null;
      for (JsonNode m :
          json.readTree(out.resolve("folds/" + f + "/train/summary.json").toFile())
              .path("models")) {
        if (m.path("name").asText().equals("e2e")) {
          trained = m;
        }
      }
      assertTrue(trained != null, "fold " + f + ": train's summary lists e2e");
      assertEquals(
          inValidationFold,
          trained.path("validation").path("n").asLong(),
          "fold " + f + ": e2e validated on the labeled subjects of fold " + validationFold);
    }
    JsonNode cv = json.readTree(out.resolve("cv/metrics.json").toFile());
    assertEquals(aligned.size(), seen.size());
    assertEquals(aligned.size(), cv.path("subjects").asLong());
    JsonNode pooledE2e = null;
    for (JsonNode m : cv.path("models")) {
      if (m.path("name").asText().equals("e2e")) {
        pooledE2e = m;
      }
    }
    assertTrue(pooledE2e != null, "the pooled metrics include e2e");
    assertEquals(aligned.size(), pooledE2e.path("pooled").path("n").asLong());
  }

  /**
   * Per Spark job of a fold's job group, in submission order: whether it wrote training shards (and
   * whether from the aligned cohort), whether it was a parameter-averaging fit, and the executors
   * its tasks ran on. Jobs are recognised by the call sites of their stages and RDDs.
   */
  private static final class FoldJobs extends SparkListener {
    static final class Job {
      final int id;
      final String group;
      final boolean shards;
      final boolean cohortShards;
      final boolean fit;
      final Set<String> executors = ConcurrentHashMap.newKeySet();

      Job(int id, String group, boolean shards, boolean cohortShards, boolean fit) {
        this.id = id;
        this.group = group;
        this.shards = shards;
        this.cohortShards = cohortShards;
        this.fit = fit;
      }
    }

    private final Map<Integer, Job> jobs = new ConcurrentHashMap<>();
    private final Map<Integer, Job> jobOfStage = new ConcurrentHashMap<>();

    @Override
    public void onJobStart(SparkListenerJobStart start) {
      String group =
          start.properties() == null ? null : start.properties().getProperty("spark.jobGroup.id");
      if (group == null || !group.startsWith("cv-fold-")) {
        return;
      }
      boolean shards = false;
      boolean fromCohort = false;
      boolean fit = false;
      for (StageInfo stage : JavaConverters.seqAsJavaList(start.stageInfos())) {
        // DL4J's parameter averaging: the stage whose tasks fit the workers' copies of the graph.
        fit |= stage.name().startsWith("treeAggregate at ParameterAveragingTrainingMaster");
        for (RDDInfo rdd : JavaConverters.seqAsJavaList(stage.rddInfos())) {
          shards |= rdd.callSite().startsWith("mapPartitionsWithIndex at MinibatchShards");
          fromCohort |= rdd.callSite().contains("at CohortData");
        }
      }
      Job job = new Job(start.jobId(), group, shards, shards && fromCohort, fit);
      jobs.put(job.id, job);
      for (StageInfo stage : JavaConverters.seqAsJavaList(start.stageInfos())) {
        jobOfStage.put(stage.stageId(), job);
      }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
      Job job = jobOfStage.get(end.stageId());
      if (job != null) {
        job.executors.add(end.taskInfo().executorId());
      }
    }

    /**
     * The fits of {@code group} after its first job that wrote shards from the aligned cohort, up
     * to its next job that wrote shards; empty if it wrote none from the cohort.
     */
    List<Job> fitsAfterCohortShards(String group) {
      List<Job> ordered = new ArrayList<>();
      for (Job j : jobs.values()) {
        if (j.group.equals(group)) {
          ordered.add(j);
        }
      }
      ordered.sort(Comparator.comparingInt(j -> j.id));
      List<Job> fits = new ArrayList<>();
      boolean after = false;
      for (Job j : ordered) {
        if (after && j.shards && !j.cohortShards) {
          break;
        }
        if (j.cohortShards) {
          after = true;
        } else if (after && j.fit) {
          fits.add(j);
        }
      }
      return fits;
    }
  }
}
