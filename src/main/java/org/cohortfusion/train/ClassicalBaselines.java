package org.cohortfusion.train;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Predictor;
import org.apache.spark.ml.classification.GBTClassifier;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamPair;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.config.ClassicalConfig;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.BuildInfo;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.train.classical.ClassicalFeatures;
import org.cohortfusion.train.classical.ClassicalModels;
import org.cohortfusion.train.classical.PersonPeriod;

/**
 * Classical baselines fitted by Spark ML on the raw aligned cohort, with the pipeline's own splits:
 * {@code linear} (elastic-net logistic regression, Spark ML {@code LogisticRegression}; Zou and
 * Hastie 2005) and {@code gbt} (gradient-boosted trees, {@code GBTClassifier}; Friedman 2001).
 * Features: {@link ClassicalFeatures}, fitted on the train split only. The grid point is chosen by
 * validation AUROC ({@code BinaryClassificationEvaluator}) in an explicit loop: Spark ML's {@code
 * TrainValidationSplit} draws its own random split and cannot use the cohort's.
 *
 * <p>Each model is published atomically ({@link AtomicDirectory}) at {@code
 * <train>/<name>/classical}: the previous model stays in place until the new one replaces it. Only
 * counts and metrics are reported, never subject values.
 */
public final class ClassicalBaselines {
  /** Kind of a classical baseline in summary.json and metrics.json. */
  public static final String KIND = "classical";

  private final SparkSession spark;
  private final String cohortDir;
  private final String outputDir;
  private final ClassicalConfig config;
  private final Consumer<String> progress;
  private final DiscreteTimeHazard hazard;

  public ClassicalBaselines(
      SparkSession spark,
      String cohortDir,
      String outputDir,
      ClassicalConfig config,
      Consumer<String> progress) {
    this(spark, cohortDir, outputDir, config, progress, null);
  }

  private ClassicalBaselines(
      SparkSession spark,
      String cohortDir,
      String outputDir,
      ClassicalConfig config,
      Consumer<String> progress,
      DiscreteTimeHazard hazard) {
    this.spark = spark;
    this.cohortDir = cohortDir;
    this.outputDir = outputDir;
    this.config = config;
    this.progress = progress;
    this.hazard = hazard;
  }

  /**
   * The same baselines for a survival outcome cut at {@code cuts}: each classifier is fitted on the
   * train subjects' {@link PersonPeriod} rows and predicts one hazard per interval; the grid point
   * is chosen by the validation split's concordance at interval resolution ({@link
   * Metrics#survival(double[][], int[])}), as the fusion models' epochs are.
   */
  public ClassicalBaselines survival(List<Double> cuts) {
    return new ClassicalBaselines(
        spark,
        cohortDir,
        outputDir,
        config,
        progress,
        new DiscreteTimeHazard(cuts.stream().mapToDouble(Double::doubleValue).toArray()));
  }

  /** Labeled rows of the aligned cohort (ingest's output). */
  public static Dataset<Row> labeled(SparkSession spark, String cohortDir) {
    return org.cohortfusion.cohort.FoldView.aligned(spark, cohortDir)
        .where(col(Columns.LABEL).isNotNull());
  }

  /** Trains and publishes the named baselines (linear, gbt) in that order. */
  public List<TrainResult.ModelResult> train(List<String> names) {
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    CohortManifest cohort = CohortManifest.read(hconf, cohortDir);
    if (cohort.classes().size() != 2) {
      throw new IllegalStateException(
          "Cannot train classical baselines "
              + names
              + ": they need a binary label, the"
              + " cohort has "
              + cohort.classes().size()
              + " classes (set train.classical.models = [])");
    }
    long t0 = System.nanoTime();
    Dataset<Row> prepared =
        ClassicalFeatures.prepare(labeled(spark, cohortDir), cohort.modalities());
    // Local checkpoints (Spark's own, kept by the block manager): every later query starts from a
    // plain scan of the
    // computed rows instead of re-planning the wide feature expressions; with hundreds of optimiser
    // iterations and
    // grid points, planning, not computing, was where the time went on a small cohort. Spark's
    // ContextCleaner
    // removes their blocks once the datasets are garbage.
    Dataset<Row> train =
        prepared.where(col(Columns.SPLIT).equalTo(Columns.Splits.TRAIN)).localCheckpoint();
    Dataset<Row> validation =
        prepared.where(col(Columns.SPLIT).equalTo(Columns.Splits.VALIDATION)).localCheckpoint();
    List<TrainResult.ModelResult> results = new ArrayList<>();
    // The transforms are fitted once, on the train rows only; every grid point shares them.
    ClassicalFeatures.Stages stages =
        ClassicalFeatures.stages(
            cohort.modalities(), config.imageComponents(), config.textFeatures());
    PipelineModel expand = fitImputation(stages, train, cohort);
    Dataset<Row> narrow =
        expand
            .transform(train)
            .select(
                stages.narrow().stream()
                    .map(c -> col(c))
                    .toArray(org.apache.spark.sql.Column[]::new))
            .localCheckpoint();
    double expandSeconds = (System.nanoTime() - t0) / 1e9;
    PipelineModel finish =
        new Pipeline().setStages(stages.finish().toArray(new PipelineStage[0])).fit(narrow);
    PipelineModel features =
        new Pipeline().setStages(new PipelineStage[] {expand, finish}).fit(train.limit(0));
    Dataset<Row> trainF =
        features
            .transform(train)
            .select(outcome(Columns.LABEL, ClassicalFeatures.FEATURES))
            .localCheckpoint();
    Dataset<Row> validationF =
        features
            .transform(validation)
            .select(outcome(Columns.SUBJECT_ID, Columns.LABEL, ClassicalFeatures.FEATURES))
            .localCheckpoint();
    long nTrain = trainF.count();
    long nValidation = validationF.count();
    int size =
        trainF.first().<org.apache.spark.ml.linalg.Vector>getAs(ClassicalFeatures.FEATURES).size();
    progress.accept(
        String.format(
            Locale.ROOT,
            "[classical] %d features per subject from %d modalities, fitted on %d"
                + " train subjects in %.1fs (imputation %.1fs; %d validation subjects)",
            size,
            cohort.modalities().size(),
            nTrain,
            (System.nanoTime() - t0) / 1e9,
            expandSeconds,
            nValidation));
    for (String name : names) {
      results.add(trainOne(hconf, name, cohort, features, train, trainF, validationF, size));
    }
    return results;
  }

  /** The columns, and a survival outcome's duration. */
  private org.apache.spark.sql.Column[] outcome(String... names) {
    List<org.apache.spark.sql.Column> cols = new ArrayList<>();
    for (String n : names) {
      cols.add(col(n));
    }
    if (hazard != null) {
      cols.add(col(Columns.DURATION));
    }
    return cols.toArray(new org.apache.spark.sql.Column[0]);
  }

  /**
   * The imputation phase; a feature without any value among the train subjects has no train mean,
   * and Spark ML's message names only its internal column: the error names the feature.
   */
  private static PipelineModel fitImputation(
      ClassicalFeatures.Stages stages, Dataset<Row> train, CohortManifest cohort) {
    try {
      return new Pipeline().setStages(stages.expand().toArray(new PipelineStage[0])).fit(train);
    } catch (Exception e) { // Spark throws its checked SparkException undeclared
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("cf_\\d+_[a-z]+\\d+")
              .matcher(String.valueOf(e.getMessage()));
      if (String.valueOf(e.getMessage()).contains("surrogate cannot be computed") && m.find()) {
        throw new IllegalStateException(
            "Cannot train classical baselines: no train subject has a value of feature '"
                + ClassicalFeatures.describe(cohort.modalities(), m.group())
                + "' (nothing to impute it with)",
            e);
      }
      throw e instanceof RuntimeException re
          ? re
          : new IllegalStateException("Cannot train classical baselines: " + e.getMessage(), e);
    }
  }

  private TrainResult.ModelResult trainOne(
      Configuration hconf,
      String name,
      CohortManifest cohort,
      PipelineModel features,
      Dataset<Row> train,
      Dataset<Row> trainF,
      Dataset<Row> validationF,
      int size) {
    long t0 = System.nanoTime();
    if (hazard != null) {
      return trainSurvival(hconf, name, cohort, features, train, trainF, validationF, size, t0);
    }
    Predictor<?, ?, ?> estimator = estimator(name);
    BinaryClassificationEvaluator evaluator =
        new BinaryClassificationEvaluator()
            .setMetricName("areaUnderROC")
            .setLabelCol(Columns.LABEL)
            .setRawPredictionCol("rawPrediction");
    Choice<Double> best =
        choose(
            estimator,
            grid(name, estimator),
            trainF,
            m -> evaluator.evaluate(m.transform(validationF)),
            Double::doubleValue);
    // Only transformers: Pipeline.fit checks the schema and joins them into one PipelineModel,
    // nothing is refitted.
    PipelineModel model =
        new Pipeline().setStages(new PipelineStage[] {features, best.model()}).fit(train.limit(0));
    Metrics validation = validationMetrics(best.model(), validationF);
    ClassicalModels.Description d = description(name, estimator, best, cohort, size, validation);
    return publish(hconf, name, model, d, validation, best.points().size(), t0);
  }

  /**
   * The chosen grid point of a baseline: its fitted model, parameters and validation result, and
   * every grid point's validation score in grid order.
   */
  private record Choice<V>(
      Model<?> model, ParamMap params, V validation, List<ClassicalModels.GridPoint> points) {}

  /**
   * Fits {@code estimator} on {@code rows} at every point of {@code grid} and keeps the one whose
   * validation result ({@code validate}) has the highest {@code score}.
   */
  private static <V> Choice<V> choose(
      Predictor<?, ?, ?> estimator,
      ParamMap[] grid,
      Dataset<Row> rows,
      Function<Model<?>, V> validate,
      ToDoubleFunction<V> score) {
    List<ClassicalModels.GridPoint> points = new ArrayList<>();
    Model<?> best = null;
    ParamMap bestParams = null;
    V bestValidation = null;
    double bestScore = Double.NaN;
    for (ParamMap p : grid) {
      Model<?> m = (Model<?>) estimator.fit(rows, p);
      V v = validate.apply(m);
      double s = score.applyAsDouble(v);
      points.add(new ClassicalModels.GridPoint(asMap(p), s));
      // Strictly better only: on ties the earlier (in grid order: more regularised / smaller) point
      // stays. The first point is taken whatever its score: a validation split without a
      // comparable pair has no concordance (NaN), and a model must still be published.
      if (best == null || s > bestScore) {
        best = m;
        bestParams = p;
        bestValidation = v;
        bestScore = s;
      }
    }
    return new Choice<>(best, bestParams, bestValidation, points);
  }

  /** What a fitted baseline is, for classical.json, the report and provenance. */
  private ClassicalModels.Description description(
      String name,
      Predictor<?, ?, ?> estimator,
      Choice<?> best,
      CohortManifest cohort,
      int size,
      Metrics validation) {
    Map<String, Object> chosen = asMap(best.params());
    String outcome =
        hazard == null
            ? ""
            : String.format(
                Locale.ROOT,
                ", discrete-time hazard over %d intervals (person-period rows),",
                hazard.intervals());
    String describe =
        String.format(
            Locale.ROOT,
            "%s%s%s on raw features of %s (%d features)",
            estimator.getClass().getSimpleName(),
            chosen,
            outcome,
            cohort.modalities().stream().map(m -> m.name()).toList(),
            size);
    return new ClassicalModels.Description(
        name,
        estimator.getClass().getName(),
        describe,
        chosen,
        best.points(),
        cohort.modalities(),
        ClassicalFeatures.layout(cohort.modalities()).numericNames(),
        size,
        cohort.inputFingerprint(),
        BuildInfo.version(),
        validation.asMap(),
        hazard == null ? null : java.util.Arrays.stream(hazard.cuts()).boxed().toList());
  }

  /** Publishes one fitted baseline atomically and reports it. */
  private TrainResult.ModelResult publish(
      Configuration hconf,
      String name,
      PipelineModel model,
      ClassicalModels.Description d,
      Metrics validation,
      int gridPoints,
      long t0) {
    String dir = outputDir + "/" + name + "/" + ClassicalModels.DIR;
    String sha =
        AtomicDirectory.write(
            hconf,
            dir,
            tmp -> {
              model.write().save(tmp + "/" + ClassicalModels.PIPELINE);
              Json.write(hconf, tmp + "/" + ClassicalModels.FILE, d);
              return ModelArtifact.writeManifest(hconf, tmp);
            });
    progress.accept(
        String.format(
            Locale.ROOT,
            "[%s] %d grid points, chosen %s: val loss %.4f  val %s %.4f  (%.1fs)",
            name,
            gridPoints,
            d.chosen(),
            validation.loss(),
            d.survival() ? "C" : "AUROC",
            validation.auroc(),
            (System.nanoTime() - t0) / 1e9));
    return new TrainResult.ModelResult(
        name, KIND, d.describe(), dir, sha, 0, 0, false, true, validation, 0);
  }

  private Predictor<?, ?, ?> estimator(String name) {
    return switch (name) {
      case "linear" ->
          new LogisticRegression()
              .setFamily("binomial")
              .setMaxIter(config.linear().maxIter())
              .setLabelCol(labelColumn())
              .setFeaturesCol(featuresColumn());
      case "gbt" ->
          new GBTClassifier()
              .setStepSize(config.gbt().stepSize())
              .setSeed(config.seed())
              .setLabelCol(labelColumn())
              .setFeaturesCol(featuresColumn());
      default ->
          throw new IllegalArgumentException(
              "Cannot train classical baseline '"
                  + name
                  + "': expected one of "
                  + new java.util.TreeSet<>(ClassicalConfig.NAMES));
    };
  }

  private String labelColumn() {
    return hazard == null ? Columns.LABEL : PersonPeriod.EVENT;
  }

  private String featuresColumn() {
    return hazard == null ? ClassicalFeatures.FEATURES : PersonPeriod.FEATURES;
  }

  /**
   * A survival baseline: the classifier fitted on the train subjects' person-period rows at every
   * grid point, the point with the highest validation concordance kept (ties: the earlier, more
   * regularised one), published with the feature transforms and the interval assembler.
   */
  private TrainResult.ModelResult trainSurvival(
      Configuration hconf,
      String name,
      CohortManifest cohort,
      PipelineModel features,
      Dataset<Row> train,
      Dataset<Row> trainF,
      Dataset<Row> validationF,
      int size,
      long t0) {
    int intervals = hazard.intervals();
    org.apache.spark.ml.feature.VectorAssembler assembler = PersonPeriod.assembler(intervals);
    Dataset<Row> rows =
        assembler
            .transform(PersonPeriod.atRisk(trainF, hazard.codeColumn(), intervals))
            .select(PersonPeriod.EVENT, PersonPeriod.FEATURES)
            .localCheckpoint();
    Dataset<Row> validationRows =
        assembler.transform(PersonPeriod.everyInterval(validationF, intervals)).localCheckpoint();
    List<Row> codeRows =
        validationF
            .select(col(Columns.SUBJECT_ID), hazard.codeColumn().as("code"))
            .orderBy(Columns.SUBJECT_ID)
            .collectAsList();
    Predictor<?, ?, ?> estimator = estimator(name);
    Choice<Metrics> best =
        choose(
            estimator,
            grid(name, estimator),
            rows,
            m -> survivalMetrics(m, validationRows, codeRows, intervals),
            Metrics::auroc);
    PipelineModel model =
        new Pipeline()
            .setStages(new PipelineStage[] {features, assembler, best.model()})
            .fit(PersonPeriod.everyInterval(train, intervals).limit(0));
    ClassicalModels.Description d =
        description(name, estimator, best, cohort, size, best.validation());
    return publish(hconf, name, model, d, best.validation(), best.points().size(), t0);
  }

  /**
   * Validation metrics of a hazard classifier: {@code rows} are the validation subjects' {@link
   * PersonPeriod#everyInterval} rows, {@code codes} their (subject_id, code) in subject order.
   */
  private static Metrics survivalMetrics(
      Model<?> model, Dataset<Row> rows, List<Row> codes, int intervals) {
    Map<String, double[]> bySubject = new java.util.HashMap<>();
    for (Row r :
        PersonPeriod.hazards(
                model.transform(rows),
                org.apache
                    .spark
                    .ml
                    .functions
                    .vector_to_array(col("probability"), "float64")
                    .getItem(1))
            .collectAsList()) {
      List<Double> h = r.getList(1);
      bySubject.put(r.getString(0), h.stream().mapToDouble(Double::doubleValue).toArray());
    }
    double[][] hazards = new double[codes.size()][];
    int[] c = new int[codes.size()];
    for (int i = 0; i < codes.size(); i++) {
      hazards[i] = bySubject.get(codes.get(i).getString(0));
      c[i] = codes.get(i).getInt(1);
      if (hazards[i] == null || hazards[i].length != intervals) {
        throw new IllegalStateException(
            "Cannot compute validation metrics: validation subject "
                + (i + 1)
                + " of "
                + codes.size()
                + " has no hazard for every interval");
      }
    }
    return Metrics.survival(hazards, c);
  }

  /**
   * The grid in a fixed order, the first parameter outermost: Spark's {@code ParamGridBuilder} keys
   * its grid by parameter, whose hash comes from the estimator's random uid, so which parameter
   * varied fastest changed from run to run, and with it which of two tied points won.
   */
  private ParamMap[] grid(String name, Predictor<?, ?, ?> estimator) {
    if (estimator instanceof LogisticRegression lr) {
      // Strongest regularisation first, so that ties keep the simpler model.
      List<Double> reg = new ArrayList<>(config.linear().regParam());
      reg.sort(java.util.Comparator.reverseOrder());
      return grid(lr.regParam(), reg, lr.elasticNetParam(), config.linear().elasticNet());
    }
    if (estimator instanceof GBTClassifier gbt) {
      // Shallowest and shortest first, for the same reason.
      return grid(
          gbt.maxDepth(),
          config.gbt().maxDepth().stream().sorted().toList(),
          gbt.maxIter(),
          config.gbt().maxIter().stream().sorted().toList());
    }
    throw new IllegalArgumentException("Cannot build the grid of '" + name + "'");
  }

  private static <A, B> ParamMap[] grid(
      org.apache.spark.ml.param.Param<Object> outer,
      List<A> outerValues,
      org.apache.spark.ml.param.Param<Object> inner,
      List<B> innerValues) {
    List<ParamMap> points = new ArrayList<>();
    for (A a : outerValues) {
      for (B b : innerValues) {
        points.add(new ParamMap().put(outer, a).put(inner, b));
      }
    }
    return points.toArray(new ParamMap[0]);
  }

  private static Map<String, Object> asMap(ParamMap p) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (ParamPair<?> pair : scala.collection.JavaConverters.seqAsJavaList(p.toSeq())) {
      out.put(pair.param().name(), pair.value());
    }
    return out;
  }

  private static Metrics validationMetrics(Model<?> model, Dataset<Row> validationF) {
    List<Row> rows =
        model
            .transform(validationF)
            .select(
                col(Columns.LABEL),
                org.apache
                    .spark
                    .ml
                    .functions
                    .vector_to_array(col("probability"), "float64")
                    .getItem(1)
                    .as("p"))
            .collectAsList();
    double[][] p = new double[rows.size()][];
    int[] y = new int[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      double p1 = rows.get(i).getDouble(1);
      p[i] = new double[] {1 - p1, p1};
      y[i] = ((Number) rows.get(i).get(0)).intValue();
    }
    return Metrics.of(p, y, 2);
  }
}
