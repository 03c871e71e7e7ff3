package org.cohortfusion.stage;

import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.io.Json;

/**
 * The train stage's output directory, the contract between train and the stages that read its
 * models (evaluate, report, registry, study): {@code summary.json} lists every model trained so
 * far; each model has a directory {@code <dirName(model)>} holding the published network in {@code
 * model/} and its per-epoch checkpoints and {@link TrainState} in {@code checkpoints/}.
 */
public final class TrainOutputs {
  /** The summary file inside the train output directory. */
  public static final String SUMMARY = "summary.json";

  private TrainOutputs() {}

  /** Path of summary.json under train output directory {@code trainDir}. */
  public static String summary(String trainDir) {
    return trainDir + "/" + SUMMARY;
  }

  /** Directory name of the model called {@code model}: its name with unsafe characters as '-'. */
  public static String dirName(String model) {
    return model.replaceAll("[^A-Za-z0-9_.-]", "-");
  }

  /** Directory of the model called {@code model}. */
  public static String modelRoot(String trainDir, String model) {
    return trainDir + "/" + dirName(model);
  }

  /** The published network of the model called {@code model}. */
  public static String published(String trainDir, String model) {
    return published(modelRoot(trainDir, model));
  }

  /** The published network inside a model's directory {@code modelRoot}. */
  public static String published(String modelRoot) {
    return modelRoot + "/model";
  }

  /** The checkpoints directory inside a model's directory {@code modelRoot}. */
  public static String checkpoints(String modelRoot) {
    return modelRoot + "/checkpoints";
  }

  /** The training state of the model called {@code model}. */
  public static String state(String trainDir, String model) {
    return TrainState.path(checkpoints(modelRoot(trainDir, model)));
  }

  /**
   * summary.json: every model trained so far under the output directory.
   *
   * @param embeddingsSha256 {@link EmbeddingsSpec#sha256()} of the embeddings the models were
   *     trained on; a summary of other embeddings is not carried over
   * @param codeVersion cohort-fusion version that wrote it
   * @param models one entry per model
   */
  public record Summary(String embeddingsSha256, String codeVersion, List<Entry> models) {
    public Summary {
      models = models == null ? List.of() : List.copyOf(models);
    }

    /** Reads summary.json from train output directory {@code trainDir}. */
    public static Summary read(Configuration conf, String trainDir) {
      return readFile(conf, summary(trainDir));
    }

    /** Reads a summary file at {@code path}. */
    public static Summary readFile(Configuration conf, String path) {
      return Json.read(conf, path, Summary.class);
    }
  }

  /**
   * One model of summary.json.
   *
   * @param name model name
   * @param kind fusion kind, unimodal, late, classical, ...
   * @param describe the model in words (what, when, how)
   * @param modelDir where the published model is
   * @param sha256 SHA-256 of the published model
   * @param bestEpoch the epoch published
   * @param epochs epochs run
   * @param stoppedEarly whether early stopping ended training
   * @param completed whether training finished
   * @param validation validation metrics of the published model
   * @param parameters trainable parameters; null in summaries written before they were recorded
   * @param trainSeconds wall time of training; null as for parameters
   */
  public record Entry(
      String name,
      String kind,
      String describe,
      String modelDir,
      String sha256,
      int bestEpoch,
      int epochs,
      boolean stoppedEarly,
      boolean completed,
      Map<String, Double> validation,
      Long parameters,
      Double trainSeconds) {
    /**
     * An entry without cost figures (models that train did not fit: encoder heads, registry
     * versions).
     */
    public Entry(
        String name,
        String kind,
        String describe,
        String modelDir,
        String sha256,
        int bestEpoch,
        int epochs,
        boolean stoppedEarly,
        boolean completed,
        Map<String, Double> validation) {
      this(
          name,
          kind,
          describe,
          modelDir,
          sha256,
          bestEpoch,
          epochs,
          stoppedEarly,
          completed,
          validation,
          null,
          null);
    }
  }
}
