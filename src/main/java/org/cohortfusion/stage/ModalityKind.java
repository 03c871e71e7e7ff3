package org.cohortfusion.stage;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

/** The kinds of modality table a cohort can hold; each has a contract in data-schemas/. */
public enum ModalityKind {
  TABULAR,
  VECTOR,
  IMAGE,
  TIMESERIES,
  TEXT;

  @JsonCreator
  public static ModalityKind parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "expected one of " + Arrays.toString(configNames()) + ", got '" + value + "'");
    }
  }

  static String[] configNames() {
    return Arrays.stream(values()).map(ModalityKind::configName).toArray(String[]::new);
  }

  /** Name used in configs and as the contract file name (data-schemas/&lt;name&gt;.json). */
  @JsonValue
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
