package org.cohortfusion.config;

/** A pipeline configuration that cannot be used: names the key and what was expected. */
public final class ConfigException extends IllegalArgumentException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
