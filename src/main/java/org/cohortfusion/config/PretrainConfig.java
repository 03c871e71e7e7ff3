package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The pretrain stage: one encoder + softmax head per modality, trained with dl4j-spark parameter
 * averaging.
 */
public record PretrainConfig(
    @JsonPropertyDescription("Seed of weight initialisation (default 42).") Long seed,
    @JsonProperty("averaging-frequency")
        @JsonPropertyDescription(
            "Minibatches each worker fits between parameter averagings (default: chosen per modality as for"
                + " train.averaging-frequency, and logged).")
        Integer averagingFrequency,
    @JsonPropertyDescription(
            "Encoder settings by modality name; modalities not listed use the defaults.")
        Map<String, EncoderConfig> encoders) {

  public PretrainConfig {
    seed = seed == null ? 42L : seed;
    encoders = encoders == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(encoders));
  }

  public static PretrainConfig defaults() {
    return new PretrainConfig(null, null, null);
  }

  /** The encoder settings of a modality (defaults when not configured). */
  public EncoderConfig encoder(String modality) {
    return encoders.getOrDefault(modality, EncoderConfig.defaults());
  }
}
