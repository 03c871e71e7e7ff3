package org.cohortfusion.features.extract;

import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.io.Json;

/**
 * embeddings.json: what an embeddings table holds (data-schemas/embeddings.json).
 *
 * @param cohort cohort name
 * @param cohortHash the cohort's input fingerprint (cohort.json)
 * @param subjects rows in the table
 * @param modalities modalities in column and presence-mask order, with dimensions and encoder
 *     hashes
 * @param classes label classes in index order
 * @param codeVersion cohort-fusion version
 * @param createdAt ISO-8601 time
 */
public record EmbeddingsManifest(
    String cohort,
    String cohortHash,
    long subjects,
    List<ModalityExtraction> modalities,
    List<String> classes,
    String codeVersion,
    String createdAt,
    @com.fasterxml.jackson.annotation.JsonInclude(
            com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
        List<Double> survivalIntervals) {
  public static final String FILE = "embeddings.json";
  public static final String TABLE = "table";
  public static final String CACHE = "cache";

  public static EmbeddingsManifest read(Configuration conf, String embeddingsDir) {
    return Json.read(conf, embeddingsDir + "/" + FILE, EmbeddingsManifest.class);
  }
}
