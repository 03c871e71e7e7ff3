package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Where the pipeline writes. Each stage writes its own sub-directory atomically. */
public record OutputConfig(
    @JsonPropertyDescription(
            "Root output directory; ingest writes <dir>/cohort (aligned/, rejects/, qc.json, qc.txt, cohort.json).")
        String dir,
    @JsonProperty("allow-empty")
        @JsonPropertyDescription(
            "Publish a cohort without any labeled subject (default false: ingest stops and keeps the previous cohort). Also ingest --allow-empty.")
        Boolean allowEmpty,
    @JsonProperty("cohort-dir")
        @JsonPropertyDescription(
            "Directory of the aligned cohort that ingest writes and every later stage reads (default:"
                + " <dir>/cohort). The study command points each cell's output.dir elsewhere and this key at the one cohort"
                + " ingest wrote, so the cells share it.")
        String cohortDir) {

  public OutputConfig {
    allowEmpty = allowEmpty != null && allowEmpty;
  }
}
