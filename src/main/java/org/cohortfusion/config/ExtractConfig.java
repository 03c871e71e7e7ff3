package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The extract stage: runs the pretrained encoders over the aligned cohort. */
public record ExtractConfig(
    @JsonProperty("batch-size")
        @JsonPropertyDescription(
            "Subjects per encoder forward pass inside each task (default 256).")
        Integer batchSize,
    @JsonPropertyDescription(
            "Reuse cached embeddings of unchanged (subject, modality, encoder, payload) tuples (default true).")
        Boolean incremental) {

  public ExtractConfig {
    batchSize = batchSize == null ? 256 : batchSize;
    incremental = incremental == null ? Boolean.TRUE : incremental;
  }

  public static ExtractConfig defaults() {
    return new ExtractConfig(null, null);
  }
}
