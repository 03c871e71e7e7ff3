package org.cohortfusion.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.cli.CohortFusion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The pipeline on a real Spark standalone cluster: a Master and two Worker JVMs started from the
 * test SPARK_HOME (target/spark-home, assembled from Maven Central in pre-integration-test), an
 * in-process HDFS (MiniDFSCluster) for inputs and outputs, and every stage submitted through
 * jobs/submit.sh with the shaded spark jar, i.e. the real SparkSubmit entry point. One ordered test
 * method per stage, so a failing stage is named and the later ones are skipped. Details:
 * docs/cluster-test.md.
 *
 * <p>Oracles independent of the pipeline's code: exit codes, files on HDFS, Spark's own event log
 * (which executor, on which worker, finished tasks), the master's JSON (driver state in cluster
 * mode), and the same training run embedded (local[2]) for the AUROC.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path REPO =
      Path.of(System.getProperty("cohortfusion.repo", ".")).toAbsolutePath().normalize();
  private static final Path SPARK_HOME =
      Path.of(
              System.getProperty(
                  "cohortfusion.sparkHome", REPO.resolve("target/spark-home").toString()))
          .toAbsolutePath();
  private static final Path BASE = REPO.resolve("target/cluster-it");
  private static final Duration STAGE_TIMEOUT = Duration.ofMinutes(6);
  private static final String FUSION_MODEL = "concat";
  private static final int SUBJECTS = 600;

  /** The run id of the client-mode run; the first retrain resumes it. */
  private static final String CLIENT_RUN = "it-client";

  private static final String JAVACPP_CACHE =
      System.getProperty(
          "org.bytedeco.javacpp.cachedir", System.getProperty("user.home") + "/.javacpp/cache");

  private TestHdfs hdfs;
  private StandaloneCluster cluster;
  private Thread stopOnExit;
  private Path events;
  private Path hadoopConfDir;
  private Path clientProps;
  private Path clusterProps;
  private Path pipelineConf;
  private String hdfsPipelineConf;
  private String out;
  private String clusterOut;
  private final long started = System.nanoTime();
  private final Map<String, Boolean> passed = new HashMap<>();
  private final Map<String, Double> stageSeconds = new LinkedHashMap<>();
  private SparkSession localSpark;
  private int runs;

  // ---------------------------------------------------------------------------------------------------------------
  // Cluster lifecycle

  @BeforeAll
  void startCluster() throws Exception {
    assertTrue(
        Files.isExecutable(SPARK_HOME.resolve("bin/spark-submit")),
        "no test SPARK_HOME at "
            + SPARK_HOME
            + ": run through `mvn verify` (pre-integration-test assembles it)");
    assertTrue(Files.isDirectory(SPARK_HOME.resolve("jars")), "no " + SPARK_HOME.resolve("jars"));
    try (Stream<Path> jars = Files.list(REPO.resolve("target"))) {
      assertTrue(
          jars.anyMatch(p -> p.getFileName().toString().matches("cohort-fusion-.*-spark\\.jar")),
          "no target/cohort-fusion-*-spark.jar: the cluster test runs after `package`");
    }
    deleteRecursively(BASE);
    Files.createDirectories(BASE);
    events = Files.createDirectories(BASE.resolve("events"));
    Files.createDirectories(BASE.resolve("spark-local"));

    hdfs = new TestHdfs(BASE.resolve("dfs"));
    hadoopConfDir = hdfs.writeClientConf(BASE.resolve("hadoop-conf"));
    Map<String, String> env = new HashMap<>();
    // As on a real HDFS cluster, every Spark JVM (workers, the executors they start, drivers) has a
    // core-site.xml
    // naming the HDFS as default file system: spark-class puts HADOOP_CONF_DIR on the classpath.
    env.put("HADOOP_CONF_DIR", hadoopConfDir.toString());
    env.put("SPARK_HOME", SPARK_HOME.toString());
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("SPARK_DAEMON_MEMORY", "512m");
    env.put("SPARK_LOCAL_DIRS", BASE.resolve("spark-local").toString());
    // Two workers with two cores each: one executor per worker (spark.executor.cores 1,
    // spark.cores.max 2), and
    // a free core for the driver in cluster deploy mode.
    cluster = new StandaloneCluster(SPARK_HOME, BASE, 2, 2, "3g", env);
    // Also when the test JVM itself is ended (failsafe timeout, Ctrl-C): no Spark JVM outlives it.
    StandaloneCluster started = cluster;
    stopOnExit = new Thread(started::close, "stop test cluster");
    Runtime.getRuntime().addShutdownHook(stopOnExit);
    cluster.start(Duration.ofSeconds(120));

    out = hdfs.uri() + "/cluster-it/out";
    clusterOut = hdfs.uri() + "/cluster-it/out-cluster-mode";
    clientProps = writeSparkProperties("spark-client.properties", false);
    clusterProps = writeSparkProperties("spark-cluster-mode.properties", true);
    pipelineConf = BASE.resolve("pipeline.conf");
    Files.writeString(pipelineConf, pipelineConfig(hdfs.uri() + "/cluster-it/input", out));
    // The cluster-mode driver runs on a worker: it reads the config from HDFS.
    hdfsPipelineConf = hdfs.uri() + "/cluster-it/pipeline.conf";
    hdfs.fs()
        .copyFromLocalFile(
            new org.apache.hadoop.fs.Path(pipelineConf.toUri()),
            new org.apache.hadoop.fs.Path(hdfsPipelineConf));
  }

  @AfterAll
  void stopCluster() throws Exception {
    List<ProcessHandle> ours = cluster == null ? List.of() : cluster.allProcesses();
    if (localSpark != null) {
      localSpark.stop();
    }
    if (cluster != null) {
      cluster.close();
      Runtime.getRuntime().removeShutdownHook(stopOnExit);
    }
    if (hdfs != null) {
      hdfs.close();
    }
    System.out.printf(
        "StandaloneClusterIT: stage wall times (s) %s; whole class %.0f s%n",
        stageSeconds, (System.nanoTime() - started) / 1e9);
    List<ProcessHandle> left = ours.stream().filter(ProcessHandle::isAlive).toList();
    assertTrue(
        left.isEmpty(),
        "processes the test started are still alive: "
            + left.stream().map(h -> h.pid() + " " + h.info().commandLine().orElse("?")).toList());
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Client deploy mode: every stage

  @Test
  @Order(1)
  void generateWritesTheCohortOnHdfs() throws Exception {
    Submitted r =
        submit(
            "generate",
            false,
            "--output",
            hdfs.uri() + "/cluster-it/input",
            "--subjects",
            String.valueOf(SUBJECTS),
            "--seed",
            "7");
    r.assertSucceeded();
    for (String table : List.of("subjects", "clinical", "omics", "imaging", "labs", "notes")) {
      assertHdfsDirWithParquet("/cluster-it/input/" + table, r);
    }
    passed.put("generate", true);
  }

  /**
   * Every stage from ingest to report in one client-mode application ({@code jobs/submit.sh --
   * run}, the one-command path), each checked on its own: its status (this run id), its outputs,
   * and for the stages that train or encode, tasks of its job group on both workers.
   */
  @Test
  @Order(2)
  void runTakesEveryStageThroughTheClusterInOneApplication() throws Exception {
    requirePassed("generate");
    Submitted r = submit("run", false, "--config", pipelineConf.toString(), "--run-id", CLIENT_RUN);

    r.assertStageSucceeded("ingest", CLIENT_RUN);
    assertHdfsDirWithParquet("/cluster-it/out/cohort/aligned", r);
    assertHdfsFile("/cluster-it/out/cohort/cohort.json", r);
    assertEquals(
        SUBJECTS,
        localSpark().read().parquet(out + "/cohort/aligned").count(),
        "aligned cohort rows (one per generated subject)");
    passed.put("ingest", true);

    r.assertStageSucceeded("pretrain", CLIENT_RUN);
    for (String m : List.of("clinical", "omics", "imaging", "labs", "notes")) {
      assertHdfsFile("/cluster-it/out/pretrain/" + m + "/encoder/model.zip", r);
    }
    r.assertTasksOnBothWorkers("run-pretrain");
    passed.put("pretrain", true);

    r.assertStageSucceeded("extract", CLIENT_RUN);
    assertHdfsFile("/cluster-it/out/embeddings/embeddings.json", r);
    assertHdfsDirWithParquet("/cluster-it/out/embeddings/table", r);
    assertEmbeddingsPublishedOnce(out, r);
    r.assertTasksOnBothWorkers("run-extract");
    passed.put("extract", true);

    r.assertStageSucceeded("train", CLIENT_RUN);
    assertModelsPublished(readHdfsJson("/cluster-it/out/train/summary.json"), r);
    r.assertTasksOnBothWorkers("run-train");
    passed.put("train", true);

    r.assertStageSucceeded("evaluate", CLIENT_RUN);
    JsonNode metrics = readHdfsJson("/cluster-it/out/evaluate/metrics.json");
    assertTrue(metrics.size() > 0, "evaluate/metrics.json is empty" + r.context());
    passed.put("evaluate", true);

    r.assertStageSucceeded("report", CLIENT_RUN);
    String html = readHdfsText("/cluster-it/out/report/index.html");
    assertTrue(
        html.contains("<html") && html.contains(FUSION_MODEL),
        "report/index.html is not an HTML page naming the model '"
            + FUSION_MODEL
            + "'"
            + r.context());
    r.assertSucceeded();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The same training embedded: spark mode on local[2] against a copy of the same embeddings

  @Test
  @Order(8)
  void trainAurocMatchesTheEmbeddedRun() throws Exception {
    requirePassed("train");
    Path embedded = BASE.resolve("embedded-out");
    deleteRecursively(embedded);
    Files.createDirectories(embedded);
    FileUtil.copy(
        hdfs.fs(),
        new org.apache.hadoop.fs.Path(out + "/embeddings"),
        FileSystem.getLocal(hdfs.clientConf()),
        new org.apache.hadoop.fs.Path(embedded.resolve("embeddings").toUri()),
        false,
        hdfs.clientConf());
    Path conf = BASE.resolve("pipeline-embedded.conf");
    Files.writeString(
        conf, pipelineConfig(hdfs.uri() + "/cluster-it/input", embedded.toUri().toString()));
    localSpark();
    long t0 = System.nanoTime();
    int exit = CohortFusion.run("train", "--config", conf.toString(), "--mode", "spark");
    stageSeconds.put("train-embedded", (System.nanoTime() - t0) / 1e9);
    assertEquals(0, exit, "embedded train (local[2]) exit code");
    JsonNode clusterSummary = readHdfsJson("/cluster-it/out/train/summary.json");
    JsonNode localSummary = JSON.readTree(embedded.resolve("train/summary.json").toFile());
    Map<String, Double> clusterAuroc = aurocs(clusterSummary);
    Map<String, Double> localAuroc = aurocs(localSummary);
    assertEquals(
        clusterAuroc.keySet(), localAuroc.keySet(), "models trained on the cluster vs embedded");
    System.out.println("validation AUROC cluster " + clusterAuroc + " embedded " + localAuroc);
    for (String model : clusterAuroc.keySet()) {
      assertEquals(
          localAuroc.get(model),
          clusterAuroc.get(model),
          0.01,
          "validation AUROC of '"
              + model
              + "': standalone cluster vs embedded local[2] (cluster "
              + clusterAuroc
              + ", embedded "
              + localAuroc
              + ")");
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Cluster deploy mode: the driver runs on a worker

  @Test
  @Order(10)
  void ingestInClusterDeployMode() throws Exception {
    requirePassed("generate");
    Submitted r =
        submit("ingest", true, "--config", hdfsPipelineConf, "--set", "output.dir=" + clusterOut);
    r.assertSucceeded();
    assertHdfsDirWithParquet("/cluster-it/out-cluster-mode/cohort/aligned", r);
    passed.put("ingest-cluster", true);
  }

  @Test
  @Order(11)
  void trainInClusterDeployMode() throws Exception {
    requirePassed("extract");
    FileSystem fs = hdfs.fs();
    FileUtil.copy(
        fs,
        new org.apache.hadoop.fs.Path(out + "/embeddings"),
        fs,
        new org.apache.hadoop.fs.Path(clusterOut + "/embeddings"),
        false,
        hdfs.clientConf());
    // The fusion model only: the baselines train by the same code, already run on the cluster
    // above, and each would add a quarter of a minute.
    Submitted r =
        submit(
            "train",
            true,
            "--config",
            hdfsPipelineConf,
            "--set",
            "output.dir=" + clusterOut,
            "--model",
            FUSION_MODEL);
    r.assertSucceeded();
    JsonNode summary = readHdfsJson("/cluster-it/out-cluster-mode/train/summary.json");
    assertModelsPublished(summary, r);
    r.assertTasksOnBothWorkers();
    if (Boolean.TRUE.equals(passed.get("train"))) {
      Map<String, Double> client = aurocs(readHdfsJson("/cluster-it/out/train/summary.json"));
      Map<String, Double> clusterMode = aurocs(summary);
      assertTrue(
          clusterMode.containsKey(FUSION_MODEL),
          "no validation AUROC of '" + FUSION_MODEL + "' in " + clusterMode + r.context());
      for (String model : clusterMode.keySet()) {
        assertEquals(
            client.get(model),
            clusterMode.get(model),
            0.01,
            "validation AUROC of '" + model + "': client vs cluster deploy mode" + r.context());
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Faults: an executor JVM killed mid-stage

  @Test
  @Order(20)
  void extractSurvivesAnExecutorKilled() throws Exception {
    requirePassed("extract");
    Submitted r =
        submitKillingAnExecutor(
            "extract",
            "the encoders loaded, before encoding",
            (log, output) -> output.contains("Loaded and verified"),
            "--config",
            pipelineConf.toString(),
            "--set",
            "extract.incremental=false");
    r.assertSucceeded();
    assertTrue(
        !r.eventLog.removedExecutors.isEmpty(),
        "the killed executor was not removed from the app" + r.context());
    assertEmbeddingsPublishedOnce(out, r);
  }

  @Test
  @Order(21)
  void trainSurvivesAnExecutorKilled() throws Exception {
    requirePassed("train");
    // The minibatch shards are written right before the first fit: the kill lands in parameter
    // averaging.
    Submitted r =
        submitKillingAnExecutor(
            "train",
            "the minibatch shards of '" + FUSION_MODEL + "' written",
            (log, output) -> output.contains("minibatch shards"),
            "--config",
            pipelineConf.toString(),
            "--model",
            FUSION_MODEL);
    r.assertSucceeded();
    assertTrue(
        !r.eventLog.removedExecutors.isEmpty(),
        "the killed executor was not removed from the app" + r.context());
    JsonNode summary = readHdfsJson("/cluster-it/out/train/summary.json");
    assertModelsPublished(summary, r);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Scheduled retraining: the client run becomes the first champion (as the quick start's second
  // act does), then a new snapshot is judged against it; each one spark-submit

  @Test
  @Order(9)
  void retrainTakesTheClientRunAsTheFirstChampion() throws Exception {
    requirePassed("evaluate");
    Submitted r =
        submit(
            "retrain",
            false,
            "--config",
            pipelineConf.toString(),
            "--model",
            FUSION_MODEL,
            "--run-id",
            CLIENT_RUN,
            "--set",
            "registry.dir=" + registry());
    r.assertCompleted(0, 3);
    // Resuming the run id: every stage the client run completed is taken as done, not run again.
    for (String stage : List.of("ingest", "pretrain", "extract", "train", "evaluate")) {
      assertTrue(
          r.process.output().contains("retrain: " + stage + " already done by run " + CLIENT_RUN),
          "retrain must take the client run's " + stage + " as done" + r.context());
    }
    JsonNode result = readHdfsJson("/cluster-it/out/retrain/retrain.json");
    assertEquals(
        1, result.path("version").asInt(), "the first retrain registers version 1" + r.context());
    assertTrue(
        result.path("championBefore").isNull(),
        "no champion before the first retrain" + r.context());
    for (String m : List.of("clinical", "omics", "imaging", "labs", "notes")) {
      assertHdfsFile(
          "/cluster-it/registry/"
              + FUSION_MODEL
              + "/versions/1/encoders/"
              + m
              + "/encoder/model.zip",
          r);
    }
    if (!result.path("promoted").asBoolean()) {
      // Two epochs need not beat the best unimodal model; the second run needs a champion either
      // way.
      assertEquals(
          0,
          CohortFusion.run(
              "registry",
              "promote",
              FUSION_MODEL,
              "--registry",
              registry(),
              "--version",
              "1",
              "--reason",
              "cluster test: first champion"),
          "registry promote of version 1");
    }
    passed.put("retrain-1", true);
  }

  @Test
  @Order(31)
  void retrainOnANewSnapshotUsesTheChampionsEncoders() throws Exception {
    requirePassed("retrain-1");
    // The same seed with more subjects: the first snapshot's subjects unchanged, plus new ones.
    // Generated by the test's embedded Spark: generate on the cluster ran in the first test.
    localSpark();
    assertEquals(
        0,
        CohortFusion.run(
            "generate",
            "--output",
            hdfs.uri() + "/cluster-it/snapshot-2",
            "--subjects",
            String.valueOf(SUBJECTS + 150),
            "--seed",
            "7"),
        "embedded generate of the second snapshot");
    Submitted r =
        submit(
            "retrain", false, retrainArgs(hdfs.uri() + "/cluster-it/snapshot-2", "it-retrain-2"));
    r.assertCompleted(0, 3);
    assertTrue(
        r.process.output().contains("extracting with its encoders"),
        "the second retrain must extract with the champion's encoders" + r.context());
    assertFalse(
        hdfs.fs()
            .exists(new org.apache.hadoop.fs.Path("/cluster-it/out-retrain/_status/pretrain.json")),
        "pretrain must not run when a champion's encoders exist" + r.context());
    JsonNode result = readHdfsJson("/cluster-it/out-retrain/retrain/retrain.json");
    assertEquals(
        2, result.path("version").asInt(), "the second retrain registers version 2" + r.context());
    assertEquals(
        1, result.path("championBefore").asInt(), "judged against champion v1" + r.context());
    assertEquals(
        result.path("promoted").asBoolean() ? 0 : 3,
        r.exitCode,
        "exit code vs retrain.json's decision" + r.context());
    JsonNode drift = result.path("drift");
    long trainSubjects =
        localSpark()
            .read()
            .parquet(hdfs.uri() + "/cluster-it/out-retrain/cohort/aligned")
            .where("split = 'train' and label is not null")
            .count();
    assertEquals(
        trainSubjects,
        drift.path("subjectsAfter").asLong(),
        "drift.subjectsAfter vs the labeled training subjects of the new aligned cohort"
            + r.context());
    // The embedding profile is aggregated on the executors: one index per embedding dimension of
    // every modality.
    for (String m : List.of("clinical", "omics", "imaging", "labs", "notes")) {
      JsonNode psi = drift.path("embeddingPsi").path(m);
      assertEquals(8, psi.size(), "embedding PSI of '" + m + "' (embedding-size 8)" + r.context());
      psi.forEach(
          v ->
              assertTrue(
                  v.isNumber() && v.asDouble() >= 0 && Double.isFinite(v.asDouble()),
                  "embedding PSI of '" + m + "' is not a finite index >= 0: " + psi + r.context()));
    }
    JsonNode lineage =
        readHdfsJson("/cluster-it/registry/" + FUSION_MODEL + "/versions/2/lineage.json");
    assertEquals(
        1, lineage.path("comparedWith").asInt(), "lineage of v2: compared with v1" + r.context());
    r.assertTasksOnBothWorkers();
  }

  private String registry() {
    return hdfs.uri() + "/cluster-it/registry";
  }

  /** A retrain of the test's model on {@code cohort}, into its own output dir. */
  private String[] retrainArgs(String cohort, String runId) {
    return new String[] {
      "--config",
      pipelineConf.toString(),
      "--model",
      FUSION_MODEL,
      "--run-id",
      runId,
      "--set",
      "cohort-dir=" + cohort,
      "--set",
      "output.dir=" + hdfs.uri() + "/cluster-it/out-retrain",
      "--set",
      "registry.dir=" + registry()
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Submitting

  /** One spark-submit run of a stage and what it left. */
  final class Submitted {
    final String stage;
    final boolean clusterMode;
    final int exitCode;
    final ManagedProcess process;
    final EventLog eventLog;
    final String driverId;
    final String driverState;
    final String outputRoot;

    Submitted(
        String stage,
        boolean clusterMode,
        int exitCode,
        ManagedProcess process,
        EventLog eventLog,
        String driverId,
        String driverState) {
      this.stage = stage;
      this.clusterMode = clusterMode;
      this.exitCode = exitCode;
      this.process = process;
      this.eventLog = eventLog;
      this.driverId = driverId;
      this.driverState = driverState;
      this.outputRoot = outputRootOf(stage, clusterMode, process);
    }

    void assertSucceeded() {
      assertCompleted(0);
    }

    /** The run ended with one of {@code exitCodes} and its status file says SUCCEEDED. */
    void assertCompleted(int... exitCodes) {
      assertTrue(
          java.util.Arrays.stream(exitCodes).anyMatch(c -> c == exitCode),
          "jobs/submit.sh "
              + stage
              + " exit code "
              + exitCode
              + ", expected one of "
              + java.util.Arrays.toString(exitCodes)
              + context());
      if (clusterMode) {
        assertEquals(
            "FINISHED",
            driverState,
            "state of the cluster-mode driver " + driverId + " on the master" + context());
      }
      assertTrue(eventLog != null, "no event log for the application of " + stage + context());
      if (outputRoot != null) {
        String state;
        try {
          state = readHdfsJson(outputRoot + "/_status/" + stage + ".json").path("state").asText();
        } catch (IOException e) {
          state = "<unreadable: " + e.getMessage() + ">";
        }
        assertEquals(
            "SUCCEEDED",
            state,
            "state in " + outputRoot + "/_status/" + stage + ".json" + context());
      }
    }

    void assertTasksOnBothWorkers() {
      assertBothWorkers(stage, eventLog.workersWithTasks());
    }

    /** Tasks of the job group (one pipeline stage of a run or retrain) on both workers. */
    void assertTasksOnBothWorkers(String jobGroup) {
      assertTrue(eventLog != null, "no event log for the application of " + stage + context());
      assertBothWorkers(
          stage + " (job group " + jobGroup + ")", eventLog.workersWithTasks(jobGroup));
    }

    /**
     * The status of {@code pipelineStage} under this submission's output root: SUCCEEDED by run.
     */
    void assertStageSucceeded(String pipelineStage, String runId) throws IOException {
      JsonNode status = readHdfsJson(outputRoot + "/_status/" + pipelineStage + ".json");
      assertEquals(
          "SUCCEEDED",
          status.path("state").asText(),
          outputRoot + "/_status/" + pipelineStage + ".json" + context());
      assertEquals(
          runId,
          status.path("runId").asText(),
          "run id in " + outputRoot + "/_status/" + pipelineStage + ".json" + context());
    }

    private void assertBothWorkers(String what, Set<Integer> workers) {
      Set<Integer> known =
          workers.stream().filter(p -> cluster.workerByUiPort(p) >= 0).collect(Collectors.toSet());
      assertTrue(
          known.size() >= 2,
          what
              + ": tasks ran on executors of "
              + known.size()
              + " worker(s), expected both; event log "
              + eventLog
              + context());
    }

    String context() {
      StringBuilder sb =
          new StringBuilder(
              "\n===== jobs/submit.sh "
                  + stage
                  + (clusterMode
                      ? " (cluster deploy mode, driver " + driverId + " " + driverState + ")"
                      : " (client deploy mode)")
                  + ", log "
                  + process.log
                  + " (tail):\n"
                  + process.tail(60));
      if (clusterMode && driverId != null) {
        for (int w = 0; w < 2; w++) {
          Path d = cluster.workDir(w).resolve(driverId);
          if (Files.isDirectory(d)) {
            sb.append("\n===== driver stderr (tail) ")
                .append(d)
                .append('\n')
                .append(ManagedProcess.tail(d.resolve("stderr"), 60));
            sb.append("\n===== driver stdout (tail)\n")
                .append(ManagedProcess.tail(d.resolve("stdout"), 30));
          }
        }
      }
      sb.append("\n===== event log: ").append(eventLog);
      sb.append("\n===== cluster logs (tails):").append(cluster.diagnostics(25));
      return sb.toString();
    }
  }

  /** The output root the stage's --config/--set point at (generate: none). */
  private String outputRootOf(String stage, boolean clusterMode, ManagedProcess p) {
    if (stage.equals("generate")) {
      return null;
    }
    return outputDirSet != null ? outputDirSet : clusterMode ? clusterOut : out;
  }

  /** The output.dir the last submission set with --set (null: the config's). */
  private String outputDirSet;

  @FunctionalInterface
  interface KillWhen {
    boolean test(EventLog inProgress, String output);
  }

  private Submitted submit(String stage, boolean clusterMode, String... args) throws Exception {
    ManagedProcess p = startSubmit(stage, clusterMode, args);
    return finish(stage + (clusterMode ? "-cluster" : ""), stage, clusterMode, p, snapshotBefore);
  }

  private Set<Path> snapshotBefore;

  private ManagedProcess startSubmit(String stage, boolean clusterMode, String... args)
      throws IOException {
    snapshotBefore = listEventLogs();
    outputDirSet = null;
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--set") && args[i + 1].startsWith("output.dir=")) {
        outputDirSet = args[i + 1].substring("output.dir=".length());
      }
    }
    // jobs/submit.sh [--wait] [spark-submit options] -- <stage> [options]; in standalone cluster
    // mode spark-submit
    // exits 0 even when the driver failed, so --wait (the stage's recorded status) decides the exit
    // code there.
    List<String> cmd = new ArrayList<>(List.of("bash", REPO.resolve("jobs/submit.sh").toString()));
    if (clusterMode) {
      cmd.add("--wait");
    }
    cmd.addAll(List.of("--deploy-mode", clusterMode ? "cluster" : "client", "--", stage));
    cmd.addAll(List.of(args));
    Map<String, String> env = new HashMap<>();
    env.put("SPARK_HOME", SPARK_HOME.toString());
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("HADOOP_CONF_DIR", hadoopConfDir.toString());
    env.put(
        "COHORT_FUSION_SPARK_PROPERTIES", (clusterMode ? clusterProps : clientProps).toString());
    // Standalone workers get --files only after the driver JVM started: the log4j config "installed
    // on every
    // host" (this one), as jobs/submit.sh documents.
    env.put(
        "COHORT_FUSION_LOG4J_REMOTE", REPO.resolve("conf/log4j2-cluster.properties").toString());
    runs++;
    return ManagedProcess.start(
        "submit " + stage,
        cmd,
        env,
        REPO,
        BASE.resolve(
            String.format("logs/%02d-%s%s.log", runs, stage, clusterMode ? "-cluster" : "")));
  }

  private Submitted finish(
      String label, String stage, boolean clusterMode, ManagedProcess p, Set<Path> before)
      throws Exception {
    long t0 =
        p.process
            .info()
            .startInstant()
            .map(
                i ->
                    System.nanoTime()
                        - java.time.Duration.between(i, java.time.Instant.now()).toNanos())
            .orElse(System.nanoTime());
    int exit;
    try {
      exit = p.waitFor(STAGE_TIMEOUT);
    } finally {
      p.stop();
    }
    String driverId = null;
    String driverState = null;
    if (clusterMode) {
      Matcher m = Pattern.compile("(driver-\\d+-\\d+)").matcher(p.output());
      if (m.find()) {
        driverId = m.group(1);
        String id = driverId;
        String[] state = new String[1];
        StandaloneCluster.await(
            "driver " + id + " to complete on the master",
            STAGE_TIMEOUT,
            () -> {
              JsonNode s = cluster.masterState();
              if (s == null) {
                return false;
              }
              for (JsonNode d : s.path("completeddrivers")) {
                if (id.equals(d.path("id").asText())) {
                  state[0] = d.path("state").asText();
                  return true;
                }
              }
              return false;
            });
        driverState = state[0];
      }
    }
    // The event log is renamed from .inprogress when the application ends.
    EventLog log = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      List<Path> fresh =
          listEventLogs().stream()
              .filter(f -> !before.contains(f))
              .filter(f -> !f.getFileName().toString().endsWith(".inprogress"))
              .toList();
      if (!fresh.isEmpty()) {
        log = EventLog.read(fresh.get(0));
        break;
      }
      if (exit != 0 && !clusterMode) {
        break;
      }
      Thread.sleep(200);
    }
    String key = label; // a stage submitted again: retrain, retrain-2
    for (int k = 2; stageSeconds.containsKey(key); k++) {
      key = label + "-" + k;
    }
    stageSeconds.put(key, (System.nanoTime() - t0) / 1e9);
    return new Submitted(stage, clusterMode, exit, p, log, driverId, driverState);
  }

  /**
   * Submits a stage and kills one executor JVM of this cluster once {@code when} holds; the run
   * must recover.
   */
  private Submitted submitKillingAnExecutor(
      String stage, String whenText, KillWhen when, String... args) throws Exception {
    ManagedProcess p = startSubmit(stage, false, args);
    Set<Path> before = snapshotBefore;
    ProcessHandle[] victim = new ProcessHandle[1];
    try {
      StandaloneCluster.await(
          whenText + " in " + stage + " before killing an executor",
          STAGE_TIMEOUT,
          () -> {
            if (!p.isAlive()) {
              return true;
            }
            EventLog inProgress =
                listEventLogs().stream()
                    .filter(f -> !before.contains(f))
                    .findFirst()
                    .map(EventLog::read)
                    .orElse(null);
            return when.test(inProgress, p.output());
          });
      assertTrue(
          p.isAlive(), stage + " ended before " + whenText + ": nothing was killed\n" + p.tail(60));
      List<ProcessHandle> executors = cluster.executorProcesses();
      assertTrue(!executors.isEmpty(), "no executor JVM of this cluster found to kill");
      victim[0] = executors.get(0);
      victim[0].destroyForcibly();
      System.out.printf(
          "StandaloneClusterIT: killed executor JVM %d during %s (%s)%n",
          victim[0].pid(), stage, whenText);
    } catch (AssertionError | RuntimeException e) {
      p.stop();
      throw e;
    }
    Submitted r = finish(stage + "-executor-killed", stage, false, p, before);
    return r;
  }

  private Set<Path> listEventLogs() {
    try (Stream<Path> s = Files.list(events)) {
      return s.collect(Collectors.toCollection(HashSet::new));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private void requirePassed(String stage) {
    assumeTrue(
        Boolean.TRUE.equals(passed.get(stage)), "skipped: stage '" + stage + "' did not pass");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Assertions on HDFS

  private void assertHdfsFile(String path, Submitted r) throws IOException {
    FileSystem fs = hdfs.fs();
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
    assertTrue(
        fs.exists(p) && fs.getFileStatus(p).isFile() && fs.getFileStatus(p).getLen() > 0,
        "no (or an empty) file " + hdfs.uri() + path + " on HDFS after " + r.stage + r.context());
  }

  private void assertHdfsDirWithParquet(String path, Submitted r) throws IOException {
    FileSystem fs = hdfs.fs();
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
    boolean ok =
        fs.exists(p)
            && fs.getFileStatus(p).isDirectory()
            && java.util.Arrays.stream(fs.listStatus(p))
                .anyMatch(s -> s.getPath().getName().endsWith(".parquet"));
    assertTrue(
        ok, "no Parquet table at " + hdfs.uri() + path + " on HDFS after " + r.stage + r.context());
  }

  /**
   * One embeddings table, one row per aligned subject, no temporary or previous copy left beside
   * it.
   */
  private void assertEmbeddingsPublishedOnce(String outDir, Submitted r) throws IOException {
    Dataset<Row> table = localSpark().read().parquet(outDir + "/embeddings/table");
    long rows = table.count();
    long subjects = table.select("subject_id").distinct().count();
    long aligned = localSpark().read().parquet(outDir + "/cohort/aligned").count();
    assertEquals(
        aligned,
        rows,
        "embeddings rows vs aligned subjects (a half or doubled publish?)" + r.context());
    assertEquals(
        rows,
        subjects,
        "embeddings rows vs distinct subjects (a subject written twice?)" + r.context());
    assertNoLeftovers(outDir, r);
  }

  /**
   * Every model of summary.json completed, listed once, with exactly one published model.zip or
   * late.json.
   */
  private void assertModelsPublished(JsonNode summary, Submitted r) throws IOException {
    List<String> names = new ArrayList<>();
    summary.path("models").forEach(m -> names.add(m.path("name").asText()));
    assertTrue(
        names.contains(FUSION_MODEL),
        "summary.json lacks '" + FUSION_MODEL + "': " + names + r.context());
    assertEquals(
        names.size(),
        new HashSet<>(names).size(),
        "a model listed twice in summary.json: " + names);
    FileSystem fs = hdfs.fs();
    for (JsonNode m : summary.path("models")) {
      String name = m.path("name").asText();
      assertTrue(
          m.path("completed").asBoolean(false), "model '" + name + "' not completed" + r.context());
      double auroc = m.path("validation").path("auroc").asDouble(Double.NaN);
      assertTrue(auroc >= 0 && auroc <= 1, "model '" + name + "' validation AUROC " + auroc);
      org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(m.path("modelDir").asText());
      assertTrue(fs.exists(dir), "model dir of '" + name + "' missing: " + dir + r.context());
      long published =
          java.util.Arrays.stream(fs.listStatus(dir))
              .filter(
                  s ->
                      s.getPath().getName().equals("model.zip")
                          || s.getPath().getName().equals("late.json"))
              .count();
      assertEquals(1, published, "published model files of '" + name + "' in " + dir);
    }
    String root = r.clusterMode ? clusterOut : out;
    assertNoLeftovers(root, r);
    // Train's minibatch shards (<output.dir>/_shards) are deleted when the run ends.
    org.apache.hadoop.fs.Path shards = new org.apache.hadoop.fs.Path(root + "/_shards");
    List<String> leftShards =
        fs.exists(shards)
            ? java.util.Arrays.stream(fs.listStatus(shards))
                .map(st -> st.getPath().getName())
                .toList()
            : List.of();
    assertTrue(
        leftShards.isEmpty(), "minibatch shards left after train: " + leftShards + r.context());
  }

  /**
   * No temporary (.x.tmp-*, _temporary) or previous (.x.old-*) directory anywhere under the output
   * directory.
   */
  private void assertNoLeftovers(String outDir, Submitted r) throws IOException {
    FileSystem fs = hdfs.fs();
    List<String> left = new ArrayList<>();
    // Every directory and file, so that an empty leftover directory counts too.
    java.util.ArrayDeque<org.apache.hadoop.fs.Path> todo = new java.util.ArrayDeque<>();
    todo.add(new org.apache.hadoop.fs.Path(outDir));
    while (!todo.isEmpty()) {
      for (FileStatus st : fs.listStatus(todo.poll())) {
        String n = st.getPath().getName();
        // AtomicDirectory's .<name>.tmp-<owner>-<random> / .<name>.old-..., Spark's uncommitted
        // _temporary.
        if (n.matches("\\..+\\.(tmp|old)-.+") || n.equals("_temporary")) {
          left.add(st.getPath().toString());
        } else if (st.isDirectory()) {
          todo.add(st.getPath());
        }
      }
    }
    assertTrue(left.isEmpty(), "temporary or previous outputs left behind: " + left + r.context());
  }

  private JsonNode readHdfsJson(String path) throws IOException {
    try (InputStream in = hdfs.fs().open(new org.apache.hadoop.fs.Path(path))) {
      return JSON.readTree(in);
    }
  }

  private String readHdfsText(String path) throws IOException {
    try (InputStream in = hdfs.fs().open(new org.apache.hadoop.fs.Path(path))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static Map<String, Double> aurocs(JsonNode summary) {
    Map<String, Double> m = new TreeMap<>();
    summary
        .path("models")
        .forEach(
            e -> m.put(e.path("name").asText(), e.path("validation").path("auroc").asDouble()));
    return m;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Configuration the test writes

  /**
   * The project's conf/spark-standalone.properties plus what this cluster needs: its master, the
   * HDFS as default file system, event logs, small executors (one core, one per worker), the local
   * JavaCPP cache.
   */
  private Path writeSparkProperties(String name, boolean clusterMode) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(REPO.resolve("conf/spark-standalone.properties"))) {
      p.load(r);
    }
    p.setProperty("spark.master", cluster.masterUrl());
    p.setProperty("spark.hadoop.fs.defaultFS", hdfs.uri());
    p.setProperty("spark.hadoop.dfs.replication", "1");
    p.setProperty("spark.eventLog.enabled", "true");
    p.setProperty("spark.eventLog.dir", events.toUri().toString());
    p.setProperty("spark.executor.cores", "1");
    p.setProperty("spark.cores.max", "2");
    p.setProperty("spark.executor.memory", "1g");
    p.setProperty("spark.driver.memory", "1536m");
    p.setProperty("spark.ui.enabled", "false");
    p.setProperty("spark.sql.shuffle.partitions", "4");
    p.setProperty("spark.local.dir", BASE.resolve("spark-local").toString());
    String javacpp = " -Dorg.bytedeco.javacpp.cachedir=" + JAVACPP_CACHE;
    p.setProperty(
        "spark.executor.extraJavaOptions",
        p.getProperty("spark.executor.extraJavaOptions", "") + javacpp);
    p.setProperty(
        "spark.driver.extraJavaOptions",
        p.getProperty("spark.driver.extraJavaOptions", "") + javacpp);
    Path file = BASE.resolve(name);
    try (Writer w = Files.newBufferedWriter(file)) {
      p.store(w, "written by StandaloneClusterIT from conf/spark-standalone.properties");
    }
    return file;
  }

  /**
   * A small pipeline on conf/demo.conf's modalities: cohort-dir an hdfs:// URI, 2 epochs
   * everywhere, one fusion model plus the baselines. Splits by subject id only (not stratified):
   * retrain takes this run as its first champion, and a champion is judged on a later snapshot's
   * test split, so no subject may change split when subjects are added.
   */
  private static String pipelineConfig(String input, String outputDir) {
    return """
        name = cluster-it
        cohort-dir = "%1$s"
        subjects { path = subjects, duplicates = first }
        modalities {
          clinical { kind = tabular, path = clinical, duplicates = first }
          omics { kind = vector, path = omics, length = 256, duplicates = first }
          imaging { kind = image, path = imaging, shape = [1, 16, 16], duplicates = first }
          labs { kind = timeseries, path = labs, steps = 8, duplicates = first }
          notes { kind = text, path = notes, duplicates = first }
        }
        splits { mode = hash, seed = 17, train = 0.7, validation = 0.15, test = 0.15, stratify = false }
        output { dir = "%2$s" }
        pretrain {
          encoders {
            clinical { embedding-size = 8, hidden = [16], epochs = 2, learning-rate = 0.005 }
            omics    { embedding-size = 8, hidden = [16], epochs = 2, learning-rate = 0.005 }
            imaging  { embedding-size = 8, conv-channels = [4, 8], epochs = 2, learning-rate = 0.005 }
            labs     { embedding-size = 8, cell = lstm, epochs = 2, learning-rate = 0.005 }
            notes    { embedding-size = 8, hidden = [16], buckets = 128, epochs = 2, learning-rate = 0.005 }
          }
        }
        fusion {
          default = %3$s
          models {
            %3$s { what = [clinical, omics, imaging, labs, notes], how = concat, head = [16], dropout = 0.0 }
          }
        }
        train { mode = spark, epochs = 2, batch-size = 32, workers = 2, patience = 2, learning-rate = 0.005 }
        """
        .formatted(input, outputDir, FUSION_MODEL);
  }

  private SparkSession localSpark() {
    if (localSpark == null) {
      // The embedded run reads spark.* system properties (Sessions.getOrCreate); the checks share
      // its session.
      System.setProperty("spark.master", "local[2]");
      System.setProperty("spark.ui.enabled", "false");
      System.setProperty("spark.sql.shuffle.partitions", "4");
      System.setProperty("spark.local.dir", BASE.resolve("spark-local").toString());
      localSpark = org.cohortfusion.spark.Sessions.getOrCreate("cluster-it checks");
    }
    return localSpark;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
