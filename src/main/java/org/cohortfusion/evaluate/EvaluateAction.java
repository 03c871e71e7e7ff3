package org.cohortfusion.evaluate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.EvaluateConfig;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.stage.EvaluateOutputs;
import org.cohortfusion.stage.TrainOutputs;
import org.cohortfusion.train.Batch;
import org.cohortfusion.train.ClassicalBaselines;
import org.cohortfusion.train.CohortData;
import org.cohortfusion.train.EmbeddingsData;
import org.cohortfusion.train.EndToEndInputs;
import org.cohortfusion.train.Metrics;
import org.cohortfusion.train.TrainedModels;
import org.cohortfusion.train.classical.ClassicalModels;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The evaluate stage: every model listed in {@code <train>/summary.json} (fusion models and the
 * unimodal, early and late baselines) on the TEST split of the embeddings table, with {@link
 * ClassificationMetrics} overall, per missingness pattern, under MCAR test-time modality removal at
 * rates 0, 0.1, ..., 0.9 (robustness curves) and with each modality removed entirely (ablation) —
 * the missing-modality evaluation the review (arXiv 2408.02686) asks of intermediate fusion. For
 * generated cohorts, the AUROC of the true probability is the Bayes-optimal reference.
 *
 * <p>Writes {@code <out>/predictions} (Parquet: subject_id, model, probability, label, pattern) and
 * {@code <out>/metrics.json} ({@link EvaluateResult}), the whole directory atomically. Models are
 * SHA-256 verified on load ({@link TrainedModels#portable}). Models trained on embeddings are
 * scored on the executors ({@link ExecutorScorer}: the model broadcast once, only probabilities
 * collected); the driver keeps what the metrics need per test subject ({@link TestSplit}: no
 * embedding) and the presence of every scenario ({@link Scenarios}). Only counts and metrics are
 * logged, never subject-level values.
 */
public final class EvaluateAction {
  private static final Logger LOG = LoggerFactory.getLogger(EvaluateAction.class);

  /** The split every model is evaluated on. */
  public static final String SPLIT = Columns.Splits.TEST;

  /** Test-time MCAR removal rates of the robustness curves. */
  public static final List<Double> REMOVAL_RATES =
      List.of(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9);

  private final SparkSession spark;
  private final Options o;
  private final String cohortDir;

  record Options(
      String embeddingsDir,
      String trainDir,
      String outputDir,
      EvaluateConfig evaluate,
      Consumer<String> progress,
      String modelName,
      String modelDir) {}

  /**
   * subjects.outcome.horizons: where a survival evaluation reports time-dependent AUROC and Brier
   * score.
   */
  private final List<Double> horizons;

  private EvaluateAction(SparkSession spark, Options o, String cohortDir, List<Double> horizons) {
    this.horizons = horizons;
    this.spark = spark;
    this.o = o;
    this.cohortDir = cohortDir;
  }

  public static EvaluateAction of(SparkSession spark, PipelineConfig config) {
    return new EvaluateAction(
        spark,
        new Options(
            config.embeddingsDir(),
            config.trainOutputDir(),
            config.evaluateOutputDir(),
            config.evaluate(),
            LOG::info,
            null,
            null),
        config.cohortOutputDir(),
        config.subjects() == null ? List.of() : config.subjects().outcome().horizons());
  }

  /** Read the embeddings from this directory instead of {@code <output.dir>/embeddings}. */
  public EvaluateAction embeddingsDir(String dir) {
    return new EvaluateAction(
        spark,
        new Options(dir, o.trainDir, o.outputDir, o.evaluate, o.progress, o.modelName, o.modelDir),
        cohortDir,
        horizons);
  }

  /**
   * Read the aligned cohort (classical baselines) from this directory instead of {@code
   * <output.dir>/cohort}.
   */
  public EvaluateAction cohortDir(String dir) {
    return new EvaluateAction(spark, o, dir, horizons);
  }

  /** Read the trained models from this directory instead of {@code <output.dir>/train}. */
  public EvaluateAction trainDir(String dir) {
    return new EvaluateAction(
        spark,
        new Options(
            o.embeddingsDir, dir, o.outputDir, o.evaluate, o.progress, o.modelName, o.modelDir),
        cohortDir,
        horizons);
  }

  /** Write to this directory instead of {@code <output.dir>/evaluate}. */
  public EvaluateAction outputDir(String dir) {
    return new EvaluateAction(
        spark,
        new Options(
            o.embeddingsDir, o.trainDir, dir, o.evaluate, o.progress, o.modelName, o.modelDir),
        cohortDir,
        horizons);
  }

  /** Override the {@code evaluate} section. */
  public EvaluateAction evaluate(EvaluateConfig evaluate) {
    return new EvaluateAction(
        spark,
        new Options(
            o.embeddingsDir,
            o.trainDir,
            o.outputDir,
            evaluate,
            o.progress,
            o.modelName,
            o.modelDir),
        cohortDir,
        horizons);
  }

  /** Where the per-model progress lines go (default: the log). */
  public EvaluateAction progress(Consumer<String> sink) {
    return new EvaluateAction(
        spark,
        new Options(
            o.embeddingsDir, o.trainDir, o.outputDir, o.evaluate, sink, o.modelName, o.modelDir),
        cohortDir,
        horizons);
  }

  /**
   * Evaluate only the graph model in {@code modelDir} (e.g. a registry version), named {@code
   * name}, instead of the models of summary.json; its provenance says which embeddings it was
   * trained on.
   */
  public EvaluateAction model(String name, String modelDir) {
    return new EvaluateAction(
        spark,
        new Options(
            o.embeddingsDir, o.trainDir, o.outputDir, o.evaluate, o.progress, name, modelDir),
        cohortDir,
        horizons);
  }

  /** What both evaluations start from: the models' summary, the embeddings and the test split. */
  record Inputs(
      Configuration hconf,
      String summaryPath,
      TrainOutputs.Summary summary,
      EmbeddingsSpec emb,
      org.apache.spark.sql.Dataset<Row> table,
      TestSplit test,
      Scenarios scenarios,
      List<float[]> presence) {
    /** Every scenario's probabilities under {@code scorer}, checked to cover every scenario. */
    List<double[][]> score(Scorer scorer) {
      List<double[][]> scored = scorer.score(scenarios, presence);
      if (scored.size() != scenarios.size()) {
        throw new IllegalStateException(
            "Cannot evaluate: " + scored.size() + " of " + scenarios.size() + " scenarios scored");
      }
      return scored;
    }
  }

  private Inputs inputs() {
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    String summaryPath =
        o.modelDir != null
            ? o.modelDir + "/" + ModelArtifact.PROVENANCE
            : TrainOutputs.summary(o.trainDir);
    if (o.modelDir == null && !TrainedModels.exists(hconf, summaryPath)) {
      throw new IllegalStateException("Cannot evaluate: no " + summaryPath + " (run train first)");
    }
    EmbeddingsSpec emb = EmbeddingsSpec.read(hconf, o.embeddingsDir);
    TrainOutputs.Summary summary =
        o.modelDir != null
            ? single(hconf, emb)
            : Json.read(hconf, summaryPath, TrainOutputs.Summary.class);
    if (!emb.sha256().equals(summary.embeddingsSha256())) {
      throw new IllegalStateException(
          "Cannot evaluate: the models in "
              + summaryPath
              + " were trained on embeddings "
              + summary.embeddingsSha256()
              + ", "
              + o.embeddingsDir
              + " holds "
              + emb.sha256());
    }
    org.apache.spark.sql.Dataset<Row> table = EmbeddingsData.table(spark, o.embeddingsDir);
    TestSplit test = TestSplit.read(table, emb, SPLIT);
    if (test.size() == 0) {
      throw new IllegalStateException(
          "Cannot evaluate: the "
              + SPLIT
              + " split of "
              + o.embeddingsDir
              + " has no labeled subjects");
    }
    Scenarios scenarios =
        new Scenarios(REMOVAL_RATES, o.evaluate.seed(), emb.modalityNames().size());
    return new Inputs(
        hconf, summaryPath, summary, emb, table, test, scenarios, scenarios.presence(test));
  }

  /**
   * Whether the embeddings hold a survival outcome: then {@link #executeSurvival}, not {@link
   * #execute}.
   */
  public boolean survival() {
    return EmbeddingsSpec.read(spark.sparkContext().hadoopConfiguration(), o.embeddingsDir)
        .survival();
  }

  /**
   * Evaluates survival models ({@link SurvivalEvaluation}): every completed model of the summary,
   * graphs on embeddings or end to end, late fusion and classical hazard models. Writes predictions
   * (subject_id, model, risk = 1 - S(last interval bound), duration, event, pattern) and
   * metrics.json atomically. Runs in {@link SurvivalEvaluateRun} on this evaluation's inputs and
   * scorers.
   */
  public SurvivalEvaluation.Result executeSurvival() {
    return new SurvivalEvaluateRun(spark, o, horizons, this::scorerOf).execute(inputs());
  }

  /**
   * How one model of the summary is scored: an end-to-end model from the aligned cohort on the
   * driver, a classical baseline by its Spark ML pipeline, any other model on the executors.
   */
  private Scorer scorerOf(TrainOutputs.Entry entry, Inputs in) {
    Configuration hconf = in.hconf();
    String graphDir =
        o.modelDir != null ? o.modelDir : TrainOutputs.published(o.trainDir, entry.name());
    boolean classical = ClassicalBaselines.KIND.equals(entry.kind());
    if (o.modelDir == null) {
      checkPublished(hconf, o.trainDir, entry, in.summaryPath());
    }
    if (!classical && needsCohort(hconf, graphDir)) {
      return cohortScorer(hconf, graphDir, in.emb(), in.test());
    }
    if (o.modelDir != null) {
      return executorScorer(TrainedModels.portableAt(hconf, o.modelDir, in.emb()), in);
    }
    return classical
        ? new ClassicalScorer(
            ClassicalModels.load(hconf, classicalDir(o.trainDir, entry.name())),
            ClassicalBaselines.labeled(spark, cohortDir),
            in.test())
        : executorScorer(
            TrainedModels.portable(hconf, o.trainDir, TrainOutputs.dirName(entry.name()), in.emb()),
            in);
  }

  public EvaluateResult execute() {
    Inputs in = inputs();
    if (in.emb().survival()) {
      throw new IllegalStateException(
          "Cannot evaluate class metrics: "
              + o.embeddingsDir
              + " holds a survival outcome"
              + " (use executeSurvival)");
    }
    Configuration hconf = in.hconf();
    String summaryPath = in.summaryPath();
    EmbeddingsSpec emb = in.emb();
    TrainOutputs.Summary summary = in.summary();
    org.apache.spark.sql.Dataset<Row> table = in.table();
    TestSplit test = in.test();
    o.progress.accept(
        "Evaluating "
            + summary.models().size()
            + " model(s) on "
            + test.size()
            + " labeled "
            + SPLIT
            + " subjects");
    Double bayes = bayesOptimalAuroc(test, emb.numClasses());
    Double observable =
        referenceAuroc(test.observableProbability(), test.labels(), emb.numClasses());
    String[] patterns = test.patterns();
    List<EvaluateResult.ModelEvaluation> evaluations = new ArrayList<>();
    Map<String, double[][]> predictions = new LinkedHashMap<>();
    for (TrainOutputs.Entry entry : summary.models()) {
      if (!entry.completed() || entry.modelDir() == null) {
        o.progress.accept("[" + entry.name() + "] skipped: training did not complete");
        continue;
      }
      Evaluated e = evaluateModel(entry, scorerOf(entry, in), in, patterns, bayes);
      predictions.put(entry.name(), e.probabilities());
      evaluations.add(e.evaluation());
      o.progress.accept(
          String.format(
              java.util.Locale.ROOT,
              "[%s] test AUROC %.4f  AUPRC %.4f  Brier %.4f  ECE %.4f  "
                  + "AUROC at removal 0.9: %.4f",
              entry.name(),
              e.evaluation().test().auroc(),
              e.evaluation().test().auprc(),
              e.evaluation().test().brier(),
              e.evaluation().test().ece(),
              e.evaluation().robustness().get(e.evaluation().robustness().size() - 1).auroc()));
    }
    if (evaluations.isEmpty()) {
      throw new IllegalStateException(
          "Cannot evaluate: " + summaryPath + " lists no completed model");
    }
    List<EvaluateResult.UnimodalBaseline> baselines = new ArrayList<>();
    if (o.modelDir == null) {
      baselines = encoderHeads(in, patterns, bayes, evaluations, predictions);
    }
    String out = o.outputDir;
    EvaluateResult unpaired =
        new EvaluateResult(
            SPLIT,
            emb.numClasses(),
            test.size(),
            bayes,
            o.evaluate.minPatternSize(),
            REMOVAL_RATES,
            evaluations,
            out + "/" + EvaluateOutputs.PREDICTIONS,
            out + "/" + EvaluateOutputs.METRICS,
            List.of(),
            observable,
            baselines);
    EvaluateResult result =
        unpaired.withComparisons(
            comparisons(unpaired, predictions, test.labels(), emb.numClasses()));
    AtomicDirectory.write(
        hconf,
        out,
        tmp -> {
          PredictionsTable.writeClasses(
              spark,
              tmp + "/" + EvaluateOutputs.PREDICTIONS,
              test,
              patterns,
              predictions,
              emb.numClasses());
          Json.write(hconf, tmp + "/" + EvaluateOutputs.METRICS, result);
          return null;
        });
    return result;
  }

  /**
   * Pretrain's encoders with their own softmax heads as unimodal models ("encoder:m", from the head
   * probabilities extract wrote), evaluated like the others, and per modality the choice between it
   * and train's head on the frozen embedding ("unimodal:m") on validation AUROC ({@link
   * EncoderHeads}). Adds to {@code evaluations} and {@code predictions}.
   */
  private List<EvaluateResult.UnimodalBaseline> encoderHeads(
      Inputs in,
      String[] patterns,
      Double bayes,
      List<EvaluateResult.ModelEvaluation> evaluations,
      Map<String, double[][]> predictions) {
    org.apache.spark.sql.Dataset<Row> table = in.table();
    EmbeddingsSpec emb = in.emb();
    TrainOutputs.Summary summary = in.summary();
    List<String> names = emb.modalityNames();
    if (!EncoderHeads.available(table, names)) {
      o.progress.accept(
          "No encoder-head probabilities in "
              + o.embeddingsDir
              + " (extracted by an older version): the"
              + " unimodal baselines are train's heads on the frozen embeddings only");
      return List.of();
    }
    int k = emb.numClasses();
    double[] prior = EncoderHeads.trainPrior(table, k);
    int[] validationLabels = EncoderHeads.labels(table, Columns.Splits.VALIDATION);
    List<EvaluateResult.UnimodalBaseline> out = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      String m = names.get(i);
      Double encoderValidation = EncoderHeads.validationAuroc(table, m, validationLabels, prior, k);
      String frozenName = EncoderHeads.FROZEN_PREFIX + m;
      TrainOutputs.Entry frozen =
          summary.models().stream()
              .filter(e -> e.name().equals(frozenName) && e.completed() && e.modelDir() != null)
              .findFirst()
              .orElse(null);
      Double frozenValidation =
          frozen == null || frozen.validation() == null ? null : frozen.validation().get("auroc");
      Map<String, Double> validation =
          encoderValidation == null ? Map.of() : Map.of("auroc", encoderValidation);
      TrainOutputs.Entry entry =
          new TrainOutputs.Entry(
              EncoderHeads.NAME_PREFIX + m,
              "unimodal",
              "pretrain encoder + its softmax head (" + m + ")",
              null,
              null,
              0,
              0,
              false,
              true,
              validation);
      Evaluated e =
          evaluateModel(
              entry,
              EncoderHeads.scorer(
                  EncoderHeads.checkedWidth(EncoderHeads.read(table, m, SPLIT), m, k),
                  i,
                  prior,
                  names.size()),
              in,
              patterns,
              bayes);
      predictions.put(entry.name(), e.probabilities());
      evaluations.add(e.evaluation());
      EvaluateResult.UnimodalBaseline choice =
          EncoderHeads.choose(m, encoderValidation, frozenValidation, frozen != null);
      out.add(choice);
      o.progress.accept(
          String.format(
              java.util.Locale.ROOT,
              "[%s] test AUROC %.4f; %s",
              entry.name(),
              e.evaluation().test().auroc(),
              choice.describe()));
    }
    return out;
  }

  /**
   * Paired AUROC differences on the same test subjects (binary cohorts with both classes): every
   * model against the best unimodal model, and the best fusion against the best classical baseline.
   * None for other cohorts.
   */
  static List<EvaluateResult.Comparison> comparisons(
      EvaluateResult r, Map<String, double[][]> predictions, int[] labels, int numClasses) {
    long positives = java.util.Arrays.stream(labels).filter(y -> y == 1).count();
    if (numClasses != 2 || positives < 2 || labels.length - positives < 2) {
      return List.of();
    }
    PairedComparisons out = new PairedComparisons(predictions, labels);
    r.bestUnimodal().ifPresent(u -> r.models().forEach(m -> out.add(m.name(), u.name())));
    r.best("fusion")
        .ifPresent(f -> r.best("classical").ifPresent(c -> out.add(f.name(), c.name())));
    r.chosenOnValidation("fusion")
        .ifPresent(
            f -> r.chosenOnValidation("classical").ifPresent(c -> out.add(f.name(), c.name())));
    return out.list();
  }

  /**
   * The model published under the train directory must be the one train recorded in summary.json: a
   * model replaced since (a later retrain of another summary, a copy by hand) would be evaluated
   * under the wrong name. Returns its SHA-256 (model.zip's, or late.json's for late fusion).
   */
  public static String checkPublished(
      Configuration hconf, String trainDir, TrainOutputs.Entry entry, String summaryPath) {
    if (entry.sha256() == null) {
      throw new IllegalStateException(
          "Cannot evaluate '" + entry.name() + "': " + summaryPath + " records no SHA-256");
    }
    String dir = TrainOutputs.modelRoot(trainDir, entry.name());
    String late = dir + "/late/" + TrainedModels.LATE_FILE;
    String where;
    String actual;
    if (ClassicalBaselines.KIND.equals(entry.kind())) {
      where = classicalDir(trainDir, entry.name()) + "/" + ModelArtifact.MANIFEST;
      actual = ClassicalModels.sha256(hconf, classicalDir(trainDir, entry.name()));
    } else if (TrainedModels.exists(hconf, late)) {
      where = late;
      actual = org.cohortfusion.io.Hashing.sha256(Json.readText(hconf, late));
    } else {
      where = dir + "/model/" + org.cohortfusion.io.ModelArtifact.MODEL;
      actual =
          org.cohortfusion.io.Hashing.sha256(
              org.cohortfusion.io.ModelArtifact.verified(hconf, TrainOutputs.published(dir)));
    }
    if (!actual.equalsIgnoreCase(entry.sha256())) {
      throw new IllegalStateException(
          "Cannot evaluate '"
              + entry.name()
              + "': "
              + where
              + " has SHA-256 "
              + actual
              + ", "
              + summaryPath
              + " says "
              + entry.sha256());
    }
    return actual;
  }

  /**
   * The one-model summary of {@link #model}: from its verified provenance. A model trained on
   * another snapshot extracted with the same encoders (same {@link EmbeddingsSpec#encodersSha256})
   * is scored on these embeddings: that is how a champion meets a new snapshot's test subjects.
   */
  private TrainOutputs.Summary single(Configuration hconf, EmbeddingsSpec current) {
    ModelArtifact.Verified v = ModelArtifact.verify(hconf, o.modelDir);
    ModelArtifact.Provenance p = v.provenance();
    Map<String, Object> conf = p.config() == null ? Map.of() : p.config();
    Object emb = conf.get("embeddingsSha256");
    if (emb == null) {
      throw new IllegalStateException(
          "Cannot evaluate "
              + o.modelName
              + ": the provenance of "
              + o.modelDir
              + " names no embeddings (not a fusion model)");
    }
    String trainedOn = emb.toString();
    if (current.encodersSha256().equals(conf.get("encodersSha256"))) {
      trainedOn = current.sha256();
    }
    return new TrainOutputs.Summary(
        trainedOn,
        p.codeVersion(),
        List.of(
            new TrainOutputs.Entry(
                o.modelName,
                p.kind(),
                String.valueOf(conf.getOrDefault("describe", p.kind())),
                o.modelDir,
                org.cohortfusion.io.Hashing.sha256(v.model()),
                0,
                0,
                false,
                true,
                p.metrics())));
  }

  /**
   * Whether the graph model in {@code modelDir} is end to end (its provenance says it needs the
   * aligned cohort).
   */
  private static boolean needsCohort(Configuration hconf, String modelDir) {
    String provenance = modelDir + "/" + ModelArtifact.PROVENANCE;
    return TrainedModels.exists(hconf, provenance)
        && EndToEndInputs.needsCohort(Json.read(hconf, provenance, ModelArtifact.Provenance.class));
  }

  /**
   * The scorer of an end-to-end model: the test subjects' features from the aligned cohort,
   * preprocessed with the preprocessing the model records (pretrain's train-split fit), in the test
   * split's subject order.
   */
  private Scorer cohortScorer(
      Configuration hconf, String modelDir, EmbeddingsSpec emb, TestSplit test) {
    ModelArtifact.Provenance p =
        Json.read(hconf, modelDir + "/" + ModelArtifact.PROVENANCE, ModelArtifact.Provenance.class);
    List<ModalityPreprocessing> preps = EndToEndInputs.preprocessing(p, modelDir);
    int[] index = new int[preps.size()];
    for (int j = 0; j < preps.size(); j++) {
      index[j] = emb.indexOf(preps.get(j).modality());
      if (index[j] < 0) {
        throw new IllegalStateException(
            "Cannot evaluate "
                + modelDir
                + ": its modality '"
                + preps.get(j).modality()
                + "' is not in the embeddings "
                + emb.modalityNames());
      }
    }
    Metrics.Predictor predictor =
        TrainedModels.graphAt(hconf, modelDir, EndToEndInputs.describe(preps, emb.classes()));
    Dataset<Row> aligned = org.cohortfusion.cohort.FoldView.aligned(spark, cohortDir);
    if (!CohortData.subjectIds(aligned, SPLIT).equals(test.subjectIds())) {
      throw new IllegalStateException(
          "Cannot evaluate end-to-end model "
              + modelDir
              + ": the labeled "
              + SPLIT
              + " subjects of the cohort "
              + cohortDir
              + " are not those of the embeddings "
              + o.embeddingsDir);
    }
    List<Batch> features =
        CohortData.collect(
            aligned, preps, emb.numClasses(), null, SPLIT, o.evaluate.batchSize(), true);
    return new CohortScorer(predictor, features, index, emb.modalityNames().size());
  }

  /** The scorer of a model trained on embeddings: on the executors, the model broadcast once. */
  private ExecutorScorer executorScorer(org.cohortfusion.train.PortableModel model, Inputs in) {
    return new ExecutorScorer(
        model, in.table(), in.emb(), o.evaluate.batchSize(), in.test().size());
  }

  /** Reads {@code metrics.json} of an evaluate output directory. */
  public static EvaluateResult read(Configuration conf, String evaluateDir) {
    return Json.read(conf, evaluateDir + "/" + EvaluateOutputs.METRICS, EvaluateResult.class);
  }

  /**
   * Reads {@code metrics.json} of an evaluate output directory that evaluated a survival outcome.
   *
   * @throws IllegalStateException when the file is a class-label evaluation
   */
  public static SurvivalEvaluation.Result readSurvival(Configuration conf, String evaluateDir) {
    String path = evaluateDir + "/" + EvaluateOutputs.METRICS;
    SurvivalEvaluation.Result r = Json.read(conf, path, SurvivalEvaluation.Result.class);
    if (!"survival".equals(r.outcome())) {
      throw new IllegalStateException(
          "Cannot read " + path + " as a survival evaluation: it evaluated class labels");
    }
    return r;
  }

  /** A model's evaluation and its test-split probabilities (for predictions/). */
  private record Evaluated(EvaluateResult.ModelEvaluation evaluation, double[][] probabilities) {}

  /**
   * Every scenario of one model: the test split as it is, MCAR removal at every rate, and every
   * modality removed entirely ({@link Scenarios}); scored together ({@link Scorer}).
   */
  private Evaluated evaluateModel(
      TrainOutputs.Entry entry, Scorer scorer, Inputs in, String[] patterns, Double bayes) {
    TestSplit test = in.test();
    EmbeddingsSpec emb = in.emb();
    int k = emb.numClasses();
    List<double[][]> scored = in.score(scorer);
    double[][] probabilities = scored.get(0);
    ClassificationMetrics overall = ClassificationMetrics.of(probabilities, test.labels(), k);
    List<EvaluateResult.PatternMetrics> byPattern =
        perPattern(probabilities, test.labels(), patterns, k, o.evaluate.minPatternSize());
    List<ClassificationMetrics> robustness = new ArrayList<>();
    robustness.add(overall);
    for (int r = 1; r < REMOVAL_RATES.size(); r++) {
      robustness.add(ClassificationMetrics.of(scored.get(r), test.labels(), k));
    }
    Map<String, ClassificationMetrics> ablation = new TreeMap<>();
    for (int i = 0; i < emb.modalityNames().size(); i++) {
      ablation.put(
          emb.modalityNames().get(i),
          ClassificationMetrics.of(scored.get(REMOVAL_RATES.size() + i), test.labels(), k));
    }
    Double validation = entry.validation() == null ? null : entry.validation().get("auroc");
    Double distance = bayes == null ? null : bayes - overall.auroc();
    return new Evaluated(
        new EvaluateResult.ModelEvaluation(
            entry.name(),
            entry.kind(),
            entry.describe(),
            validation,
            overall,
            distance,
            byPattern,
            robustness,
            ablation,
            bayes == null ? null : distance(probabilities, test.trueProbability(), test.labels()),
            referenceAuroc(test.observableProbability(), test.labels(), k) == null
                ? null
                : distance(probabilities, test.observableProbability(), test.labels())),
        probabilities);
  }

  /** Where train publishes classical baseline {@code name}. */
  static String classicalDir(String trainDir, String name) {
    return TrainOutputs.modelRoot(trainDir, name) + "/" + ClassicalModels.DIR;
  }

  /**
   * Metrics per missingness pattern, computed on exactly the subjects with that pattern; patterns
   * in descending order of size.
   */
  public static List<EvaluateResult.PatternMetrics> perPattern(
      double[][] probabilities,
      int[] labels,
      String[] patterns,
      int numClasses,
      int minPatternSize) {
    List<EvaluateResult.PatternMetrics> out = new ArrayList<>();
    for (Map.Entry<String, int[]> e : rowsByPattern(patterns).entrySet()) {
      int[] idx = e.getValue();
      double[][] p = new double[idx.length][];
      int[] y = new int[idx.length];
      for (int j = 0; j < idx.length; j++) {
        p[j] = probabilities[idx[j]];
        y[j] = labels[idx[j]];
      }
      out.add(
          new EvaluateResult.PatternMetrics(
              e.getKey(),
              idx.length,
              idx.length < minPatternSize,
              ClassificationMetrics.of(p, y, numClasses)));
    }
    return out;
  }

  /**
   * The rows of every missingness pattern, largest pattern first (equal sizes by pattern); shared
   * by the class-label and the survival per-pattern metrics.
   */
  static Map<String, int[]> rowsByPattern(String[] patterns) {
    Map<String, List<Integer>> rows = new TreeMap<>();
    for (int i = 0; i < patterns.length; i++) {
      rows.computeIfAbsent(patterns[i], p -> new ArrayList<>()).add(i);
    }
    Map<String, int[]> out = new java.util.LinkedHashMap<>();
    rows.entrySet().stream()
        .sorted((a, b) -> Integer.compare(b.getValue().size(), a.getValue().size()))
        .forEach(
            e -> out.put(e.getKey(), e.getValue().stream().mapToInt(Integer::intValue).toArray()));
    return out;
  }

  /** Predicted class probabilities of consecutive batches, one row per subject. */
  public static double[][] predict(Metrics.Predictor predictor, List<Batch> batches) {
    List<double[]> rows = new ArrayList<>();
    for (Batch b : batches) {
      if (b.size() == 0) {
        continue;
      }
      double[][] p =
          predictor.predict(b).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleMatrix();
      rows.addAll(Arrays.asList(p));
    }
    return rows.toArray(new double[0][]);
  }

  /**
   * AUROC of the generator's true probability against the label: the Bayes-optimal AUROC (binary
   * cohorts only).
   */
  static Double bayesOptimalAuroc(TestSplit test, int numClasses) {
    return referenceAuroc(test.trueProbability(), test.labels(), numClasses);
  }

  /**
   * AUROC of a reference probability (true or observable-optimal) against the label; null if none
   * or not binary.
   */
  static Double referenceAuroc(double[] reference, int[] labels, int numClasses) {
    if (reference == null || numClasses != 2) {
      return null;
    }
    double auroc = ClassificationMetrics.binaryAuroc(reference, labels);
    return Double.isNaN(auroc) ? null : auroc;
  }

  /** A binary model's distance to a reference probability on the same subjects. */
  static EvaluateResult.ReferenceDistance distance(
      double[][] probabilities, double[] reference, int[] labels) {
    double[] p = PairedComparisons.positive(probabilities);
    double abs = 0.0, brierModel = 0.0, brierReference = 0.0;
    for (int i = 0; i < p.length; i++) {
      abs += Math.abs(p[i] - reference[i]);
      brierModel += (p[i] - labels[i]) * (p[i] - labels[i]);
      brierReference += (reference[i] - labels[i]) * (reference[i] - labels[i]);
    }
    int n = p.length;
    return new EvaluateResult.ReferenceDistance(
        ClassificationMetrics.binaryAuroc(reference, labels)
            - ClassificationMetrics.binaryAuroc(p, labels),
        abs / n,
        (brierModel - brierReference) / n);
  }
}
