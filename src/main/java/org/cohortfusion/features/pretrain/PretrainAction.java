package org.cohortfusion.features.pretrain;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.cohortfusion.config.EncoderConfig;
import org.cohortfusion.config.ModalityConfig;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.features.batch.FeatureBatch;
import org.cohortfusion.features.batch.FeatureBatches;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.features.batch.Payloads;
import org.cohortfusion.features.batch.PreprocessingFitter;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.cohortfusion.features.encoder.EncoderFactory;
import org.cohortfusion.features.encoder.Encoders;
import org.cohortfusion.io.BuildInfo;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.spark.MinibatchShards;
import org.cohortfusion.spark.ParameterAveraging;
import org.cohortfusion.spark.internal.FieldRow;
import org.cohortfusion.spark.internal.FieldRows;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.ModalitySpec;
import org.deeplearning4j.core.loader.impl.SerializedDataSetLoader;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.evaluation.IEvaluation;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.evaluation.classification.ROC;
import org.nd4j.evaluation.classification.ROCMultiClass;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pretrain stage as a Spark action: for each modality, an encoder with a softmax head over the
 * cohort's classes, trained on the train subjects that have the modality and a label with
 * dl4j-spark parameter averaging, early-stopped on validation AUROC, checkpointed every epoch
 * ({@code <dir>/<modality>/checkpoints/epoch-N}), the best epoch published as {@code
 * <dir>/<modality>/encoder} (an {@link EncoderArtifact}), and the unimodal baselines written to
 * {@code <dir>/metrics.json}. Only aggregates reach the driver.
 *
 * <pre>{@code
 * PretrainResult result = PretrainAction.of(spark, config).execute();
 * }</pre>
 */
public final class PretrainAction {
  private static final Logger LOG = LoggerFactory.getLogger(PretrainAction.class);
  public static final String METRICS = "metrics.json";

  private final SparkSession spark;
  private final PipelineConfig config;
  private final String cohortDir;
  private final String outputDir;
  private final List<String> only;

  private PretrainAction(
      SparkSession spark,
      PipelineConfig config,
      String cohortDir,
      String outputDir,
      List<String> only) {
    this.spark = Objects.requireNonNull(spark, "spark");
    this.config = Objects.requireNonNull(config, "config");
    this.cohortDir = cohortDir;
    this.outputDir = outputDir;
    this.only = List.copyOf(only);
  }

  public static PretrainAction of(SparkSession spark, PipelineConfig config) {
    return new PretrainAction(
        spark, config, config.cohortOutputDir(), config.pretrainOutputDir(), List.of());
  }

  /** Reads the aligned cohort from {@code dir} instead of {@code <output.dir>/cohort}. */
  public PretrainAction cohortDir(String dir) {
    return new PretrainAction(spark, config, dir, outputDir, only);
  }

  /** Writes encoders and metrics to {@code dir} instead of {@code <output.dir>/pretrain}. */
  public PretrainAction outputDir(String dir) {
    return new PretrainAction(spark, config, cohortDir, dir, only);
  }

  /** Pretrains only these modalities (default: every modality of the cohort). */
  public PretrainAction modalities(List<String> names) {
    return new PretrainAction(spark, config, cohortDir, outputDir, names);
  }

  public PretrainResult execute() {
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    CohortManifest manifest = CohortManifest.read(hadoop, cohortDir);
    if (manifest.classes().size() < 2) {
      throw new IllegalStateException(
          "Cannot pretrain on cohort "
              + cohortDir
              + ": it has "
              + manifest.classes().size()
              + " label class(es); unimodal heads need at least 2");
    }
    Dataset<Row> aligned = org.cohortfusion.cohort.FoldView.aligned(spark, cohortDir);
    List<String> known = manifest.modalities().stream().map(ModalitySpec::name).toList();
    for (String name : only) {
      if (!known.contains(name)) {
        throw new IllegalArgumentException(
            "Cannot pretrain modality '" + name + "': the cohort has " + known);
      }
    }
    List<ModalityPretrainResult> results = new ArrayList<>();
    for (ModalitySpec spec : manifest.modalities()) {
      if (only.isEmpty() || only.contains(spec.name())) {
        results.add(pretrain(aligned, spec, manifest, hadoop));
      }
    }
    PretrainResult result = new PretrainResult(outputDir, manifest.inputFingerprint(), results);
    writeAtomically(hadoop, outputDir + "/" + METRICS, result);
    return result;
  }

  private ModalityPretrainResult pretrain(
      Dataset<Row> aligned, ModalitySpec spec, CohortManifest manifest, Configuration hadoop) {
    long start = System.nanoTime();
    String m = spec.name();
    EncoderConfig encoder = config.pretrain().encoder(m);
    ModalityConfig modalityConfig = config.modalities().get(m);
    int maxCategories = modalityConfig == null ? 1000 : modalityConfig.maxCategories();
    int classes = manifest.classes().size();
    ModalityPreprocessing prep = PreprocessingFitter.fit(aligned, spec, encoder, maxCategories);

    Dataset<Row> labelled =
        aligned.filter(col(spec.presenceColumn()).and(col(Columns.LABEL).isNotNull()));
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    JavaRDD<DataSet> validation =
        dataSets(labelled, Columns.Splits.VALIDATION, prep, classes, encoder.batchSize())
            .persist(StorageLevel.MEMORY_ONLY_SER());
    JavaRDD<DataSet> test =
        dataSets(labelled, Columns.Splits.TEST, prep, classes, encoder.batchSize())
            .persist(StorageLevel.MEMORY_ONLY_SER());
    // The train split as minibatch shards on shared storage, written once and deleted when this
    // modality is done.
    try (MinibatchShards train =
        MinibatchShards.write(
            jsc,
            dataSets(labelled, Columns.Splits.TRAIN, prep, classes, encoder.batchSize()),
            config.shardsDir(),
            "pretrain-" + m,
            PretrainAction::writeShard)) {
      long nTrain = train.examples();
      long nValidation = examples(validation);
      long nTest = examples(test);
      if (nTrain == 0) {
        throw new IllegalStateException(
            "Cannot pretrain encoder of modality '" + m + "': no train subject has it and a label");
      }
      LOG.info(
          "Pretraining modality '{}' ({}): {} train, {} validation, {} test subjects",
          m,
          spec.kind().configName(),
          nTrain,
          nValidation,
          nTest);

      int workers = spark.sparkContext().defaultParallelism();
      int averaging =
          ParameterAveraging.averagingFrequency(
              config.pretrain().averagingFrequency(), train.paths().size(), workers);
      LOG.info(
          "Modality '{}': parameter averaging over {} worker(s), {} shards, averaging every {} minibatches per worker{}",
          m,
          workers,
          train.paths().size(),
          averaging,
          config.pretrain().averagingFrequency() == null
              ? " (chosen: pretrain.averaging-frequency unset)"
              : "");
      ParameterAveragingTrainingMaster master =
          ParameterAveraging.master(
              workers, encoder.batchSize(), averaging, config.pretrain().seed());
      MultiLayerNetwork initial =
          EncoderFactory.build(prep, encoder, classes, config.pretrain().seed());
      SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(jsc, initial, master);

      String modalityDir = outputDir + "/" + m;
      MultiLayerNetwork best = null;
      double[] bestValidation = {Double.NaN, Double.NaN};
      int bestEpoch = 0;
      int epoch = 0;
      while (epoch < encoder.epochs()) {
        epoch++;
        sparkNet.fitPaths(train.pathsRdd(jsc), new SerializedDataSetLoader());
        double[] metrics = evaluate(sparkNet, validation, nValidation, classes);
        LOG.info(
            "Modality '{}' epoch {}: validation AUROC {}, accuracy {}",
            m,
            epoch,
            metrics[0],
            metrics[1]);
        MultiLayerNetwork current = sparkNet.getNetwork();
        ModelArtifact.save(
            hadoop,
            modalityDir + "/checkpoints/epoch-" + epoch,
            current,
            provenance(
                prep,
                encoder,
                manifest,
                Map.of(
                    "epoch",
                    (double) epoch,
                    "validation_auroc",
                    metrics[0],
                    "validation_accuracy",
                    metrics[1])));
        if (best == null || isBetter(metrics, bestValidation)) {
          best = current.clone();
          bestValidation = metrics;
          bestEpoch = epoch;
        } else if (epoch - bestEpoch >= encoder.patience()) {
          LOG.info("Modality '{}': early stop after epoch {} (best epoch {})", m, epoch, bestEpoch);
          break;
        }
      }
      SparkDl4jMultiLayer chosen = new SparkDl4jMultiLayer(spark.sparkContext(), best, master);
      double[] testMetrics = evaluate(chosen, test, nTest, classes);
      // The chosen encoder on its own train subjects: far above validation, it has memorised them.
      double[] trainMetrics =
          evaluate(
              chosen,
              dataSets(labelled, Columns.Splits.TRAIN, prep, classes, encoder.batchSize()),
              nTrain,
              classes);
      if (trainMetrics[0] - bestValidation[0] > ModalityPretrainResult.MEMORISATION_GAP) {
        LOG.warn(
            "Modality '{}': the encoder separates its train subjects far better than validation"
                + " subjects (AUROC {} against {}): it has memorised them, and models trained on"
                + " its train-split embeddings will over-trust this modality",
            m,
            String.format(java.util.Locale.ROOT, "%.3f", trainMetrics[0]),
            String.format(java.util.Locale.ROOT, "%.3f", bestValidation[0]));
      }
      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("best_epoch", (double) bestEpoch);
      metrics.put("train_auroc", trainMetrics[0]);
      metrics.put("validation_auroc", bestValidation[0]);
      metrics.put("validation_accuracy", bestValidation[1]);
      metrics.put("test_auroc", testMetrics[0]);
      metrics.put("test_accuracy", testMetrics[1]);
      String encoderDir = modalityDir + "/encoder";
      String sha =
          ModelArtifact.save(
              hadoop, encoderDir, best, provenance(prep, encoder, manifest, metrics));
      return new ModalityPretrainResult(
          m,
          spec.kind().configName(),
          Encoders.embeddingSize(best),
          nTrain,
          nValidation,
          nTest,
          epoch,
          bestEpoch,
          trainMetrics[0],
          bestValidation[0],
          bestValidation[1],
          testMetrics[0],
          testMetrics[1],
          encoderDir,
          sha,
          (System.nanoTime() - start) / 1e9);
    } finally {
      validation.unpersist();
      test.unpersist();
    }
  }

  /** Higher validation AUROC wins; accuracy breaks ties and stands in when AUROC is undefined. */
  private static boolean isBetter(double[] candidate, double[] best) {
    if (!Double.isNaN(candidate[0]) || !Double.isNaN(best[0])) {
      if (Double.isNaN(best[0])) {
        return true;
      }
      if (Double.isNaN(candidate[0])) {
        return false;
      }
      if (candidate[0] != best[0]) {
        return candidate[0] > best[0];
      }
    }
    return !Double.isNaN(candidate[1]) && (Double.isNaN(best[1]) || candidate[1] > best[1]);
  }

  /**
   * [AUROC, accuracy] on a split with ND4J's evaluations; NaN when the split is empty or AUROC is
   * undefined.
   */
  private static double[] evaluate(
      SparkDl4jMultiLayer net, JavaRDD<DataSet> data, long examples, int classes) {
    if (examples == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    IEvaluation[] evaluations =
        net.doEvaluation(
            data, 256, classes == 2 ? new ROC(0) : new ROCMultiClass(0), new Evaluation(classes));
    double auroc;
    try {
      auroc =
          classes == 2
              ? ((ROC) evaluations[0]).calculateAUC()
              : ((ROCMultiClass) evaluations[0]).calculateAverageAUC();
    } catch (RuntimeException e) { // one class only in the split: AUROC is undefined
      auroc = Double.NaN;
    }
    return new double[] {auroc, ((Evaluation) evaluations[1]).accuracy()};
  }

  private ModelArtifact.Provenance provenance(
      ModalityPreprocessing prep,
      EncoderConfig encoder,
      CohortManifest manifest,
      Map<String, Double> metrics) {
    return new ModelArtifact.Provenance(
        EncoderArtifact.KIND_PREFIX + prep.kind().configName(),
        manifest.inputFingerprint(),
        BuildInfo.version(),
        EncoderArtifact.provenanceConfig(prep, encoder, manifest.classes()),
        metrics,
        Instant.now().toString());
  }

  private static int writeShard(DataSet batch, java.io.OutputStream out)
      throws java.io.IOException {
    batch.save(out);
    return batch.numExamples();
  }

  /**
   * Minibatch DataSets of one split (persist them MEMORY_ONLY_SER to reuse: plain MEMORY_ONLY
   * estimates INDArray sizes slowly).
   */
  static JavaRDD<DataSet> dataSets(
      Dataset<Row> labelled, String split, ModalityPreprocessing prep, int classes, int batchSize) {
    // Minibatches must mix labels: the aligned cohort may come sorted by label (stratified splits),
    // and label-sorted minibatches make SGD chase the last class seen. A hash of the id is a
    // deterministic shuffle.
    Dataset<Row> rows =
        labelled
            .filter(col(Columns.SPLIT).equalTo(lit(split)))
            .orderBy(org.apache.spark.sql.functions.xxhash64(col(Columns.SUBJECT_ID)))
            .select(col(Columns.LABEL), Payloads.column(prep));
    return FieldRows.of(rows).mapPartitions(new ToDataSets(prep, classes, batchSize));
  }

  /**
   * Converts one partition of internal rows (label, payload) into minibatch DataSets of {@code
   * batchSize}, in input order.
   */
  static final class ToDataSets implements FlatMapFunction<Iterator<FieldRow>, DataSet> {
    private static final long serialVersionUID = 1L;
    private final ModalityPreprocessing prep;
    private final int classes;
    private final int batchSize;

    ToDataSets(ModalityPreprocessing prep, int classes, int batchSize) {
      this.prep = prep;
      this.classes = classes;
      this.batchSize = batchSize;
    }

    @Override
    public Iterator<DataSet> call(Iterator<FieldRow> partition) {
      FeatureBatches converter = new FeatureBatches(prep, 1);
      // Lazy: a batch is read and converted only when Spark has taken the previous minibatch.
      return FieldRows.flatMapBatches(
          partition, batchSize, batch -> List.of(convert(converter, batch)));
    }

    private DataSet convert(FeatureBatches converter, List<FieldRow> batch) {
      FeatureBatch features = converter.convert(batch);
      return new DataSet(
          features.features(),
          FeatureBatches.oneHotLabels(batch, 0, classes),
          features.featureMask(),
          null);
    }
  }

  private static long examples(JavaRDD<DataSet> data) {
    return data.map(DataSet::numExamples).fold(0, Integer::sum);
  }

  private static void writeAtomically(Configuration conf, String path, Object value) {
    // One rename over the old file: a crash leaves the old or the new file, never none.
    org.cohortfusion.io.AtomicDirectory.replaceJson(conf, path, value);
  }
}
