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
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.evaluate.PairedAuroc;
import org.cohortfusion.evaluate.SurvivalEvaluation;
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
    Judged judged =
        emb.survival()
            ? judgeSurvival(hconf, championName, drift)
            : judgeClasses(hconf, table, championName, drift);
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
   * The gate's decision and what the report shows of it.
   *
   * @param reference without a champion, the name of the best unimodal model the challenger met
   *     (null: none)
   * @param metric the name of the test metric of the pattern table
   */
  private record Judged(
      Gate.Decision decision,
      String reference,
      String metric,
      List<RetrainReport.PatternRow> patterns) {}

  private Judged judgeClasses(
      Configuration hconf, Dataset<Row> table, String championName, CohortProfile.Drift drift) {
    EvaluateResult evaluated = EvaluateAction.read(hconf, config.evaluateOutputDir());
    EvaluateResult.ModelEvaluation challenger = evaluated.get(model);
    EvaluateResult.ModelEvaluation championEval =
        championName == null
            ? null
            : EvaluateAction.of(spark, config)
                .model(championName, registry.modelPath(model, champion))
                .outputDir(championEvaluateDir(config))
                .progress(progress)
                .execute()
                .get(championName);
    EvaluateResult.ModelEvaluation reference =
        champion == null ? evaluated.bestUnimodal().orElse(null) : null;
    String against = champion != null ? championName : reference == null ? null : reference.name();
    Paired paired = against == null ? null : paired(against);
    PairedAuroc auroc =
        paired == null
            ? null
            : PairedAuroc.of(
                paired.challenger,
                paired.other,
                paired.labels,
                config.retrain().gate().confidence());
    long positives =
        paired != null ? java.util.Arrays.stream(paired.labels).filter(y -> y == 1).count() : 0;
    long negatives = paired != null ? paired.labels.length - positives : 0;
    if (paired == null) {
      int[] counts = labelCounts(table);
      negatives = counts[0];
      positives = counts[1];
    }
    Gate.Decision decision =
        new Gate(config.retrain().gate())
            .judge(
                new Gate.Evidence(
                    challenger, championEval, reference, auroc, positives, negatives, drift));
    return new Judged(
        decision,
        reference == null ? null : reference.name(),
        "AUROC",
        RetrainReport.patterns(challenger, championEval));
  }

  /**
   * The gate on a survival outcome: Harrell's C of the challenger and of the champion (scored on
   * the same test subjects) or, without one, of the best unimodal model, paired by a bootstrap of
   * the subjects both predicted.
   */
  private Judged judgeSurvival(
      Configuration hconf, String championName, CohortProfile.Drift drift) {
    SurvivalEvaluation.Result evaluated =
        EvaluateAction.readSurvival(hconf, config.evaluateOutputDir());
    SurvivalEvaluation.ModelSurvival challenger = survivalModel(evaluated, model);
    SurvivalEvaluation.ModelSurvival championEval =
        championName == null
            ? null
            : survivalModel(
                EvaluateAction.of(spark, config)
                    .model(championName, registry.modelPath(model, champion))
                    .outputDir(championEvaluateDir(config))
                    .progress(progress)
                    .executeSurvival(),
                championName);
    SurvivalEvaluation.ModelSurvival reference =
        champion != null
            ? null
            : evaluated.models().stream()
                .filter(m -> "unimodal".equals(m.kind()))
                .filter(m -> !Double.isNaN(m.test().cIndex()))
                .max(java.util.Comparator.comparingDouble(m -> m.test().cIndex()))
                .orElse(null);
    String against = champion != null ? championName : reference == null ? null : reference.name();
    double confidence = config.retrain().gate().confidence();
    SurvivalEvaluation.PairedC paired = null;
    if (against != null) {
      PairedRisk p = pairedRisk(against);
      paired =
          SurvivalEvaluation.pairedOnRisk(
              model,
              p.challenger,
              against,
              p.other,
              p.time,
              p.event,
              confidence,
              config.evaluate().seed());
    }
    long events = evaluated.events();
    Gate.Decision decision =
        new Gate(config.retrain().gate())
            .judgeSurvival(
                new Gate.SurvivalEvidence(
                    challenger,
                    championEval,
                    reference,
                    paired,
                    confidence,
                    events,
                    evaluated.subjects() - events,
                    drift));
    return new Judged(
        decision,
        reference == null ? null : reference.name(),
        "C-index",
        RetrainReport.survivalPatterns(challenger, championEval));
  }

  private static SurvivalEvaluation.ModelSurvival survivalModel(
      SurvivalEvaluation.Result evaluated, String name) {
    return evaluated.models().stream()
        .filter(m -> m.name().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new RetrainException(
                    "Cannot judge "
                        + name
                        + ": the survival evaluation has no model of that name (models "
                        + evaluated.models().stream().map(m -> m.name()).toList()
                        + ")"));
  }

  /**
   * Challenger and {@code other} scores of the same labeled test subjects, joined by subject on the
   * executors.
   */
  private record Paired(double[] challenger, double[] other, int[] labels) {}

  /** The same for survival predictions: both risks, the follow-up time and the event. */
  private record PairedRisk(double[] challenger, double[] other, double[] time, boolean[] event) {}

  private List<Row> joinPredictions(String other, String value, String... outcome) {
    String dir = champion != null ? championEvaluateDir(config) : config.evaluateOutputDir();
    List<org.apache.spark.sql.Column> a = new java.util.ArrayList<>();
    a.add(col(Columns.SUBJECT_ID));
    a.add(col(value).as("pa"));
    for (String c : outcome) {
      a.add(col(c));
    }
    Dataset<Row> mine =
        spark
            .read()
            .parquet(config.evaluateOutputDir() + "/" + EvaluateAction.PREDICTIONS_DIR)
            .where(col("model").equalTo(model))
            .select(a.toArray(new org.apache.spark.sql.Column[0]));
    Dataset<Row> theirs =
        spark
            .read()
            .parquet(dir + "/" + EvaluateAction.PREDICTIONS_DIR)
            .where(col("model").equalTo(other))
            .select(col(Columns.SUBJECT_ID), col(value).as("pb"));
    List<String> columns = new java.util.ArrayList<>(List.of("pa", "pb"));
    columns.addAll(List.of(outcome));
    List<Row> rows =
        mine.join(theirs, Columns.SUBJECT_ID)
            .orderBy(Columns.SUBJECT_ID)
            .select(columns.get(0), columns.subList(1, columns.size()).toArray(new String[0]))
            .collectAsList();
    long expected = mine.count();
    if (rows.size() != expected) {
      throw new IllegalStateException(
          "Cannot pair the predictions of "
              + model
              + " and "
              + other
              + ": "
              + rows.size()
              + " of "
              + expected
              + " test subjects have both");
    }
    return rows;
  }

  private Paired paired(String other) {
    List<Row> rows = joinPredictions(other, "probability", Columns.LABEL);
    double[] pa = new double[rows.size()];
    double[] pb = new double[rows.size()];
    int[] y = new int[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      pa[i] = rows.get(i).getDouble(0);
      pb[i] = rows.get(i).getDouble(1);
      y[i] = rows.get(i).getInt(2);
    }
    return new Paired(pa, pb, y);
  }

  private PairedRisk pairedRisk(String other) {
    List<Row> rows = joinPredictions(other, "risk", Columns.DURATION, "event");
    int n = rows.size();
    double[] pa = new double[n];
    double[] pb = new double[n];
    double[] time = new double[n];
    boolean[] event = new boolean[n];
    for (int i = 0; i < n; i++) {
      pa[i] = rows.get(i).getDouble(0);
      pb[i] = rows.get(i).getDouble(1);
      time[i] = rows.get(i).getDouble(2);
      event[i] = rows.get(i).getInt(3) == 1;
    }
    return new PairedRisk(pa, pb, time, event);
  }

  private static int[] labelCounts(Dataset<Row> table) {
    int[] counts = new int[2];
    for (Row r :
        table
            .where(
                col(Columns.SPLIT).equalTo(Columns.Splits.TEST).and(col(Columns.LABEL).isNotNull()))
            .groupBy(col(Columns.LABEL).cast("int"))
            .count()
            .collectAsList()) {
      counts[r.getInt(0)] = (int) r.getLong(1);
    }
    return counts;
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
