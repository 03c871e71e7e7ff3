package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;
import java.util.Map;

/** One stage of hierarchical fusion. */
public record FusionStageConfig(
    @JsonPropertyDescription("Stage name; later stages can use it as an input.") String name,
    @JsonPropertyDescription("Inputs: modality names or names of earlier stages.")
        List<String> what,
    @JsonPropertyDescription("The fusion operation of this stage.") String how,
    @JsonPropertyDescription("Options of the fusion operation.") Map<String, Object> options) {

  public FusionStageConfig {
    what = what == null ? List.of() : List.copyOf(what);
    options = options == null ? Map.of() : Map.copyOf(options);
  }
}
