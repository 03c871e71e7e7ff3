package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Optional;

/**
 * How rows sharing a key are resolved: {@code error} stops the run, {@code first} keeps the first
 * row in file order, {@code latest:<column>} keeps the row with the greatest value of that column.
 * The rows not kept go to rejects as DUPLICATE, so the accounting stays exact.
 */
public record DuplicatePolicy(Mode mode, Optional<String> orderColumn) {
  public enum Mode {
    ERROR,
    FIRST,
    LATEST
  }

  public static final DuplicatePolicy ERROR = new DuplicatePolicy(Mode.ERROR, Optional.empty());
  public static final DuplicatePolicy FIRST = new DuplicatePolicy(Mode.FIRST, Optional.empty());

  @JsonCreator
  public static DuplicatePolicy parse(String value) {
    String v = value.trim();
    if (v.equalsIgnoreCase("error")) {
      return ERROR;
    }
    if (v.equalsIgnoreCase("first")) {
      return FIRST;
    }
    if (v.regionMatches(true, 0, "latest:", 0, 7) && v.length() > 7) {
      return new DuplicatePolicy(Mode.LATEST, Optional.of(v.substring(7).trim()));
    }
    throw new IllegalArgumentException(
        "expected error, first or latest:<column>, got '" + value + "'");
  }

  @JsonValue
  public String configName() {
    return switch (mode) {
      case ERROR -> "error";
      case FIRST -> "first";
      case LATEST -> "latest:" + orderColumn.orElseThrow();
    };
  }
}
