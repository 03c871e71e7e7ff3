package org.cohortfusion.io;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A trained network on disk with its provenance: {@code model.zip} (DL4J ModelSerializer, with
 * updater state so training can resume), {@code model.sha256} and {@code provenance.json}. The
 * directory is published atomically, and every load verifies the checksum first, so a truncated
 * or tampered model is never used.
 */
public final class ModelArtifact {
  public static final String MODEL = "model.zip";
  public static final String CHECKSUM = "model.sha256";
  public static final String PROVENANCE = "provenance.json";

  /**
   * Where a model came from.
   *
   * @param kind what the model is, e.g. "encoder:tabular" or "fusion:attention"
   * @param cohortHash hash of the cohort (or embeddings) it was trained on
   * @param codeVersion cohort-fusion version
   * @param config the configuration that produced it
   * @param metrics validation metrics at save time
   * @param createdAt ISO-8601 time
   */
  public record Provenance(
      String kind,
      String cohortHash,
      String codeVersion,
      Map<String, Object> config,
      Map<String, Double> metrics,
      String createdAt) {}

  /** A loaded model and its provenance. */
  public record Loaded<M extends Model>(M model, Provenance provenance, String sha256) {}

  private ModelArtifact() {}

  public static String save(Configuration conf, String dir, Model model, Provenance provenance) {
    byte[] bytes = serialize(model);
    String sha = Hashing.sha256(bytes);
    AtomicDirectory.write(conf, dir, tmp -> {
      Path p = new Path(tmp, MODEL);
      try (OutputStream out = p.getFileSystem(conf).create(p, true)) {
        out.write(bytes);
      }
      Json.writeText(conf, tmp + "/" + CHECKSUM, sha + "  " + MODEL + "\n");
      Json.write(conf, tmp + "/" + PROVENANCE, provenance);
      return null;
    });
    return sha;
  }

  public static Loaded<ComputationGraph> loadGraph(Configuration conf, String dir) {
    byte[] bytes = verified(conf, dir);
    try {
      ComputationGraph g = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes), true);
      return new Loaded<>(g, Json.read(conf, dir + "/" + PROVENANCE, Provenance.class), Hashing.sha256(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot load model " + dir + "/" + MODEL, e);
    }
  }

  public static Loaded<MultiLayerNetwork> loadNetwork(Configuration conf, String dir) {
    byte[] bytes = verified(conf, dir);
    try {
      MultiLayerNetwork n = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes), true);
      return new Loaded<>(n, Json.read(conf, dir + "/" + PROVENANCE, Provenance.class), Hashing.sha256(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot load model " + dir + "/" + MODEL, e);
    }
  }

  /** The model bytes, after checking them against model.sha256. */
  public static byte[] verified(Configuration conf, String dir) {
    Path p = new Path(dir, MODEL);
    byte[] bytes;
    try (InputStream in = p.getFileSystem(conf).open(p)) {
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read model " + p, e);
    }
    String expected = Json.readText(conf, dir + "/" + CHECKSUM).trim().split("\\s+")[0];
    String actual = Hashing.sha256(bytes);
    if (!expected.equalsIgnoreCase(actual)) {
      throw new IllegalStateException("Cannot load model " + p + ": SHA-256 " + actual + " does not match " + CHECKSUM + " (" + expected
          + "); the file is corrupt or was changed");
    }
    return bytes;
  }

  private static byte[] serialize(Model model) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ModelSerializer.writeModel(model, out, true);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot serialize model", e);
    }
    return out.toByteArray();
  }
}
