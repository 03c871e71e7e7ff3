package org.cohortfusion.features.encoder;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.config.EncoderConfig;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A pretrained encoder on disk: a {@link ModelArtifact} (model.zip with its SHA-256 verified before
 * every load, provenance.json) whose provenance config carries the modality, the encoder config and
 * the fitted {@link ModalityPreprocessing}, so the encoder is self-contained.
 */
public final class EncoderArtifact {
  public static final String KIND_PREFIX = "encoder:";

  /** A verified encoder: network (with its head), preprocessing, and the model's SHA-256. */
  public record Loaded(
      MultiLayerNetwork network,
      ModalityPreprocessing preprocessing,
      String sha256,
      ModelArtifact.Provenance provenance) {}

  /**
   * What an encoder's head was trained on: {@code classes}, or {@code survival} with the intervals'
   * upper bounds of its discrete-time hazard head.
   */
  public record HeadOutcome(String kind, List<Double> intervals) {}

  private EncoderArtifact() {}

  /** Key of the provenance config that says what the encoder's head was trained on. */
  public static final String OUTCOME = "outcome";

  /** Provenance config of an encoder with a softmax head over {@code classes}. */
  public static Map<String, Object> provenanceConfig(
      ModalityPreprocessing prep, EncoderConfig encoder, Object classes) {
    return provenanceConfig(prep, encoder, classes, null);
  }

  /**
   * Provenance config of an encoder: with {@code survivalIntervals}, its head is a discrete-time
   * hazard head over those intervals; without, a softmax over {@code classes}. The outcome is
   * recorded so that extract can refuse an encoder whose head no longer matches the config's
   * outcome.
   */
  public static Map<String, Object> provenanceConfig(
      ModalityPreprocessing prep,
      EncoderConfig encoder,
      Object classes,
      List<Double> survivalIntervals) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("modality", prep.modality());
    config.put("encoder", Json.MAPPER.convertValue(encoder, Map.class));
    config.put("preprocessing", Json.MAPPER.convertValue(prep, Map.class));
    config.put("classes", classes);
    config.put(
        OUTCOME,
        new HeadOutcome(
            survivalIntervals == null ? "classes" : "survival",
            survivalIntervals == null ? null : List.copyOf(survivalIntervals)));
    config.put("embedding-layer", "the layer before the head (network layer count - 2)");
    return config;
  }

  /**
   * The survival intervals an encoder's hazard head was pretrained over; null for a softmax head,
   * and for an encoder of an older version that did not record its outcome ({@link
   * #recordsOutcome}).
   */
  public static List<Double> survivalIntervals(ModelArtifact.Provenance provenance) {
    if (!recordsOutcome(provenance)) {
      return null;
    }
    // Converted, not cast: nested JSON objects read back as the mapper's own map types.
    HeadOutcome outcome =
        Json.MAPPER.convertValue(provenance.config().get(OUTCOME), HeadOutcome.class);
    return "survival".equals(outcome.kind()) ? List.copyOf(outcome.intervals()) : null;
  }

  /** Whether the encoder's provenance says what its head was trained on. */
  public static boolean recordsOutcome(ModelArtifact.Provenance provenance) {
    return provenance.config() != null && provenance.config().get(OUTCOME) != null;
  }

  public static Loaded load(Configuration conf, String dir) {
    byte[] bytes = ModelArtifact.verified(conf, dir);
    ModelArtifact.Provenance provenance =
        Json.read(conf, dir + "/" + ModelArtifact.PROVENANCE, ModelArtifact.Provenance.class);
    String sha = Hashing.sha256(bytes);
    return new Loaded(restore(bytes, sha, dir), preprocessing(provenance, dir), sha, provenance);
  }

  /** The preprocessing stored in an encoder's provenance. */
  public static ModalityPreprocessing preprocessing(
      ModelArtifact.Provenance provenance, String where) {
    Object prep = provenance.config() == null ? null : provenance.config().get("preprocessing");
    if (prep == null) {
      throw new IllegalStateException(
          "Cannot load encoder "
              + where
              + ": its provenance has no 'preprocessing' (not an encoder?)");
    }
    return Json.MAPPER.convertValue(prep, ModalityPreprocessing.class);
  }

  /** Restores a network from model bytes after checking them against the expected SHA-256. */
  public static MultiLayerNetwork restore(byte[] bytes, String expectedSha256, String where) {
    String actual = Hashing.sha256(bytes);
    if (!actual.equalsIgnoreCase(expectedSha256)) {
      throw new IllegalStateException(
          "Cannot load encoder "
              + where
              + ": SHA-256 "
              + actual
              + " does not match the expected "
              + expectedSha256);
    }
    try {
      return ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes), false);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot load encoder " + where, e);
    }
  }
}
