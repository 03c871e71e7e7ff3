package org.cohortfusion.stage;

import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.io.Json;

/**
 * cohort.json: what an ingested cohort is and where it came from. Later stages read it to size
 * their networks and record its hash in every model's provenance.
 *
 * @param name cohort name from the pipeline config
 * @param modalities modalities in column and presence-mask order
 * @param classes label classes in index order
 * @param subjects accepted subjects in the aligned table
 * @param inputFingerprint SHA-256 over every input file's path, size and modification time
 * @param codeVersion cohort-fusion version that wrote it
 * @param createdAt ISO-8601 creation time
 * @param config the pipeline config as resolved (HOCON rendered as JSON)
 */
public record CohortManifest(
    String name,
    List<ModalitySpec> modalities,
    List<String> classes,
    long subjects,
    String inputFingerprint,
    String codeVersion,
    String createdAt,
    Map<String, Object> config) {

  public static final String FILE = "cohort.json";
  public static final String ALIGNED = "aligned";
  public static final String REJECTS = "rejects";
  public static final String QC_JSON = "qc.json";
  public static final String QC_TEXT = "qc.txt";

  public static CohortManifest read(Configuration conf, String cohortDir) {
    return Json.read(conf, cohortDir + "/" + FILE, CohortManifest.class);
  }
}
