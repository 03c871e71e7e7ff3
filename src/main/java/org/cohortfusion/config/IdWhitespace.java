package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What ingest does with a subject_id that starts or ends with whitespace (a space, a no-break or
 * other Unicode space, a byte-order mark). reject: the row is rejected as MALFORMED_ID with a
 * message that says whitespace is why. trim: the whitespace is removed before any check, and the
 * number of ids trimmed is in the QC report.
 */
public enum IdWhitespace {
  REJECT,
  TRIM;

  @JsonCreator
  public static IdWhitespace parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("expected reject or trim, got '" + value + "'");
    }
  }

  @JsonValue
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
