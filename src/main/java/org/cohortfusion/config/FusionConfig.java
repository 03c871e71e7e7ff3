package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code fusion} section: named fusion models in the vocabulary of the review "Multimodal data
 * integration for oncology in the era of deep neural networks" / intermediate-fusion taxonomy
 * (arXiv 2408.02686): WHAT is fused (modalities), WHEN (on embeddings = intermediate fusion), HOW
 * MANY times (single or hierarchical stages) and HOW (a fusion operation). Baselines (unimodal,
 * early, late) are derived from the same modalities.
 */
public record FusionConfig(
    @JsonPropertyDescription(
            "Fusion models by name, e.g. attention { what = [clinical, labs], how = attention }.")
        Map<String, FusionModelConfig> models,
    @JsonProperty("default")
        @JsonPropertyDescription(
            "The model reported as the primary one (default: the first model by name).")
        String defaultModel,
    @JsonPropertyDescription(
            "Baselines trained with 'train all': any of unimodal, early, late (default: all three).")
        List<String> baselines) {

  public FusionConfig {
    models = models == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(models));
    baselines = baselines == null ? List.of("unimodal", "early", "late") : List.copyOf(baselines);
    if (defaultModel == null && !models.isEmpty()) {
      defaultModel = new java.util.TreeSet<>(models.keySet()).first();
    }
  }

  public static FusionConfig defaults() {
    return new FusionConfig(null, null, null);
  }
}
