package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;
import java.util.Map;

/** The subjects table: one row per subject with label, index time, optional split and group. */
public record SubjectsConfig(
    @JsonPropertyDescription(
            "Path of the subjects table (a Parquet directory or file, or CSV); relative paths resolve against cohort-dir.")
        String path,
    @JsonPropertyDescription("parquet (default) or csv.") TableFormat format,
    @JsonPropertyDescription(
            "Optional Spark SQL over the view 'source' that maps the raw file onto the contract, e.g. renames or a derived label.")
        String sql,
    @JsonPropertyDescription(
            "Rows sharing a subject_id: error (default), first, or latest:<column>.")
        DuplicatePolicy duplicates,
    @JsonPropertyDescription(
            "Per-check policy overrides, check name -> error | reject (names in data-schemas/rejects.json).")
        Map<String, CheckPolicy> checks,
    @JsonPropertyDescription(
            "Label classes in index order; empty = the distinct labels found, sorted. A label outside the list is BAD_LABEL.")
        List<String> classes,
    @JsonProperty("max-classes")
        @JsonPropertyDescription(
            "Most distinct label values accepted as classes (default 100); more stops ingest: the label column likely holds an id or a measurement.")
        Integer maxClasses,
    @JsonProperty("schema-merge")
        @JsonPropertyDescription(
            "How the table's files must agree on columns: strict (default) or union (see modalities.<m>.schema-merge).")
        SchemaMerge schemaMerge,
    @JsonProperty("null-values")
        @JsonPropertyDescription("csv: cell values read as missing (default \"\", NA, NaN, null).")
        List<String> nullValues,
    @JsonProperty("id-whitespace")
        @JsonPropertyDescription(
            "A subject_id starting or ending with whitespace: reject (default; MALFORMED_ID, the message says whitespace) or trim (trimmed before any check, counted in qc.json as idsTrimmed).")
        IdWhitespace idWhitespace,
    @JsonPropertyDescription(
            "What the label means: classes (default) or a survival outcome (see OutcomeConfig).")
        OutcomeConfig outcome) {

  public static final int DEFAULT_MAX_CLASSES = 100;

  public SubjectsConfig {
    format = format == null ? TableFormat.PARQUET : format;
    duplicates = duplicates == null ? DuplicatePolicy.ERROR : duplicates;
    checks = checks == null ? Map.of() : Map.copyOf(checks);
    classes = classes == null ? List.of() : List.copyOf(classes);
    maxClasses = maxClasses == null ? DEFAULT_MAX_CLASSES : maxClasses;
    schemaMerge = schemaMerge == null ? SchemaMerge.STRICT : schemaMerge;
    nullValues = nullValues == null ? ModalityConfig.DEFAULT_NULL_VALUES : List.copyOf(nullValues);
    idWhitespace = idWhitespace == null ? IdWhitespace.REJECT : idWhitespace;
    outcome = outcome == null ? OutcomeConfig.classes() : outcome;
    if (outcome.survival()) {
      if (!classes.isEmpty() && !classes.equals(List.of("0", "1"))) {
        throw new ConfigException(
            "Bad value for config key 'subjects.classes': "
                + classes
                + "; with a survival outcome"
                + " the label is the event indicator, classes [0, 1]");
      }
      // The label is the event indicator: exactly these two classes, anything else is BAD_LABEL.
      classes = List.of("0", "1");
    }
    if (maxClasses < 1) {
      throw new ConfigException(
          "Bad value for config key 'subjects.max-classes': " + maxClasses + " is below 1");
    }
  }
}
