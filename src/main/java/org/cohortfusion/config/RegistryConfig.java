package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Where the model registry lives. */
public record RegistryConfig(
    @JsonPropertyDescription(
            "Registry root on any Hadoop file system (default <output.dir>/registry). Also registry --registry.")
        String dir) {

  public static RegistryConfig defaults() {
    return new RegistryConfig(null);
  }
}
