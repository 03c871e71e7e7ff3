package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;
import java.util.Set;

/**
 * The {@code train.classical} section: classical baselines fitted with Spark ML on the raw aligned
 * cohort (not on the embeddings), so every fusion is compared with what a plain library model makes
 * of the same subjects and splits.
 */
public record ClassicalConfig(
    @JsonPropertyDescription(
            "Classical baselines to train: any of linear (elastic-net logistic regression) and gbt"
                + " (gradient-boosted trees), both Spark ML; default none. Binary labels only.")
        List<String> models,
    @JsonPropertyDescription(
            "Grid of the linear baseline; the point with the best validation AUROC is kept.")
        Linear linear,
    @JsonPropertyDescription(
            "Grid of the gbt baseline; the point with the best validation AUROC is kept.")
        Gbt gbt,
    @JsonProperty("image-components")
        @JsonPropertyDescription(
            "Image modalities are standardised per pixel and reduced to this many principal components"
                + " (Spark ML PCA), both fitted on the train split (default 16; at most the pixel count).")
        Integer imageComponents,
    @JsonProperty("text-features")
        @JsonPropertyDescription(
            "Text modalities: hashed term frequencies (Spark ML RegexTokenizer + HashingTF) of this many"
                + " buckets, weighted by IDF fitted on the train split (default 1024).")
        Integer textFeatures,
    @JsonPropertyDescription("Seed of the gbt baseline (default 42).") Long seed) {

  /**
   * Names of the classical baselines, as they appear in summary.json, metrics.json and the report.
   */
  public static final Set<String> NAMES = Set.of("linear", "gbt");

  /** The linear baseline's grid: Spark ML LogisticRegression's regParam x elasticNetParam. */
  public record Linear(
      @JsonProperty("reg-param")
          @JsonPropertyDescription(
              "Regularisation strengths (regParam; default [0.001, 0.01, 0.1]).")
          List<Double> regParam,
      @JsonProperty("elastic-net")
          @JsonPropertyDescription(
              "L1 share of the penalty (elasticNetParam: 0 = ridge, 1 = lasso; default [0, 0.5, 1]).")
          List<Double> elasticNet,
      @JsonProperty("max-iter")
          @JsonPropertyDescription("Maximum optimiser iterations (default 100).")
          Integer maxIter) {
    public Linear {
      regParam = regParam == null ? List.of(0.001, 0.01, 0.1) : List.copyOf(regParam);
      elasticNet = elasticNet == null ? List.of(0.0, 0.5, 1.0) : List.copyOf(elasticNet);
      maxIter = maxIter == null ? 100 : maxIter;
      requireGrid("train.classical.linear.reg-param", regParam, 0, Double.MAX_VALUE);
      requireGrid("train.classical.linear.elastic-net", elasticNet, 0, 1);
      if (maxIter < 1) {
        throw new ConfigException(
            "Bad value for config key 'train.classical.linear.max-iter': "
                + maxIter
                + " is below 1");
      }
    }
  }

  /** The gbt baseline's grid: Spark ML GBTClassifier's maxDepth x maxIter (trees). */
  public record Gbt(
      @JsonProperty("max-depth") @JsonPropertyDescription("Tree depths (maxDepth; default [2, 4]).")
          List<Integer> maxDepth,
      @JsonProperty("max-iter")
          @JsonPropertyDescription("Numbers of boosting rounds (maxIter; default [30, 60]).")
          List<Integer> maxIter,
      @JsonProperty("step-size")
          @JsonPropertyDescription("Learning rate of boosting (stepSize; default 0.1).")
          Double stepSize) {
    public Gbt {
      maxDepth = maxDepth == null ? List.of(2, 4) : List.copyOf(maxDepth);
      maxIter = maxIter == null ? List.of(30, 60) : List.copyOf(maxIter);
      stepSize = stepSize == null ? 0.1 : stepSize;
      requireGrid("train.classical.gbt.max-depth", maxDepth, 1, 30);
      requireGrid("train.classical.gbt.max-iter", maxIter, 1, Integer.MAX_VALUE);
      if (!(stepSize > 0 && stepSize <= 1)) {
        throw new ConfigException(
            "Bad value for config key 'train.classical.gbt.step-size': "
                + stepSize
                + " is outside (0, 1]");
      }
    }
  }

  public ClassicalConfig {
    models = models == null ? List.of() : List.copyOf(models);
    linear = linear == null ? new Linear(null, null, null) : linear;
    gbt = gbt == null ? new Gbt(null, null, null) : gbt;
    imageComponents = imageComponents == null ? 16 : imageComponents;
    textFeatures = textFeatures == null ? 1024 : textFeatures;
    seed = seed == null ? 42L : seed;
    for (String m : models) {
      if (!NAMES.contains(m)) {
        throw new ConfigException(
            "Bad value for config key 'train.classical.models': '"
                + m
                + "' is not one of "
                + new java.util.TreeSet<>(NAMES));
      }
    }
    if (imageComponents < 1) {
      throw new ConfigException(
          "Bad value for config key 'train.classical.image-components': "
              + imageComponents
              + " is below 1");
    }
    if (textFeatures < 1) {
      throw new ConfigException(
          "Bad value for config key 'train.classical.text-features': "
              + textFeatures
              + " is below 1");
    }
  }

  public static ClassicalConfig defaults() {
    return new ClassicalConfig(null, null, null, null, null, null);
  }

  private static void requireGrid(String key, List<? extends Number> grid, double min, double max) {
    if (grid.isEmpty()) {
      throw new ConfigException("Bad value for config key '" + key + "': the grid is empty");
    }
    for (Number v : grid) {
      if (v == null || !(v.doubleValue() >= min && v.doubleValue() <= max)) {
        throw new ConfigException(
            "Bad value for config key '"
                + key
                + "': "
                + v
                + " is outside ["
                + min
                + ", "
                + max
                + "]");
      }
    }
  }
}
