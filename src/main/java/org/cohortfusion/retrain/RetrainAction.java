package org.cohortfusion.retrain;

import static org.apache.spark.sql.functions.col;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.BuildInfo;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.registry.ModelRegistry;
import org.cohortfusion.registry.RunInfo;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.train.EmbeddingsData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The champion/challenger step of a retrain, after the stages ingest to evaluate ran on the new
 * snapshot: scores the champion on the same test subjects as the challenger (with its own encoders,
 * which extracted these embeddings), refuses if any of them was in the champion's training or
 * validation split, judges the {@link Gate}, registers the challenger with its encoders and
 * lineage, and moves {@code champion} (gate passed) or {@code challenger}. Writes {@code
 * <output.dir>/retrain/retrain.json} and {@code report.html}.
 *
 * <p>Safe to run again with the same run id after a crash: a version this run registered is reused,
 * never registered twice, and an alias already moved is not moved again. The champion alias moves
 * in one atomic file replacement, after the challenger's version is complete and verified: a crash
 * at any point leaves the previous champion loadable.
 */
public final class RetrainAction {
  private static final Logger LOG = LoggerFactory.getLogger(RetrainAction.class);
  public static final String RESULT_FILE = "retrain.json";
  public static final String REPORT_FILE = "report.html";

  /** The splits a model is fitted on (validation by early stopping). */
  static final List<String> FIT_SPLITS = List.of(Columns.Splits.TRAIN, Columns.Splits.VALIDATION);

  private final SparkSession spark;
  private final PipelineConfig config;
  private final ModelRegistry registry;
  private final String model;
  private final Integer champion;
  private final String encodersDir;
  private final RunInfo run;
  private final Consumer<String> progress;
  private final boolean stopAfterRegistration;
  private final Integer warmStartedFrom;

  private RetrainAction(
      SparkSession spark,
      PipelineConfig config,
      ModelRegistry registry,
      String model,
      Integer champion,
      String encodersDir,
      RunInfo run,
      Consumer<String> progress,
      boolean stopAfterRegistration,
      Integer warmStartedFrom) {
    this.spark = spark;
    this.config = config;
    this.registry = registry;
    this.model = model;
    this.champion = champion;
    this.encodersDir = encodersDir;
    this.run = run;
    this.progress = progress;
    this.stopAfterRegistration = stopAfterRegistration;
    this.warmStartedFrom = warmStartedFrom;
  }

  /**
   * @param champion the champion version the challenger meets (null: none yet)
   * @param encodersDir the encoders that extracted this run's embeddings ({@code
   *     <dir>/<modality>/encoder})
   */
  public static RetrainAction of(
      SparkSession spark,
      PipelineConfig config,
      ModelRegistry registry,
      String model,
      Integer champion,
      String encodersDir,
      RunInfo run) {
    return new RetrainAction(
        spark, config, registry, model, champion, encodersDir, run, LOG::info, false, null);
  }

  public RetrainAction progress(Consumer<String> sink) {
    return new RetrainAction(
        spark,
        config,
        registry,
        model,
        champion,
        encodersDir,
        run,
        sink,
        stopAfterRegistration,
        warmStartedFrom);
  }

  /**
   * Ends the run with an exception right after the challenger is registered, before any alias
   * moves: how a driver killed between the two looks to the registry (crash tests; a rerun of the
   * run id completes it).
   */
  public RetrainAction stopAfterRegistration(boolean stop) {
    return new RetrainAction(
        spark,
        config,
        registry,
        model,
        champion,
        encodersDir,
        run,
        progress,
        stop,
        warmStartedFrom);
  }

  /**
   * The champion version the challenger's training started from (null: a fresh initialisation), for
   * its lineage.
   */
  public RetrainAction warmStartedFrom(Integer version) {
    return new RetrainAction(
        spark,
        config,
        registry,
        model,
        champion,
        encodersDir,
        run,
        progress,
        stopAfterRegistration,
        version);
  }

  /** Where a champion is scored on the new snapshot: beside the challenger's evaluation. */
  public static String championEvaluateDir(PipelineConfig config) {
    return config.output().dir() + "/evaluate-champion";
  }

  public static String outputDir(PipelineConfig config) {
    return config.output().dir() + "/retrain";
  }

  public RetrainResult execute() {
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    EmbeddingsSpec emb = EmbeddingsSpec.read(hconf, config.embeddingsDir());
    if (!emb.survival() && emb.numClasses() != 2) {
      throw new RetrainException(
          "Cannot retrain "
              + model
              + ": the gate compares binary classifiers, the cohort has "
              + emb.numClasses()
              + " classes");
    }
    Dataset<Row> table = EmbeddingsData.table(spark, config.embeddingsDir()).cache();
    try {
      return execute(hconf, emb, table);
    } finally {
      table.unpersist();
    }
  }

  private RetrainResult execute(Configuration hconf, EmbeddingsSpec emb, Dataset<Row> table) {
    CohortProfile profile = CohortProfile.of(table, emb.modalityNames(), Columns.Splits.TRAIN);
    String championName = null;
    Lineage lineageOfChampion = null;
    if (champion != null) {
      String dir = registry.modelPath(model, champion);
      lineageOfChampion = Json.read(hconf, dir + "/" + Lineage.FILE, Lineage.class);
      checkNoFitSubjectInTest(hconf, dir, table);
      championName = model + "@v" + champion;
      progress.accept("Scoring champion v" + champion + " on the same test subjects");
    }
    Lineage championLineage = lineageOfChampion;
    CohortProfile.Drift drift =
        championLineage == null || championLineage.trainProfile() == null
            ? null
            : profile.driftFrom(championLineage.trainProfile());
    if (drift != null
        && championLineage.embeddingProfile() != null
        && encoders(emb).equals(championLineage.encoders())) {
      drift =
          drift.withEmbeddingPsi(
              championLineage
                  .embeddingProfile()
                  .psi(
                      table.where(
                          col(Columns.SPLIT)
                              .equalTo(Columns.Splits.TRAIN)
                              .and(col(Columns.LABEL).isNotNull()))));
    }
    ChallengerJudge.Judged judged =
        new ChallengerJudge(spark, config, registry, model, champion, progress)
            .judge(hconf, table, emb.survival(), championName, drift);
    Gate.Decision decision = judged.decision();

    Lineage lineage = lineage(hconf, emb, table, profile);
    int version =
        registry.registeredBy(model, run.runId()).orElseGet(() -> register(hconf, lineage, table));
    if (stopAfterRegistration) {
      throw new IllegalStateException(
          "Cannot finish retrain run "
              + run.runId()
              + ": stopped after registering "
              + model
              + " v"
              + version
              + ", before moving any alias; rerun the run id to finish it");
    }
    Integer before = champion;
    int after;
    if (decision.passed()) {
      if (!registry
          .aliasTarget(model, ModelRegistry.CHAMPION)
          .map(v -> v == version)
          .orElse(false)) {
        registry.promote(model, version, ModelRegistry.CHAMPION, run);
      }
      after = version;
    } else {
      if (!registry
          .aliasTarget(model, ModelRegistry.CHALLENGER)
          .map(v -> v == version)
          .orElse(false)) {
        registry.promote(model, version, ModelRegistry.CHALLENGER, run);
      }
      after = registry.aliasTarget(model, ModelRegistry.CHAMPION).orElse(-1);
    }
    String out = outputDir(config);
    String comparedWith =
        champion != null
            ? "champion v" + champion
            : judged.reference() != null
                ? "best unimodal model (" + judged.reference() + ")"
                : "nothing (no unimodal baseline)";
    RetrainResult result =
        new RetrainResult(
            run.runId(),
            model,
            decision.passed(),
            version,
            before,
            after,
            comparedWith,
            decision.criteria(),
            drift,
            lineage,
            out + "/" + REPORT_FILE,
            out + "/" + RESULT_FILE);
    AtomicDirectory.write(
        hconf,
        out,
        tmp -> {
          Json.write(hconf, tmp + "/" + RESULT_FILE, result);
          Json.writeText(
              hconf,
              tmp + "/" + REPORT_FILE,
              RetrainReport.html(
                  config.name(),
                  result,
                  judged.metric(),
                  judged.patterns(),
                  champion != null,
                  profile,
                  championLineage));
          return null;
        });
    return result;
  }

  /**
   * A champion scored on subjects it was fitted on would look better than it is: with stable splits
   * (a subject's split depends on its id and the seed only) this cannot happen, so it means the
   * split config changed.
   */
  private void checkNoFitSubjectInTest(
      Configuration hconf, String championDir, Dataset<Row> table) {
    String path = championDir + "/" + Lineage.FIT_SUBJECTS;
    Set<String> fitted = new HashSet<>(List.of(Json.readText(hconf, path).split("\n")));
    List<String> test = Lineage.subjectDigests(table, List.of(Columns.Splits.TEST));
    long overlap = test.stream().filter(fitted::contains).count();
    if (overlap > 0) {
      throw new RetrainException(
          "Cannot compare the challenger with "
              + model
              + " v"
              + champion
              + ": "
              + overlap
              + " of the "
              + test.size()
              + " test subjects of this snapshot were in the champion's training or validation "
              + "split (splits changed since: champion "
              + Json.read(hconf, championDir + "/" + Lineage.FILE, Lineage.class).split()
              + ", now "
              + splitConfig()
              + ")");
    }
  }

  private Map<String, Object> splitConfig() {
    @SuppressWarnings("unchecked")
    Map<String, Object> m = Json.MAPPER.convertValue(config.splits(), Map.class);
    return m;
  }

  private Lineage lineage(
      Configuration hconf, EmbeddingsSpec emb, Dataset<Row> table, CohortProfile profile) {
    CohortManifest cohort = CohortManifest.read(hconf, config.cohortOutputDir());
    Dataset<Row> aligned =
        spark.read().parquet(config.cohortOutputDir() + "/" + CohortManifest.ALIGNED);
    Map<String, String> encoders = encoders(emb);
    Map<String, Integer> dims = new LinkedHashMap<>();
    emb.modalities().forEach(m -> dims.put(m.name(), m.dim()));
    String configSha;
    try {
      configSha = Hashing.sha256(Json.MAPPER.writeValueAsString(config));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("Cannot hash the config", e);
    }
    long fit = table.where(col(Columns.SPLIT).isin(FIT_SPLITS.toArray())).count();
    return new Lineage(
        run.runId(),
        champion,
        warmStartedFrom,
        Lineage.contentDigest(aligned),
        cohort.inputFingerprint(),
        configSha,
        BuildInfo.version(),
        encoders,
        emb.sha256(),
        Lineage.contentDigest(table),
        splitConfig(),
        profile,
        fit,
        EmbeddingProfile.of(table, dims, Columns.Splits.TRAIN),
        Lineage.labelsBySplit(table));
  }

  private static Map<String, String> encoders(EmbeddingsSpec emb) {
    Map<String, String> encoders = new LinkedHashMap<>();
    for (EmbeddingsSpec.Modality m : emb.modalities()) {
      encoders.put(m.name(), m.encoderSha256());
    }
    return encoders;
  }

  /**
   * Registers the challenger with its encoders, lineage and fit-subject digests, all under one
   * manifest.
   */
  private int register(Configuration hconf, Lineage lineage, Dataset<Row> table) {
    Map<String, byte[]> attachments = new LinkedHashMap<>();
    for (String m : lineage.encoders().keySet()) {
      String dir = encodersDir + "/" + m + "/encoder";
      ModelArtifact.Verified verified = ModelArtifact.verify(hconf, dir);
      String prefix = "encoders/" + m + "/encoder/";
      verified.files().forEach((f, bytes) -> attachments.put(prefix + f, bytes));
      // The encoder's own manifest too, so it verifies on its own when extract loads it from the
      // version.
      attachments.put(
          prefix + ModelArtifact.MANIFEST,
          Json.readText(hconf, dir + "/" + ModelArtifact.MANIFEST)
              .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    try {
      attachments.put(
          Lineage.FILE, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(lineage));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("Cannot write lineage", e);
    }
    attachments.put(
        Lineage.FIT_SUBJECTS,
        String.join("\n", Lineage.subjectDigests(table, FIT_SPLITS))
            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    ModelRegistry.Registered r =
        registry.register(model, config.trainOutputDir() + "/" + model, attachments, run);
    progress.accept(
        "Registered "
            + model
            + " v"
            + r.version()
            + " (manifest "
            + r.manifestSha256().substring(0, 12)
            + ")");
    return r.version();
  }

  /**
   * Where a registered version keeps its encoders ({@code <dir>/<modality>/encoder}), for extract
   * --encoders.
   */
  public static String encodersDirOf(String versionDir) {
    return versionDir + "/encoders";
  }
}
