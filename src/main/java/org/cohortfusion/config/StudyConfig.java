package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code study} section: the grid {@code cohort-fusion study} runs to answer the open questions
 * of the review of intermediate fusion (arXiv 2408.02686) on this cohort — how large each
 * modality's marginal representation should be (embedding sizes) and which fusion operation
 * (models), with robustness to missing modalities from evaluate's robustness curves. Cells vary one
 * modality's embedding size at a time around the config's own sizes ({@code
 * pretrain.encoders.<m>.embedding-size}), plus the base cell with the config's sizes; every cell
 * trains the listed fusion models in one train run. With {@code splits.folds = k} every cell is
 * cross-validated (its folds pooled by the cv stage) and the study compares pooled out-of-fold
 * metrics.
 */
public record StudyConfig(
    @JsonProperty("embedding-sizes")
        @JsonPropertyDescription(
            "Embedding sizes to try per modality, e.g. { labs = [4, 16, 64] }: one cell per size, that"
                + " modality at that size and every other modality at its configured size; a size equal to the configured one"
                + " is the base cell, which always runs.")
        Map<String, List<Integer>> embeddingSizes,
    @JsonPropertyDescription(
            "Fusion models (keys of fusion.models) trained in every cell, in one train run per cell"
                + " (default: every model of fusion.models).")
        List<String> models,
    @JsonPropertyDescription(
            "Cells run at the same time, each on its own driver thread and Spark job group over the one"
                + " Spark session; 0 (default) = min(cells, max(2, cores / 2)) with cores = Spark's default"
                + " parallelism; 1 = one cell after another. With splits.folds = k the study is"
                + " cross-validated and this counts cell x fold chains instead of cells.")
        Integer parallelism) {

  public StudyConfig {
    Map<String, List<Integer>> sizes = new TreeMap<>();
    if (embeddingSizes != null) {
      // Nulls are kept so the validator can name the key instead of failing here without context.
      embeddingSizes.forEach(
          (m, s) ->
              sizes.put(m, s == null ? null : Collections.unmodifiableList(new ArrayList<>(s))));
    }
    embeddingSizes = Collections.unmodifiableMap(sizes);
    models = models == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(models));
    parallelism = parallelism == null ? 0 : parallelism;
    if (parallelism < 0) {
      throw new ConfigException(
          "Cannot run the study: study.parallelism is "
              + parallelism
              + ", expected 0 (automatic) or a positive number of cells at once");
    }
  }

  /** The cells to run at once for {@code cells} cells on a session with {@code cores} cores. */
  public int effectiveParallelism(int cells, int cores) {
    int p = parallelism > 0 ? parallelism : Math.max(2, cores / 2);
    return Math.max(1, Math.min(cells, p));
  }

  public static StudyConfig defaults() {
    return new StudyConfig(null, null, null);
  }

  /**
   * True when the config declares a grid: sizes to vary or models listed (not named isX: Jackson
   * would bind it).
   */
  public boolean declared() {
    return !embeddingSizes.isEmpty() || !models.isEmpty();
  }

  /**
   * The models of every cell: the listed ones, else every fusion model of {@code fusion}, in their
   * order.
   */
  public List<String> modelsOr(FusionConfig fusion) {
    return models.isEmpty() ? List.copyOf(fusion.models().keySet()) : models;
  }
}
