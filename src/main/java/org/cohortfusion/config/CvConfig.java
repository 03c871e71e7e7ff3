package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The {@code cv} section: how {@code run} executes k-fold cross-validation ({@code splits.folds =
 * k}). Each fold is an independent chain pretrain, extract, train, evaluate (and report) under
 * {@code <output.dir>/folds/<f>}.
 */
public record CvConfig(
    @JsonPropertyDescription(
            "Folds run at the same time, each on its own driver thread and Spark job group over the one"
                + " Spark session; 0 (default) = min(folds, max(2, cores / 2)) with cores = Spark's default parallelism.")
        Integer parallelism) {

  public CvConfig {
    parallelism = parallelism == null ? 0 : parallelism;
    if (parallelism < 0) {
      throw new ConfigException(
          "Cannot run cross-validation folds: cv.parallelism is "
              + parallelism
              + ", expected 0 (automatic) or a positive number of folds at once");
    }
  }

  /**
   * The folds to run at once for {@code folds} folds on a session with {@code cores} default
   * parallelism.
   */
  public int effectiveParallelism(int folds, int cores) {
    int p = parallelism > 0 ? parallelism : Math.max(2, cores / 2);
    return Math.max(1, Math.min(folds, p));
  }

  public static CvConfig defaults() {
    return new CvConfig(null);
  }
}
