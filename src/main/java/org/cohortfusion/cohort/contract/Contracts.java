package org.cohortfusion.cohort.contract;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Loads table contracts. They are packaged from data-schemas/ into the jar; setting the system
 * property {@code cohortfusion.schemas} to a directory reads them from there instead, so a site can
 * pin its own copy next to its data.
 */
public final class Contracts {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Map<String, TableContract> CACHE = new ConcurrentHashMap<>();

  private Contracts() {}

  /** The contract for {@code subjects} or a modality kind name such as {@code image}. */
  public static TableContract forKind(String kind) {
    return CACHE.computeIfAbsent(kind, Contracts::load);
  }

  private static TableContract load(String kind) {
    String dir = System.getProperty("cohortfusion.schemas");
    try {
      if (dir != null) {
        Path file = Path.of(dir, kind + ".json");
        if (!Files.isRegularFile(file)) {
          throw new IllegalStateException("Cannot load contract '" + kind + "': no file " + file);
        }
        try (InputStream in = Files.newInputStream(file)) {
          return MAPPER.readValue(in, TableContract.class);
        }
      }
      try (InputStream in =
          Contracts.class.getResourceAsStream("/data-schemas/" + kind + ".json")) {
        if (in == null) {
          throw new IllegalStateException(
              "Cannot load contract '"
                  + kind
                  + "': data-schemas/"
                  + kind
                  + ".json is not on the classpath");
        }
        return MAPPER.readValue(in, TableContract.class);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot parse contract data-schemas/" + kind + ".json", e);
    }
  }
}
