package org.cohortfusion.fusion.spec;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.io.Json;

/**
 * What the extract stage declares about its embeddings table ({@code
 * <output.dir>/embeddings/embeddings.json}): the modalities in column / presence-mask order with
 * their representation sizes and encoder checksums, the class names (label = index into them) and
 * the hash of the cohort they were computed from. Proposed JSON shape:
 *
 * <pre>{@code
 * { "modalities": [ {"name": "clinical", "dim": 32, "encoderSha256": "ab12..."}, ... ],
 *   "classes": ["alive", "dead"],
 *   "cohortHash": "9f3c..." }
 * }</pre>
 *
 * Unknown fields are ignored so that extract can add more.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record EmbeddingsSpec(
    @JsonPropertyDescription("Modalities in column and presence order.") List<Modality> modalities,
    @JsonPropertyDescription("Class names; label = index.") List<String> classes,
    @JsonPropertyDescription("Hash of the cohort the embeddings were computed from.")
        String cohortHash,
    @JsonPropertyDescription(
            "Survival outcomes only: the upper bounds of the discrete-time hazard model's follow-up"
                + " intervals (the label is then the event indicator and the table carries duration); absent for classes.")
        @com.fasterxml.jackson.annotation.JsonInclude(
            com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
        List<Double> survivalIntervals) {

  /** File name of the descriptor inside the embeddings directory. */
  public static final String FILE = "embeddings.json";

  /** One modality's representation. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Modality(
      @com.fasterxml.jackson.annotation.JsonAlias("modality") String name,
      @com.fasterxml.jackson.annotation.JsonAlias("dimension") int dim,
      String encoderSha256) {}

  /** Embeddings of a cohort whose label is a class. */
  public EmbeddingsSpec(List<Modality> modalities, List<String> classes, String cohortHash) {
    this(modalities, classes, cohortHash, null);
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
    int i = indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException(
          "Cannot find modality '" + name + "' in the embeddings (have " + modalityNames() + ")");
    }
    return modalities.get(i).dim();
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
      return Hashing.sha256(
          Json.MAPPER.writeValueAsString(
              new EmbeddingsSpec(modalities, classes, null, survivalIntervals)));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("Cannot hash embeddings spec", e);
    }
  }

  /** SHA-256 of this descriptor's canonical JSON: identifies the input embeddings in provenance. */
  public String sha256() {
    try {
      return Hashing.sha256(Json.MAPPER.writeValueAsString(this));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("Cannot hash embeddings spec", e);
    }
  }
}
