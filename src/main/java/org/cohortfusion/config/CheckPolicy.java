package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What a failed validation check does: stop the run, or write the row to rejects with its reason.
 */
public enum CheckPolicy {
  ERROR,
  REJECT;

  @JsonCreator
  public static CheckPolicy parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("expected error or reject, got '" + value + "'");
    }
  }

  @JsonValue
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
