package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Where the pipeline writes. Each stage writes its own sub-directory atomically. */
public record OutputConfig(
    @JsonPropertyDescription("Root output directory; ingest writes <dir>/cohort (aligned/, rejects/, qc.json, qc.txt, stats.json, cohort.json).")
        String dir) {}
