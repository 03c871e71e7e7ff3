package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Where the pipeline writes. Each stage writes its own sub-directory atomically. */
public record OutputConfig(
    @JsonPropertyDescription("Root output directory; ingest writes <dir>/cohort (aligned/, rejects/, qc.json, qc.txt, cohort.json).")
        String dir,
    @JsonProperty("allow-empty")
    @JsonPropertyDescription("Publish a cohort without any labeled subject (default false: ingest stops and keeps the previous cohort). Also ingest --allow-empty.")
        Boolean allowEmpty) {

  public OutputConfig {
    allowEmpty = allowEmpty != null && allowEmpty;
  }
}
