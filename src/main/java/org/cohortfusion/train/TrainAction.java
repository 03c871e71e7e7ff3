package org.cohortfusion.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.config.ClassicalConfig;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.TrainConfig;
import org.cohortfusion.fusion.spec.FusionSpec;
import org.cohortfusion.fusion.spec.FusionSpecException;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.BuildInfo;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.spark.MinibatchShards;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.stage.TrainOutputs;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The train stage: fits every declared fusion model and the baselines on the embeddings table, in
 * one process ({@code mode = local}, {@code ComputationGraph.fit}) or on Spark ({@code
 * SparkComputationGraph} with {@code ParameterAveragingTrainingMaster}: synchronous parameter
 * averaging, DL4J's data-parallel scheme).
 *
 * <p>Per model: early stopping with patience on validation log loss (default) or AUROC ({@code
 * train.early-stopping}); after every epoch a checkpoint ({@link ModelArtifact}, with updater
 * state) in {@code <out>/<model>/checkpoints/epoch-N} and {@code checkpoints/state.json}; {@link
 * #resume(boolean)} continues from the last checkpoint. The best model is published atomically at
 * {@code <out>/<model>/model} with provenance (config, spec + describe(), embeddings hash, code
 * version, metrics). {@code <out>/summary.json} lists every model's validation metrics.
 *
 * <p>Modality dropout (ModDrop, Neverova et al. 2016) perturbs the presence mask of the training
 * batches of each epoch only; validation never sees it. Unimodal baselines train on the subjects
 * that have the modality; late fusion averages the trained unimodal models' probabilities over the
 * modalities present (no training). The classical baselines ({@link ClassicalBaselines}: Spark ML
 * on the raw aligned cohort, same splits) come last.
 *
 * <p>End-to-end models ({@link FusionSpec#endToEnd()}: {@code when} names a depth) train the same
 * way on the aligned cohort's preprocessed features ({@link CohortData}, with the pretrained
 * encoders' preprocessing, {@link EndToEndInputs}) instead of the embeddings: the same batches,
 * shards, loops, checkpoints and provenance.
 */
public final class TrainAction {
  private static final Logger LOG = LoggerFactory.getLogger(TrainAction.class);

  /** The batch size the validation split is read and scored in. */
  public static final int EVAL_BATCH = 1024;

  private final SparkSession spark;
  private final PipelineConfig config;
  private final Options o;

  record Options(
      String embeddingsDir,
      String outputDir,
      TrainConfig train,
      List<String> models,
      boolean resume,
      int interruptAfter,
      Consumer<String> progress,
      Map<String, String> warmStart,
      String cohortDir,
      String encodersDir) {}

  private TrainAction(SparkSession spark, PipelineConfig config, Options o) {
    this.spark = spark;
    this.config = config;
    this.o = o;
  }

  public static TrainAction of(SparkSession spark, PipelineConfig config) {
    return new TrainAction(
        spark,
        config,
        new Options(
            config.embeddingsDir(),
            config.trainOutputDir(),
            config.train(),
            null,
            false,
            0,
            LOG::info,
            Map.of(),
            config.cohortOutputDir(),
            config.pretrainOutputDir()));
  }

  /**
   * End-to-end models: read the aligned cohort from {@code cohortDir} and the pretrained encoders
   * (their weights and preprocessing) from {@code encodersDir} (pretrain's output: {@code
   * <dir>/<modality>/encoder}).
   */
  public TrainAction cohort(String cohortDir, String encodersDir) {
    return new TrainAction(
        spark,
        config,
        new Options(
            o.embeddingsDir,
            o.outputDir,
            o.train,
            o.models,
            o.resume,
            o.interruptAfter,
            o.progress,
            o.warmStart,
            cohortDir,
            encodersDir));
  }

  /** Read the embeddings from this directory instead of {@code <output.dir>/embeddings}. */
  public TrainAction embeddingsDir(String dir) {
    return new TrainAction(
        spark,
        config,
        new Options(
            dir,
            o.outputDir,
            o.train,
            o.models,
            o.resume,
            o.interruptAfter,
            o.progress,
            o.warmStart,
            o.cohortDir,
            o.encodersDir));
  }

  /** Write to this directory instead of {@code <output.dir>/train}. */
  public TrainAction outputDir(String dir) {
    return new TrainAction(
        spark,
        config,
        new Options(
            o.embeddingsDir,
            dir,
            o.train,
            o.models,
            o.resume,
            o.interruptAfter,
            o.progress,
            o.warmStart,
            o.cohortDir,
            o.encodersDir));
  }

  /** Override the {@code train} section. */
  public TrainAction train(TrainConfig train) {
    return new TrainAction(
        spark,
        config,
        new Options(
            o.embeddingsDir,
            o.outputDir,
            train,
            o.models,
            o.resume,
            o.interruptAfter,
            o.progress,
            o.warmStart,
            o.cohortDir,
            o.encodersDir));
  }

  public TrainAction mode(TrainConfig.Mode mode) {
    return train(o.train.withMode(mode));
  }

  /**
   * Train only these models (names as in summary.json: fusion.models keys, unimodal:&lt;m&gt;,
   * early, late, and the classical linear, gbt); default all (the classical ones: those of
   * train.classical.models).
   */
  public TrainAction models(List<String> names) {
    return new TrainAction(
        spark,
        config,
        new Options(
            o.embeddingsDir,
            o.outputDir,
            o.train,
            List.copyOf(names),
            o.resume,
            o.interruptAfter,
            o.progress,
            o.warmStart,
            o.cohortDir,
            o.encodersDir));
  }

  /** Continue each model from its last checkpoint (a finished model is reported, not retrained). */
  public TrainAction resume(boolean resume) {
    return new TrainAction(
        spark,
        config,
        new Options(
            o.embeddingsDir,
            o.outputDir,
            o.train,
            o.models,
            resume,
            o.interruptAfter,
            o.progress,
            o.warmStart,
            o.cohortDir,
            o.encodersDir));
  }

  /**
   * Stop each model after this many epochs in this run (a bounded run; continue later with resume);
   * 0 = no bound.
   */
  public TrainAction interruptAfter(int epochs) {
    return new TrainAction(
        spark,
        config,
        new Options(
            o.embeddingsDir,
            o.outputDir,
            o.train,
            o.models,
            o.resume,
            epochs,
            o.progress,
            o.warmStart,
            o.cohortDir,
            o.encodersDir));
  }

  /** Where the per-epoch progress lines go (default: the log). */
  public TrainAction progress(Consumer<String> sink) {
    return new TrainAction(
        spark,
        config,
        new Options(
            o.embeddingsDir,
            o.outputDir,
            o.train,
            o.models,
            o.resume,
            o.interruptAfter,
            sink,
            o.warmStart,
            o.cohortDir,
            o.encodersDir));
  }

  /**
   * Start fusion model {@code model} from the weights of the trained model in {@code modelDir} (a
   * registry version: the champion) instead of a fresh initialisation: same spec and embedding
   * sizes, so the same parameter layout; the updater starts fresh. Recorded in the new model's
   * provenance as {@code warmStartedFrom}.
   */
  public TrainAction warmStart(String model, String modelDir) {
    Map<String, String> w = new java.util.LinkedHashMap<>(o.warmStart);
    w.put(model, modelDir);
    return new TrainAction(
        spark,
        config,
        new Options(
            o.embeddingsDir,
            o.outputDir,
            o.train,
            o.models,
            o.resume,
            o.interruptAfter,
            o.progress,
            Map.copyOf(w),
            o.cohortDir,
            o.encodersDir));
  }

  public TrainResult execute() {
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    TrainConfig t = o.train;
    checkTrainConfig(t);
    EmbeddingsSpec emb = EmbeddingsSpec.read(hconf, o.embeddingsDir);
    List<FusionSpec> all = FusionSpec.all(config.fusion(), emb);
    List<FusionSpec> selected = select(all);
    List<String> classical = selectClassical(t.classical());
    // End-to-end models read the aligned cohort through the pretrained encoders' preprocessing.
    EndToEndInputs e2e =
        selected.stream().anyMatch(FusionSpec::endToEnd)
            ? EndToEndInputs.load(hconf, o.encodersDir, emb)
            : null;
    GraphTraining graphs = new GraphTraining(spark, config, o);
    // Compile everything first: a bad spec fails before any training.
    for (FusionSpec s : selected) {
      if (s.kind() != FusionSpec.Kind.LATE) {
        graphs.compile(s, emb, e2e);
      }
    }
    Dataset<Row> table = EmbeddingsData.table(spark, o.embeddingsDir);
    HeldOut validation =
        validation(
            table,
            emb.survival(),
            () -> EmbeddingsData.batches(table, emb, Columns.Splits.VALIDATION, EVAL_BATCH),
            () -> EmbeddingsData.collect(table, emb, Columns.Splits.VALIDATION, EVAL_BATCH));
    List<Batch> trainLocal =
        t.mode() == TrainConfig.Mode.LOCAL && selected.stream().anyMatch(x -> !x.endToEnd())
            ? EmbeddingsData.collect(table, emb, Columns.Splits.TRAIN, t.batchSize())
            : null;
    GraphTraining.Data embeddingsData =
        new GraphTraining.Data(emb, trainLocal, require -> null, validation);
    GraphTraining.Data cohortData = null;
    DiscreteTimeHazard hazard = EmbeddingsData.hazardOf(emb);
    Dataset<Row> aligned = null;
    if (e2e != null) {
      aligned = org.cohortfusion.cohort.FoldView.aligned(spark, o.cohortDir);
      Dataset<Row> cohort = aligned;
      cohortData =
          new GraphTraining.Data(
              e2e.inputs(),
              t.mode() == TrainConfig.Mode.LOCAL
                  ? CohortData.collect(
                      aligned,
                      e2e.preprocessing(),
                      emb.numClasses(),
                      hazard,
                      Columns.Splits.TRAIN,
                      t.batchSize(),
                      false)
                  : null,
              require -> null,
              validation(
                  cohort,
                  emb.survival(),
                  () ->
                      CohortData.batches(
                          cohort,
                          e2e.preprocessing(),
                          emb.numClasses(),
                          hazard,
                          Columns.Splits.VALIDATION,
                          null,
                          EVAL_BATCH,
                          false),
                  () ->
                      CohortData.collect(
                          cohort,
                          e2e.preprocessing(),
                          emb.numClasses(),
                          hazard,
                          Columns.Splits.VALIDATION,
                          EVAL_BATCH,
                          false)));
    }
    List<TrainResult.ModelResult> results = new ArrayList<>();
    TrainShards shards = new TrainShards(spark, t, config.shardsDir(), o.progress);
    Function<String, MinibatchShards> trainShards =
        require ->
            shards.of(
                "train-" + (require == null ? "all" : require),
                table,
                rows ->
                    EmbeddingsData.batches(
                        rows, emb, Columns.Splits.TRAIN, require, t.batchSize()));
    Dataset<Row> alignedRows = aligned;
    Function<String, MinibatchShards> cohortShards =
        require ->
            shards.of(
                "cohort-" + (require == null ? "all" : require),
                alignedRows,
                rows ->
                    CohortData.batches(
                        rows,
                        e2e.preprocessing(),
                        emb.numClasses(),
                        hazard,
                        Columns.Splits.TRAIN,
                        require,
                        t.batchSize(),
                        false));
    embeddingsData = embeddingsData.withShards(trainShards);
    if (cohortData != null) {
      cohortData = cohortData.withShards(cohortShards);
    }
    try {
      for (FusionSpec s : selected) {
        long t0 = System.nanoTime();
        TrainResult.ModelResult r =
            s.kind() == FusionSpec.Kind.LATE
                ? late(hconf, s, emb, validation.collected())
                : graphs.train(hconf, s, emb, s.endToEnd() ? cohortData : embeddingsData, e2e);
        results.add(r.timed((System.nanoTime() - t0) / 1e9));
      }
    } finally {
      shards.close();
      validation.release();
      if (cohortData != null) {
        cohortData.validation().release();
      }
    }
    if (!classical.isEmpty()) {
      results.addAll(
          (emb.survival()
                  ? new ClassicalBaselines(
                          spark, config.cohortOutputDir(), o.outputDir, t.classical(), o.progress)
                      .survival(emb.survivalIntervals())
                  : new ClassicalBaselines(
                      spark, config.cohortOutputDir(), o.outputDir, t.classical(), o.progress))
              .train(classical));
    }
    String summaryPath = TrainOutputs.summary(o.outputDir);
    writeSummary(hconf, summaryPath, emb, results);
    return new TrainResult(results, summaryPath);
  }

  /**
   * The validation split of {@code rows} (the embeddings table or the aligned cohort) where {@code
   * train.validation} says: on the executors, or collected to the driver; auto counts its labeled
   * rows first.
   */
  private HeldOut validation(
      Dataset<Row> rows,
      boolean survival,
      java.util.function.Supplier<org.apache.spark.api.java.JavaRDD<Batch>> batches,
      java.util.function.Supplier<List<Batch>> collect) {
    TrainConfig.ValidationOn where = o.train.validation();
    String why = "train.validation = executors";
    if (where == TrainConfig.ValidationOn.AUTO) {
      long n =
          rows.where(
                  org.apache
                      .spark
                      .sql
                      .functions
                      .col(Columns.SPLIT)
                      .equalTo(Columns.Splits.VALIDATION)
                      .and(org.apache.spark.sql.functions.col(Columns.LABEL).isNotNull()))
              .count();
      where =
          n >= TrainConfig.VALIDATION_ON_EXECUTORS_FROM
              ? TrainConfig.ValidationOn.EXECUTORS
              : TrainConfig.ValidationOn.DRIVER;
      why = "train.validation = auto, " + n + " labeled examples";
    }
    if (where == TrainConfig.ValidationOn.EXECUTORS) {
      o.progress.accept(
          "[train] validation split scored on the executors every epoch (" + why + ")");
      return HeldOut.onExecutors(batches.get(), survival);
    }
    return HeldOut.onDriver(collect.get());
  }

  private List<FusionSpec> select(List<FusionSpec> all) {
    if (o.models == null || o.models.isEmpty() || o.models.equals(List.of("all"))) {
      return all;
    }
    List<FusionSpec> out = new ArrayList<>();
    for (String name : o.models) {
      if (ClassicalConfig.NAMES.contains(name)) {
        continue;
      }
      FusionSpec s =
          all.stream()
              .filter(x -> x.name().equals(name))
              .findFirst()
              .orElseThrow(
                  () ->
                      new FusionSpecException(
                          "Cannot train model '"
                              + name
                              + "': not declared (have "
                              + all.stream().map(FusionSpec::name).toList()
                              + ")"));
      out.add(s);
    }
    return out;
  }

  /**
   * The classical baselines of this run: train.classical.models, or those named in {@link #models}.
   */
  private List<String> selectClassical(ClassicalConfig c) {
    if (o.models == null || o.models.isEmpty() || o.models.equals(List.of("all"))) {
      return c.models();
    }
    return o.models.stream().filter(ClassicalConfig.NAMES::contains).toList();
  }

  private static void checkTrainConfig(TrainConfig t) {
    require(t.epochs() > 0, "train.epochs", t.epochs());
    require(t.batchSize() > 0, "train.batch-size", t.batchSize());
    require(t.workers() == null || t.workers() > 0, "train.workers", t.workers());
    require(
        t.averagingFrequency() == null || t.averagingFrequency() > 0,
        "train.averaging-frequency",
        t.averagingFrequency());
    require(t.learningRate() > 0, "train.learning-rate", t.learningRate());
    require(t.patience() > 0, "train.patience", t.patience());
    require(t.scheduleStep() > 0, "train.schedule-step", t.scheduleStep());
    require(
        t.scheduleDecay() > 0 && t.scheduleDecay() <= 1, "train.schedule-decay", t.scheduleDecay());
  }

  private static void require(boolean ok, String key, Object value) {
    if (!ok) {
      throw new org.cohortfusion.config.ConfigException(
          "Bad value for config key '" + key + "': " + value + " is out of range");
    }
  }

  private TrainResult.ModelResult late(
      Configuration hconf, FusionSpec spec, EmbeddingsSpec emb, List<Batch> validation) {
    Map<Integer, Metrics.Predictor> members = new java.util.TreeMap<>();
    List<TrainedModels.LateModel.Member> described = new ArrayList<>();
    for (String m : spec.modalities()) {
      String memberName =
          TrainOutputs.published(FusionSpec.unimodal(m, FusionSpec.baselineTemplate()).dirName());
      String memberDir = o.outputDir + "/" + memberName;
      if (!TrainedModels.exists(hconf, memberDir + "/" + ModelArtifact.MODEL)) {
        throw new IllegalStateException(
            "Cannot build late fusion: unimodal model of '"
                + m
                + "' is missing at "
                + memberDir
                + " (train unimodal:"
                + m
                + " first)");
      }
      ModelArtifact.Loaded<ComputationGraph> loaded = ModelArtifact.loadGraph(hconf, memberDir);
      members.put(emb.indexOf(m), TrainedModels.graph(loaded.model(), new int[] {emb.indexOf(m)}));
      // Relative to the train directory, so the output can be moved or read from another working
      // directory.
      described.add(new TrainedModels.LateModel.Member(m, memberName, loaded.sha256()));
    }
    Metrics metrics =
        emb.survival()
            ? Metrics.survival(TrainedModels.lateSurvival(members), validation)
            : Metrics.evaluate(
                TrainedModels.late(members, emb.numClasses()), validation, emb.numClasses());
    TrainedModels.LateModel late =
        new TrainedModels.LateModel(spec.describe(), described, metrics.asMap());
    String dir = TrainOutputs.modelRoot(o.outputDir, spec.name()) + "/late";
    AtomicDirectory.write(
        hconf,
        dir,
        tmp -> {
          Json.write(hconf, tmp + "/" + TrainedModels.LATE_FILE, late);
          return null;
        });
    String sha = Hashing.sha256(Json.readText(hconf, dir + "/" + TrainedModels.LATE_FILE));
    o.progress.accept(
        String.format(
            Locale.ROOT,
            "[%s] val loss %.4f  val %s %.4f (mean of %d unimodal models)",
            spec.name(),
            metrics.loss(),
            metrics.rankName(),
            metrics.auroc(),
            members.size()));
    return new TrainResult.ModelResult(
        spec.name(), kindName(spec), spec.describe(), dir, sha, 0, 0, false, true, metrics, 0);
  }

  static String kindName(FusionSpec spec) {
    return spec.kind().name().toLowerCase(Locale.ROOT);
  }

  private void writeSummary(
      Configuration hconf, String path, EmbeddingsSpec emb, List<TrainResult.ModelResult> results) {
    Map<String, TrainOutputs.Entry> entries = new LinkedHashMap<>();
    if (TrainedModels.exists(hconf, path)) {
      TrainOutputs.Summary old = Json.read(hconf, path, TrainOutputs.Summary.class);
      if (emb.sha256().equals(old.embeddingsSha256())) {
        old.models().forEach(e -> entries.put(e.name(), e));
      }
    }
    for (TrainResult.ModelResult r : results) {
      entries.put(
          r.name(),
          new TrainOutputs.Entry(
              r.name(),
              r.kind(),
              r.describe(),
              r.modelDir(),
              r.sha256(),
              r.bestEpoch(),
              r.epochsRun(),
              r.stoppedEarly(),
              r.completed(),
              r.validation() == null ? Map.of() : r.validation().asMap(),
              r.parameters(),
              r.trainSeconds()));
    }
    AtomicDirectory.replaceJson(
        hconf,
        path,
        new TrainOutputs.Summary(
            emb.sha256(), BuildInfo.version(), new ArrayList<>(entries.values())));
  }
}
