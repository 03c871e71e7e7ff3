package org.cohortfusion.stage;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.io.Json;

/**
 * {@code embeddings.json}, the contract between extract and every stage after it: what the
 * embeddings table ({@link #TABLE}) holds. Extract writes it and the later stages read it, through
 * this record only. The identity of the embeddings is the modalities in column and presence-mask
 * order with their representation sizes and encoder checksums, the class names (label = index into
 * them), the hash of the cohort they were computed from and, for survival outcomes, the follow-up
 * intervals; {@link #sha256} and {@link #encodersSha256} hash exactly that. The rest says how one
 * extract run produced the table (cohort name, row count, per modality the encoder's kind and
 * directory and the cache's reuse, code version, time) and is absent from a descriptor built in
 * code. Unknown fields are ignored, so an older reader still reads a newer file.
 *
 * <pre>{@code
 * { "cohort": "demo", "cohortHash": "9f3c...", "subjects": 2000,
 *   "modalities": [ {"modality": "clinical", "kind": "tabular", "dimension": 32,
 *                    "encoderSha256": "ab12...", "encoderDir": "...", "present": 1940,
 *                    "reused": 0, "encoded": 1940}, ... ],
 *   "classes": ["alive", "dead"], "codeVersion": "...", "createdAt": "..." }
 * }</pre>
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EmbeddingsSpec(
    @JsonPropertyDescription("Cohort name (extract runs only).") String cohort,
    @JsonPropertyDescription("Hash of the cohort the embeddings were computed from.")
        String cohortHash,
    @JsonPropertyDescription("Rows of the embeddings table (extract runs only).") Long subjects,
    @JsonPropertyDescription("Modalities in column and presence order.") List<Modality> modalities,
    @JsonPropertyDescription("Class names; label = index.") List<String> classes,
    @JsonPropertyDescription("cohort-fusion version that wrote the table (extract runs only).")
        String codeVersion,
    @JsonPropertyDescription("ISO-8601 time the table was written (extract runs only).")
        String createdAt,
    @JsonPropertyDescription(
            "Survival outcomes only: the upper bounds of the discrete-time hazard model's follow-up"
                + " intervals (the label is then the event indicator and the table carries duration); absent for classes.")
        List<Double> survivalIntervals) {

  /** File name of the descriptor inside the embeddings directory. */
  public static final String FILE = "embeddings.json";

  /**
   * The embeddings table (Parquet) inside the embeddings directory (data-schemas/embeddings.json).
   */
  public static final String TABLE = "table";

  /** Extract's cache of embeddings by subject, encoder and payload hash. */
  public static final String CACHE = "cache";

  /**
   * One modality's representation and, when an extract run wrote it, how that run produced it.
   *
   * @param name modality name: its column of the embeddings table
   * @param dim representation size, the length of its arrays
   * @param encoderSha256 SHA-256 of the encoder's model.zip
   * @param kind modality kind (extract runs only)
   * @param encoderDir where the encoder was loaded from (extract runs only)
   * @param present subjects that have the modality
   * @param reused embeddings taken from the cache (same subject, encoder and payload hash)
   * @param encoded embeddings computed in the run
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Modality(
      @JsonProperty("modality") @JsonAlias("name") String name,
      @JsonProperty("dimension") @JsonAlias("dim") int dim,
      String encoderSha256,
      String kind,
      String encoderDir,
      long present,
      long reused,
      long encoded) {

    /** A modality's representation without an extract run's counts. */
    public Modality(String name, int dim, String encoderSha256) {
      this(name, dim, encoderSha256, null, null, 0, 0, 0);
    }
  }

  /** How one extract run produced a modality's embeddings (see {@link Modality}). */
  public record Extraction(
      String kind, String encoderDir, long present, long reused, long encoded) {}

  /** Embeddings of a cohort whose label is a class. */
  public EmbeddingsSpec(List<Modality> modalities, List<String> classes, String cohortHash) {
    this(modalities, classes, cohortHash, null);
  }

  /** Embeddings as their identity only, without an extract run's description. */
  public EmbeddingsSpec(
      List<Modality> modalities,
      List<String> classes,
      String cohortHash,
      List<Double> survivalIntervals) {
    this(null, cohortHash, null, modalities, classes, null, null, survivalIntervals);
  }

  public EmbeddingsSpec {
    survivalIntervals =
        survivalIntervals == null || survivalIntervals.isEmpty()
            ? null
            : List.copyOf(survivalIntervals);
    modalities = modalities == null ? List.of() : List.copyOf(modalities);
    classes = classes == null ? List.of() : List.copyOf(classes);
    if (modalities.isEmpty()) {
      throw new IllegalArgumentException("Cannot use embeddings spec: no modalities");
    }
    Set<String> seen = new HashSet<>();
    for (Modality m : modalities) {
      if (m.name() == null || !seen.add(m.name())) {
        throw new IllegalArgumentException(
            "Cannot use embeddings spec: modality name '" + m.name() + "' is missing or repeated");
      }
      if (m.dim() <= 0) {
        throw new IllegalArgumentException(
            "Cannot use embeddings spec: modality '" + m.name() + "' has dim " + m.dim());
      }
    }
    if (classes.size() < 2) {
      throw new IllegalArgumentException(
          "Cannot use embeddings spec: need at least 2 classes, got " + classes);
    }
  }

  /**
   * This descriptor with an extract run's description: the cohort's name, the table's rows, one
   * {@link Extraction} per modality in {@link #modalities} order, the code version and the time.
   */
  public EmbeddingsSpec describedBy(
      String cohort,
      long subjects,
      List<Extraction> extractions,
      String codeVersion,
      String createdAt) {
    if (extractions.size() != modalities.size()) {
      throw new IllegalArgumentException(
          "Cannot describe the embeddings: "
              + extractions.size()
              + " extractions for "
              + modalities.size()
              + " modalities");
    }
    List<Modality> described = new ArrayList<>();
    for (int i = 0; i < modalities.size(); i++) {
      Modality m = modalities.get(i);
      Extraction e = extractions.get(i);
      described.add(
          new Modality(
              m.name(),
              m.dim(),
              m.encoderSha256(),
              e.kind(),
              e.encoderDir(),
              e.present(),
              e.reused(),
              e.encoded()));
    }
    return new EmbeddingsSpec(
        cohort,
        cohortHash,
        subjects,
        described,
        classes,
        codeVersion,
        createdAt,
        survivalIntervals);
  }

  /** The modality named {@code name}. */
  public Modality modality(String name) {
    int i = indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException(
          "Cannot find modality '" + name + "' in the embeddings (have " + modalityNames() + ")");
    }
    return modalities.get(i);
  }

  /** Reads {@code <dir>/embeddings.json}. */
  public static EmbeddingsSpec read(Configuration conf, String embeddingsDir) {
    return Json.read(conf, embeddingsDir + "/" + FILE, EmbeddingsSpec.class);
  }

  /** Writes {@code <dir>/embeddings.json} (extract's job; tests use it too). */
  public void write(Configuration conf, String embeddingsDir) {
    Json.write(conf, embeddingsDir + "/" + FILE, this);
  }

  public List<String> modalityNames() {
    List<String> names = new ArrayList<>();
    for (Modality m : modalities) {
      names.add(m.name());
    }
    return names;
  }

  public boolean hasModality(String name) {
    return modalityNames().contains(name);
  }

  /** Position of a modality in the table order. */
  public int indexOf(String name) {
    return modalityNames().indexOf(name);
  }

  public int dim(String name) {
    return modality(name).dim();
  }

  public int numClasses() {
    return classes.size();
  }

  /**
   * Whether the label is the event indicator of a survival outcome (see {@link
   * #survivalIntervals}).
   */
  public boolean survival() {
    return survivalIntervals != null;
  }

  /**
   * The width of a model's output: one probability per class, or one hazard per follow-up interval.
   */
  public int outputs() {
    return survival() ? survivalIntervals.size() : classes.size();
  }

  /**
   * SHA-256 of the embedding space without the cohort: modalities, dimensions, encoder hashes and
   * classes. Two snapshots extracted with the same encoders share it, so a model trained on one can
   * be scored on the other.
   */
  public String encodersSha256() {
    try {
      return Hashing.sha256(Json.MAPPER.writeValueAsString(identity(null)));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("Cannot hash embeddings spec", e);
    }
  }

  /** SHA-256 of this descriptor's canonical JSON: identifies the input embeddings in provenance. */
  public String sha256() {
    try {
      return Hashing.sha256(Json.MAPPER.writeValueAsString(identity(cohortHash)));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("Cannot hash embeddings spec", e);
    }
  }

  /**
   * What the hashes cover, in the JSON shape earlier releases hashed (field names and order), so a
   * model's recorded hashes stay valid across releases.
   */
  private Identity identity(String cohort) {
    return new Identity(
        modalities.stream()
            .map(m -> new Identity.Modality(m.name(), m.dim(), m.encoderSha256()))
            .toList(),
        classes,
        cohort,
        survivalIntervals);
  }

  private record Identity(
      List<Identity.Modality> modalities,
      List<String> classes,
      @JsonInclude(JsonInclude.Include.ALWAYS) String cohortHash,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<Double> survivalIntervals) {
    private record Modality(String name, int dim, String encoderSha256) {}
  }
}
