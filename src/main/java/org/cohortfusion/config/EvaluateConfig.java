package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The {@code evaluate} section: held-out evaluation of every trained model on the test split. */
public record EvaluateConfig(
    @JsonProperty("min-pattern-size")
        @JsonPropertyDescription(
            "Missingness patterns with fewer test subjects than this are flagged too small (default 20).")
        Integer minPatternSize,
    @JsonPropertyDescription(
            "Seed of the test-time modality removal of the robustness curves (default 42).")
        Long seed,
    @JsonProperty("batch-size")
        @JsonPropertyDescription("Rows per prediction batch (default 1024).")
        Integer batchSize) {

  public EvaluateConfig {
    minPatternSize = minPatternSize == null ? 20 : minPatternSize;
    seed = seed == null ? 42L : seed;
    batchSize = batchSize == null ? 1024 : batchSize;
    if (minPatternSize < 1) {
      throw new ConfigException(
          "Bad value for config key 'evaluate.min-pattern-size': "
              + minPatternSize
              + " is below 1");
    }
    if (batchSize < 1) {
      throw new ConfigException(
          "Bad value for config key 'evaluate.batch-size': " + batchSize + " is below 1");
    }
  }

  public static EvaluateConfig defaults() {
    return new EvaluateConfig(null, null, null);
  }
}
