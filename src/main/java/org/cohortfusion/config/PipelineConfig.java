package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.cohortfusion.io.Locations;

/**
 * The pipeline configuration of one cohort, bound from a HOCON file plus {@code --set} overrides by
 * {@link PipelineConfigLoader}. Immutable; every field documents itself.
 */
public record PipelineConfig(
    @JsonPropertyDescription("Cohort name, used in reports and provenance.") String name,
    @JsonProperty("cohort-dir")
        @JsonPropertyDescription(
            "Directory that relative table paths resolve against (default: the working directory).")
        String cohortDir,
    @JsonPropertyDescription("The subjects table.") SubjectsConfig subjects,
    @JsonPropertyDescription(
            "Modality tables by name; names become column names in the aligned cohort.")
        Map<String, ModalityConfig> modalities,
    @JsonPropertyDescription("Subject-level splits.") SplitConfig splits,
    @JsonPropertyDescription("Outputs.") OutputConfig output,
    @JsonPropertyDescription("Unimodal encoder pretraining (pretrain stage).")
        PretrainConfig pretrain,
    @JsonPropertyDescription("Embedding extraction (extract stage).") ExtractConfig extract,
    @JsonPropertyDescription(
            "Fusion models (what / when / how many / how, arXiv 2408.02686) and baselines.")
        FusionConfig fusion,
    @JsonPropertyDescription("Training of the fusion models.") TrainConfig train,
    @JsonPropertyDescription("Evaluation of the trained models on the test split.")
        EvaluateConfig evaluate,
    @JsonPropertyDescription("The model registry (registry command).") RegistryConfig registry,
    @JsonPropertyDescription(
            "Scheduled retraining (retrain command): the model and the champion/challenger gate.")
        RetrainConfig retrain,
    @JsonPropertyDescription("Cross-validation (splits.folds = k): how run executes the folds.")
        CvConfig cv,
    @JsonPropertyDescription(
            "The grid of the study command: embedding sizes per modality and fusion models"
                + " (results in <output.dir>/study/study.json and study.html).")
        StudyConfig study) {

  public PipelineConfig {
    cohortDir = cohortDir == null || cohortDir.isBlank() ? "." : cohortDir;
    // Sorted: the modality order fixes column order and presence-mask order in every later stage.
    modalities =
        modalities == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(modalities));
    splits = splits == null ? SplitConfig.defaults() : splits;
    pretrain = pretrain == null ? PretrainConfig.defaults() : pretrain;
    extract = extract == null ? ExtractConfig.defaults() : extract;
    fusion = fusion == null ? FusionConfig.defaults() : fusion;
    train = train == null ? TrainConfig.defaults() : train;
    evaluate = evaluate == null ? EvaluateConfig.defaults() : evaluate;
    registry = registry == null ? RegistryConfig.defaults() : registry;
    retrain = retrain == null ? RetrainConfig.defaults() : retrain;
    cv = cv == null ? CvConfig.defaults() : cv;
    study = study == null ? StudyConfig.defaults() : study;
  }

  /**
   * A copy whose directories (cohort-dir, output.dir, output.cohort-dir, train.shards-dir,
   * registry.dir) went through {@code resolve}: executors resolve a relative path against their own
   * working directory, so the driver settles every directory once for the whole run.
   */
  public PipelineConfig withDirectories(java.util.function.UnaryOperator<String> resolve) {
    java.util.function.UnaryOperator<String> given = d -> d == null ? null : resolve.apply(d);
    return new PipelineConfig(
        name,
        given.apply(cohortDir),
        subjects,
        modalities,
        splits,
        output == null
            ? null
            : new OutputConfig(
                given.apply(output.dir()), output.allowEmpty(), given.apply(output.cohortDir())),
        pretrain,
        extract,
        fusion,
        train.withShardsDir(given.apply(train.shardsDir())),
        evaluate,
        new RegistryConfig(given.apply(registry.dir())),
        retrain,
        cv,
        study);
  }

  /** Directory the train stage writes to. */
  public String trainOutputDir() {
    return output.dir() + "/train";
  }

  /** Directory extract writes the embeddings table and embeddings.json to (input of train). */
  public String embeddingsDir() {
    return output.dir() + "/embeddings";
  }

  /**
   * A table path as given, or resolved against cohort-dir when relative and not a URI. A cohort-dir
   * that is a URI (hdfs://namenode:8020/x) stays one: java.nio would collapse its "//".
   */
  public String resolve(String tablePath) {
    if (Locations.hasScheme(tablePath) || tablePath.startsWith("/")) {
      return tablePath;
    }
    if (Locations.hasScheme(cohortDir)) {
      return new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(cohortDir), tablePath)
          .toString();
    }
    return Path.of(cohortDir).resolve(tablePath).normalize().toString();
  }

  /** Directory pretrain writes encoders and unimodal metrics to. */
  public String pretrainOutputDir() {
    return pretrainOutputDir(output.dir());
  }

  /** Where pretrain writes when output.dir is {@code outputDir} (a study cell, a fold). */
  public static String pretrainOutputDir(String outputDir) {
    return outputDir + "/pretrain";
  }

  /** Directory the evaluate stage writes to (predictions/, metrics.json). */
  public String evaluateOutputDir() {
    return output.dir() + "/evaluate";
  }

  /** Directory the report stage writes to (index.html). */
  public String reportOutputDir() {
    return output.dir() + "/report";
  }

  /**
   * Root of the minibatch shards that spark-mode training (pretrain and train) writes once per run.
   */
  public String shardsDir() {
    return train.shardsDir() != null && !train.shardsDir().isBlank()
        ? train.shardsDir()
        : output.dir() + "/_shards";
  }

  /** Root of the model registry: registry.dir, else {@code <output.dir>/registry}. */
  public String registryDir() {
    return registry.dir() != null && !registry.dir().isBlank()
        ? registry.dir()
        : output.dir() + "/registry";
  }

  /**
   * Root of fold {@code fold}'s outputs under k-fold cross-validation: every stage's usual layout
   * below it.
   */
  public String foldOutputDir(int fold) {
    return foldOutputDir(0, fold);
  }

  /**
   * Root of fold {@code fold} of repeat {@code repeat} (repeated k-fold): {@code
   * <output.dir>/folds/<f>} for repeat 0, {@code <output.dir>/repeats/<r>/folds/<f>} for the
   * others.
   */
  public String foldOutputDir(int repeat, int fold) {
    return repeatOutputDir(repeat) + "/folds/" + fold;
  }

  /**
   * Root of repeat {@code repeat}'s folds and pooled results: output.dir for repeat 0, else {@code
   * repeats/<r>}.
   */
  public String repeatOutputDir(int repeat) {
    return repeat == 0 ? output.dir() : output.dir() + "/repeats/" + repeat;
  }

  /**
   * Directory of the pooled cross-validation results (metrics.json; with repeats, repeat 0 and the
   * summary over repeats).
   */
  public String cvOutputDir() {
    return cvOutputDir(0);
  }

  /** Directory of repeat {@code repeat}'s pooled cross-validation results. */
  public String cvOutputDir(int repeat) {
    return repeatOutputDir(repeat) + "/cv";
  }

  /**
   * Directory ingest writes the aligned cohort to and later stages read it from: output.cohort-dir,
   * else {@code <output.dir>/cohort}.
   */
  public String cohortOutputDir() {
    return output.cohortDir() != null && !output.cohortDir().isBlank()
        ? output.cohortDir()
        : output.dir() + "/cohort";
  }

  /** Root of the study command's cells and of study.json and study.html. */
  public String studyOutputDir() {
    return output.dir() + "/study";
  }
}
