package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * How the files of one table must agree on their columns. strict: every file has the same columns
 * with the same types. union: a column some files lack is null in their rows (a warning in the QC
 * report); a column whose type differs between files is an error either way.
 */
public enum SchemaMerge {
  STRICT,
  UNION;

  @JsonCreator
  public static SchemaMerge parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("expected strict or union, got '" + value + "'");
    }
  }

  @JsonValue
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
