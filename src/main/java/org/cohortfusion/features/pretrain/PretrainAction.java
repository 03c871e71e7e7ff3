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
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.cohort.survival.IntervalConcordance;
import org.cohortfusion.config.EncoderConfig;
import org.cohortfusion.config.ModalityConfig;
import org.cohortfusion.config.OutcomeConfig;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.features.batch.FeatureBatch;
import org.cohortfusion.features.batch.FeatureBatches;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.features.batch.Payloads;
import org.cohortfusion.features.batch.PreprocessingFitter;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.cohortfusion.features.encoder.EncoderFactory;
import org.cohortfusion.features.encoder.Encoders;
import org.cohortfusion.fit.AveragedFitter;
import org.cohortfusion.fit.EarlyStopping;
import org.cohortfusion.fit.EpochScore;
import org.cohortfusion.io.BuildInfo;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.spark.HeldOutStorage;
import org.cohortfusion.spark.MinibatchShards;
import org.cohortfusion.spark.ParameterAveraging;
import org.cohortfusion.spark.internal.FieldRow;
import org.cohortfusion.spark.internal.FieldRows;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.ModalitySpec;
import org.cohortfusion.stage.TrainState;
import org.deeplearning4j.core.loader.impl.SerializedDataSetLoader;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pretrain stage as a Spark action: for each modality, an encoder with a softmax head over the
 * cohort's classes, trained on the train subjects that have the modality and a label with
 * dl4j-spark parameter averaging, early-stopped on validation AUROC and checkpointed every epoch by
 * the loop train uses ({@link EarlyStopping}: {@code <dir>/<modality>/checkpoints/} holds the last
 * two epochs, the best one and {@code state.json} with the validation history), the best epoch
 * published as {@code <dir>/<modality>/encoder} (an {@link EncoderArtifact}), and the unimodal
 * baselines written to {@code <dir>/metrics.json}. Only aggregates reach the driver.
 *
 * <p>For a survival outcome ({@code subjects.outcome.kind = survival}) the head is the
 * discrete-time hazard model of train's survival heads over the outcome's intervals ({@link
 * DiscreteTimeHazard}: a sigmoid per interval, binary cross-entropy with the per-output label mask
 * of the subject's target code), early-stopped on validation C at the resolution of the intervals
 * ({@link IntervalConcordance#of}, what train's early stopping reads), and metrics.json reports C
 * where class labels report AUROC. Harrell's C compares every pair, so two numbers per subject
 * (risk and target code, nothing that identifies it) come to the driver.
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
    DiscreteTimeHazard hazard = hazardModel();
    if (hazard == null && manifest.classes().size() < 2) {
      throw new IllegalStateException(
          "Cannot pretrain on cohort "
              + cohortDir
              + ": it has "
              + manifest.classes().size()
              + " label class(es); unimodal heads need at least 2");
    }
    Dataset<Row> aligned = org.cohortfusion.cohort.FoldView.aligned(spark, cohortDir);
    if (hazard != null && !java.util.Arrays.asList(aligned.columns()).contains(Columns.DURATION)) {
      throw new IllegalStateException(
          "Cannot pretrain on a survival outcome: the aligned cohort at "
              + cohortDir
              + " has no 'duration' column (ingested with class labels?); run ingest again");
    }
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
        results.add(pretrain(aligned, spec, manifest, hadoop, hazard));
      }
    }
    PretrainResult result = new PretrainResult(outputDir, manifest.inputFingerprint(), results);
    writeAtomically(hadoop, outputDir + "/" + METRICS, result);
    return result;
  }

  /** The hazard model of the config's survival outcome, or null for class labels. */
  private DiscreteTimeHazard hazardModel() {
    OutcomeConfig outcome = config.subjects() == null ? null : config.subjects().outcome();
    return outcome == null || !outcome.survival()
        ? null
        : new DiscreteTimeHazard(
            outcome.intervals().stream().mapToDouble(Double::doubleValue).toArray());
  }

  private ModalityPretrainResult pretrain(
      Dataset<Row> aligned,
      ModalitySpec spec,
      CohortManifest manifest,
      Configuration hadoop,
      DiscreteTimeHazard hazard) {
    long start = System.nanoTime();
    String m = spec.name();
    EncoderConfig encoder = config.pretrain().encoder(m);
    ModalityConfig modalityConfig = config.modalities().get(m);
    int maxCategories = modalityConfig == null ? 1000 : modalityConfig.maxCategories();
    boolean survival = hazard != null;
    // The head's outputs: class probabilities, or one hazard per interval.
    int outputs = survival ? hazard.intervals() : manifest.classes().size();
    String rank = survival ? "c" : "auroc";
    String second = survival ? "loss" : "accuracy";
    ModalityPreprocessing prep = PreprocessingFitter.fit(aligned, spec, encoder, maxCategories);

    Dataset<Row> labelled =
        aligned.filter(col(spec.presenceColumn()).and(col(Columns.LABEL).isNotNull()));
    if (survival) {
      // The label column carries the target code 2 * s + event from here on, as in train.
      labelled =
          labelled
              .filter(col(Columns.DURATION).isNotNull())
              .withColumn(Columns.LABEL, hazard.codeColumn());
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    JavaRDD<DataSet> validation =
        dataSets(labelled, Columns.Splits.VALIDATION, prep, outputs, survival, encoder.batchSize())
            .persist(HeldOutStorage.LEVEL);
    JavaRDD<DataSet> test =
        dataSets(labelled, Columns.Splits.TEST, prep, outputs, survival, encoder.batchSize())
            .persist(HeldOutStorage.LEVEL);
    // The train split as minibatch shards on shared storage, written once and deleted when this
    // modality is done.
    try (MinibatchShards train =
        MinibatchShards.write(
            jsc,
            dataSets(labelled, Columns.Splits.TRAIN, prep, outputs, survival, encoder.batchSize()),
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
      ParameterAveraging.Rounds rounds =
          new ParameterAveraging.Rounds(workers, averaging, config.pretrain().seed());
      MultiLayerNetwork initial =
          survival
              ? EncoderFactory.buildHazard(prep, encoder, outputs, config.pretrain().seed())
              : EncoderFactory.build(prep, encoder, outputs, config.pretrain().seed());
      EarlyStopping<MultiLayerNetwork> loop =
          new EarlyStopping<>(
              hadoop,
              org.cohortfusion.stage.PretrainOutputs.checkpoints(outputDir, m),
              new EarlyStopping.Checkpoints<>() {
                @Override
                public void save(String dir, MultiLayerNetwork net, Map<String, Double> metrics) {
                  ModelArtifact.save(
                      hadoop, dir, net, provenance(prep, encoder, manifest, hazard, metrics));
                }

                @Override
                public MultiLayerNetwork load(String dir) {
                  return ModelArtifact.loadNetwork(hadoop, dir).model();
                }
              },
              new EarlyStopping.Schedule(
                  encoder.epochs(), encoder.patience(), config.pretrain().seed(), 0));
      TrainState state =
          loop.run(
              initial,
              loop.fresh(),
              AveragedFitter.network(
                  jsc, rounds, encoder.batchSize(), train, new SerializedDataSetLoader()),
              net -> {
                if (survival) {
                  double[] c = EncoderScores.concordance(jsc, net, validation, nValidation);
                  return EpochScore.byRankThen(
                      c[0],
                      -c[1],
                      c[1],
                      orderedMetrics("validation_c", c[0], "validation_loss", c[1]));
                }
                double[] a =
                    EncoderScores.classification(jsc, net, validation, nValidation, outputs);
                return EpochScore.byRankThen(
                    a[0],
                    a[1],
                    Double.NaN,
                    orderedMetrics("validation_auroc", a[0], "validation_accuracy", a[1]));
              },
              e ->
                  LOG.info(
                      "Modality '{}' epoch {}: validation {} {}, {} {}{}",
                      m,
                      e.epoch(),
                      survival ? "C" : "AUROC",
                      e.score().rank(),
                      second,
                      survival ? e.score().loss() : e.score().key().get(1),
                      e.stopped()
                          ? " (early stop: no improvement in " + e.patience() + " epochs)"
                          : ""));
      int epoch = state.epoch();
      int bestEpoch = state.bestEpoch();
      MultiLayerNetwork best = loop.best();
      double[] bestValidation = {
        state.bestAuroc(), survival ? state.bestLoss() : state.bestScore().get(1)
      };
      JavaRDD<DataSet> trainSplit =
          dataSets(labelled, Columns.Splits.TRAIN, prep, outputs, survival, encoder.batchSize());
      double[] testMetrics =
          survival
              ? EncoderScores.concordance(jsc, best, test, nTest)
              : EncoderScores.classification(jsc, best, test, nTest, outputs);
      // The chosen encoder on its own train subjects: far above validation, it has memorised them.
      double[] trainMetrics =
          survival
              ? EncoderScores.concordance(jsc, best, trainSplit, nTrain)
              : EncoderScores.classification(jsc, best, trainSplit, nTrain, outputs);
      if (trainMetrics[0] - bestValidation[0] > ModalityPretrainResult.MEMORISATION_GAP) {
        LOG.warn(
            "Modality '{}': the encoder separates its train subjects far better than validation"
                + " subjects ({} {} against {}): it has memorised them, and models trained on"
                + " its train-split embeddings will over-trust this modality",
            m,
            survival ? "C" : "AUROC",
            String.format(java.util.Locale.ROOT, "%.3f", trainMetrics[0]),
            String.format(java.util.Locale.ROOT, "%.3f", bestValidation[0]));
      }
      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("best_epoch", (double) bestEpoch);
      metrics.put("train_" + rank, trainMetrics[0]);
      metrics.put("validation_" + rank, bestValidation[0]);
      metrics.put("validation_" + second, bestValidation[1]);
      metrics.put("test_" + rank, testMetrics[0]);
      metrics.put("test_" + second, testMetrics[1]);
      String encoderDir = org.cohortfusion.stage.PretrainOutputs.encoder(outputDir, m);
      String sha =
          ModelArtifact.save(
              hadoop, encoderDir, best, provenance(prep, encoder, manifest, hazard, metrics));
      return ModalityPretrainResult.of(
          m,
          spec.kind().configName(),
          survival,
          Encoders.embeddingSize(best),
          new long[] {nTrain, nValidation, nTest},
          epoch,
          bestEpoch,
          trainMetrics,
          bestValidation,
          testMetrics,
          encoderDir,
          sha,
          (System.nanoTime() - start) / 1e9);
    } finally {
      validation.unpersist();
      test.unpersist();
    }
  }

  /** Two named metrics in this order. */
  private static Map<String, Double> orderedMetrics(String a, double x, String b, double y) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(a, x);
    m.put(b, y);
    return m;
  }

  private ModelArtifact.Provenance provenance(
      ModalityPreprocessing prep,
      EncoderConfig encoder,
      CohortManifest manifest,
      DiscreteTimeHazard hazard,
      Map<String, Double> metrics) {
    return new ModelArtifact.Provenance(
        EncoderArtifact.KIND_PREFIX + prep.kind().configName(),
        manifest.inputFingerprint(),
        BuildInfo.version(),
        EncoderArtifact.provenanceConfig(
            prep,
            encoder,
            manifest.classes(),
            hazard == null ? null : java.util.Arrays.stream(hazard.cuts()).boxed().toList()),
        metrics,
        Instant.now().toString());
  }

  private static int writeShard(DataSet batch, java.io.OutputStream out)
      throws java.io.IOException {
    batch.save(out);
    return batch.numExamples();
  }

  /**
   * Minibatch DataSets of one split (persist them serialised to reuse: plain MEMORY_ONLY estimates
   * INDArray sizes slowly).
   */
  static JavaRDD<DataSet> dataSets(
      Dataset<Row> labelled, String split, ModalityPreprocessing prep, int classes, int batchSize) {
    return dataSets(labelled, split, prep, classes, false, batchSize);
  }

  /**
   * {@link #dataSets(Dataset, String, ModalityPreprocessing, int, int)}, for {@code hazards} with
   * the label column holding {@link DiscreteTimeHazard} codes: targets and label mask over {@code
   * outputs} intervals.
   */
  static JavaRDD<DataSet> dataSets(
      Dataset<Row> labelled,
      String split,
      ModalityPreprocessing prep,
      int outputs,
      boolean hazards,
      int batchSize) {
    // Minibatches must mix labels: the aligned cohort may come sorted by label (stratified splits),
    // and label-sorted minibatches make SGD chase the last class seen. A hash of the id is a
    // deterministic shuffle.
    Dataset<Row> rows =
        labelled
            .filter(col(Columns.SPLIT).equalTo(lit(split)))
            .orderBy(org.apache.spark.sql.functions.xxhash64(col(Columns.SUBJECT_ID)))
            .select(col(Columns.LABEL), Payloads.column(prep));
    return FieldRows.of(rows).mapPartitions(new ToDataSets(prep, outputs, hazards, batchSize));
  }

  /**
   * Converts one partition of internal rows (label, payload) into minibatch DataSets of {@code
   * batchSize}, in input order: one-hot class labels, or a survival code's hazard targets with
   * their per-output label mask.
   */
  static final class ToDataSets implements FlatMapFunction<Iterator<FieldRow>, DataSet> {
    private static final long serialVersionUID = 1L;
    private final ModalityPreprocessing prep;
    private final int outputs;
    private final boolean hazards;
    private final int batchSize;

    ToDataSets(ModalityPreprocessing prep, int classes, int batchSize) {
      this(prep, classes, false, batchSize);
    }

    /**
     * @param outputs classes, or with {@code hazards} the intervals of the hazard model
     */
    ToDataSets(ModalityPreprocessing prep, int outputs, boolean hazards, int batchSize) {
      this.prep = prep;
      this.outputs = outputs;
      this.hazards = hazards;
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
      if (!hazards) {
        return new DataSet(
            features.features(),
            FeatureBatches.oneHotLabels(batch, 0, outputs),
            features.featureMask(),
            null);
      }
      float[] y = new float[batch.size() * outputs];
      float[] mask = new float[batch.size() * outputs];
      for (int r = 0; r < batch.size(); r++) {
        DiscreteTimeHazard.targets(batch.get(r).getInt(0), r, outputs, y, mask);
      }
      long[] shape = {batch.size(), outputs};
      return new DataSet(
          features.features(),
          org.nd4j.linalg.factory.Nd4j.create(y, shape, 'c'),
          features.featureMask(),
          org.nd4j.linalg.factory.Nd4j.create(mask, shape, 'c'));
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
