package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;
import java.util.Map;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.ModalityKind;

/**
 * One modality table. Common keys apply to every kind; the others to one kind only, and setting one
 * on another kind is an error (so a typo or a misplaced option never passes silently).
 */
public record ModalityConfig(
    @JsonPropertyDescription(
            "Modality kind: tabular, vector, image, timeseries or text (contract: data-schemas/<kind>.json).")
        ModalityKind kind,
    @JsonPropertyDescription("Path of the table; relative paths resolve against cohort-dir.")
        String path,
    @JsonPropertyDescription("parquet (default) or csv.") TableFormat format,
    @JsonPropertyDescription(
            "Optional Spark SQL over the view 'source' that maps the raw file onto the contract.")
        String sql,
    @JsonPropertyDescription(
            "Rows sharing a key (subject_id; subject_id and time for time series): error (default), first, or latest:<column>.")
        DuplicatePolicy duplicates,
    @JsonPropertyDescription("Per-check policy overrides, check name -> error | reject.")
        Map<String, CheckPolicy> checks,
    @JsonPropertyDescription(
            "tabular: numeric-coded columns to treat as categorical (string columns always are).")
        List<String> categorical,
    @JsonPropertyDescription(
            "vector: required length of the 'values' array (or the number of wide columns).")
        Integer length,
    @JsonPropertyDescription(
            "image: declared shape [C, H, W] or [C, D, H, W]; every image must have it.")
        List<Integer> shape,
    @JsonPropertyDescription(
            "timeseries: channel columns in order; empty = every numeric column but subject_id and time.")
        List<String> channels,
    @JsonPropertyDescription(
            "timeseries: T, the number of steps kept at or before index_time (default 8).")
        Integer steps,
    @JsonProperty("bin-width")
        @JsonPropertyDescription(
            "timeseries: if set, fixed time bins of this width ending at index_time (mean per bin) instead of the last T observations.")
        Double binWidth,
    @JsonPropertyDescription(
            "tabular: categories kept per categorical column, most frequent in the train split first (default 1000).")
        @JsonProperty("max-categories")
        Integer maxCategories,
    @JsonProperty("schema-merge")
        @JsonPropertyDescription(
            "How the table's files must agree on columns: strict (default, same columns and types) or union (a column some files lack is null in their rows; differing types stay an error).")
        SchemaMerge schemaMerge,
    @JsonProperty("null-values")
        @JsonPropertyDescription("csv: cell values read as missing (default \"\", NA, NaN, null).")
        List<String> nullValues,
    @JsonProperty("id-whitespace")
        @JsonPropertyDescription(
            "A subject_id starting or ending with whitespace: reject (default; MALFORMED_ID, the message says whitespace) or trim (trimmed before any check, counted in qc.json as idsTrimmed).")
        IdWhitespace idWhitespace,
    @JsonProperty("id-column")
        @JsonPropertyDescription(
            "The column holding the subject id when the files do not name it subject_id (e.g. sample): read as subject_id, as text, before any sql; the table must not also have a subject_id column.")
        String idColumn) {

  /** The cell values a CSV table reads as missing unless it declares its own. */
  public static final List<String> DEFAULT_NULL_VALUES = List.of("", "NA", "NaN", "null");

  public ModalityConfig {
    format = format == null ? TableFormat.PARQUET : format;
    duplicates = duplicates == null ? DuplicatePolicy.ERROR : duplicates;
    checks = checks == null ? Map.of() : Map.copyOf(checks);
    categorical = categorical == null ? List.of() : List.copyOf(categorical);
    shape = shape == null ? List.of() : List.copyOf(shape);
    channels = channels == null ? List.of() : List.copyOf(channels);
    steps = steps == null ? 8 : steps;
    maxCategories = maxCategories == null ? 1000 : maxCategories;
    schemaMerge = schemaMerge == null ? SchemaMerge.STRICT : schemaMerge;
    nullValues = nullValues == null ? DEFAULT_NULL_VALUES : List.copyOf(nullValues);
    idWhitespace = idWhitespace == null ? IdWhitespace.REJECT : idWhitespace;
  }

  /** Key (subject_id, plus time for time series) that duplicates are detected on. */
  public List<String> keyColumns() {
    return kind == ModalityKind.TIMESERIES
        ? List.of(Columns.SUBJECT_ID, "time")
        : List.of(Columns.SUBJECT_ID);
  }

  /** Product of the declared image shape. */
  public int imageSize() {
    return shape.stream().mapToInt(Integer::intValue).reduce(1, Math::multiplyExact);
  }
}
