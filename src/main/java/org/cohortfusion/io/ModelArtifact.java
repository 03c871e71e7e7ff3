package org.cohortfusion.io;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A trained network on disk with its provenance: {@code model.zip} (DL4J ModelSerializer, with
 * updater state so training can resume), {@code model.sha256}, {@code provenance.json} and {@code
 * manifest.json}, the SHA-256 of every other file of the directory. The directory is published
 * atomically, and every load verifies the whole manifest first: provenance carries the
 * preprocessing and the input-modality order, so a changed provenance is as wrong as a changed
 * model. A truncated, tampered, missing or unlisted file is never used.
 */
public final class ModelArtifact {
  public static final String MODEL = "model.zip";
  public static final String CHECKSUM = "model.sha256";
  public static final String PROVENANCE = "provenance.json";
  public static final String MANIFEST = "manifest.json";

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

  /**
   * manifest.json: SHA-256 of every file of a model directory but itself, by path relative to the
   * directory.
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Manifest(Map<String, String> sha256, String createdAt) {}

  /** The files of a model directory, read once and checked against its manifest. */
  public record Verified(String dir, Map<String, byte[]> files) {
    public byte[] model() {
      return files.get(MODEL);
    }

    public Provenance provenance() {
      try {
        return Json.MAPPER.readValue(files.get(PROVENANCE), Provenance.class);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read provenance of model " + dir, e);
      }
    }
  }

  /** A loaded model and its provenance; {@code sha256} is model.zip's. */
  public record Loaded<M extends Model>(M model, Provenance provenance, String sha256) {}

  private ModelArtifact() {}

  public static String save(Configuration conf, String dir, Model model, Provenance provenance) {
    byte[] bytes = serialize(model);
    String sha = Hashing.sha256(bytes);
    AtomicDirectory.write(
        conf,
        dir,
        tmp -> {
          Path p = new Path(tmp, MODEL);
          try (OutputStream out = p.getFileSystem(conf).create(p, true)) {
            out.write(bytes);
          }
          Json.writeText(conf, tmp + "/" + CHECKSUM, sha + "  " + MODEL + "\n");
          Json.write(conf, tmp + "/" + PROVENANCE, provenance);
          writeManifest(conf, tmp);
          return null;
        });
    return sha;
  }

  /**
   * Writes {@code <dir>/manifest.json} over every file of the directory (hidden files such as
   * Hadoop's .crc sidecars excepted) and returns the manifest's own SHA-256, which identifies the
   * whole directory.
   */
  public static String writeManifest(Configuration conf, String dir) {
    Map<String, String> sums = new TreeMap<>();
    files(conf, dir)
        .forEach(
            (name, bytes) -> {
              if (!name.equals(MANIFEST)) {
                sums.put(name, Hashing.sha256(bytes));
              }
            });
    Json.write(conf, dir + "/" + MANIFEST, new Manifest(sums, Instant.now().toString()));
    return Hashing.sha256(Json.readText(conf, dir + "/" + MANIFEST));
  }

  public static Loaded<ComputationGraph> loadGraph(Configuration conf, String dir) {
    Verified v = verify(conf, dir);
    try {
      ComputationGraph g =
          ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(v.model()), true);
      return new Loaded<>(g, v.provenance(), Hashing.sha256(v.model()));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot load model " + dir + "/" + MODEL, e);
    }
  }

  public static Loaded<MultiLayerNetwork> loadNetwork(Configuration conf, String dir) {
    Verified v = verify(conf, dir);
    try {
      MultiLayerNetwork n =
          ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(v.model()), true);
      return new Loaded<>(n, v.provenance(), Hashing.sha256(v.model()));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot load model " + dir + "/" + MODEL, e);
    }
  }

  /** The model bytes, after checking every file of the directory against manifest.json. */
  public static byte[] verified(Configuration conf, String dir) {
    return verify(conf, dir).model();
  }

  /**
   * Every file of a model directory, checked against its manifest: each listed file present with
   * its SHA-256, no file unlisted. The error names the first file that does not match.
   */
  public static Verified verify(Configuration conf, String dir) {
    return verify(conf, dir, MODEL, PROVENANCE);
  }

  /**
   * Every file of a directory checked against its manifest, as {@link #verify(Configuration,
   * String)}, for directories that hold other files than a DL4J model (a Spark ML pipeline): {@code
   * required} must be listed.
   */
  public static Verified verify(Configuration conf, String dir, String... required) {
    if (!exists(conf, dir)) {
      // A publish killed between its renames is finished by its journal; then the directory is
      // back.
      AtomicDirectory.recover(conf, dir, Instant.now());
    }
    Map<String, byte[]> files = files(conf, dir);
    byte[] manifestBytes = files.remove(MANIFEST);
    if (manifestBytes == null) {
      throw new IllegalStateException(
          "Cannot load model "
              + dir
              + ": no "
              + MANIFEST
              + " (saved by an older version or tampered with; train or register it again)");
    }
    Manifest manifest;
    try {
      manifest = Json.MAPPER.readValue(manifestBytes, Manifest.class);
    } catch (IOException e) {
      throw new IllegalStateException(
          "Cannot load model " + dir + ": " + MANIFEST + " is not readable: " + e.getMessage(), e);
    }
    if (manifest.sha256() == null || !manifest.sha256().keySet().containsAll(List.of(required))) {
      throw new IllegalStateException(
          "Cannot load model "
              + dir
              + ": "
              + MANIFEST
              + " does not list "
              + String.join(" and ", required));
    }
    for (Map.Entry<String, String> e : manifest.sha256().entrySet()) {
      byte[] bytes = files.get(e.getKey());
      if (bytes == null) {
        throw new IllegalStateException(
            "Cannot load model "
                + dir
                + ": "
                + e.getKey()
                + " is listed in "
                + MANIFEST
                + " but missing");
      }
      String actual = Hashing.sha256(bytes);
      if (!actual.equalsIgnoreCase(e.getValue())) {
        throw new IllegalStateException(
            "Cannot load model "
                + dir
                + ": "
                + e.getKey()
                + " has SHA-256 "
                + actual
                + ", "
                + MANIFEST
                + " says "
                + e.getValue()
                + " (does not match: the file is corrupt or was changed)");
      }
    }
    for (String name : files.keySet()) {
      if (!manifest.sha256().containsKey(name)) {
        throw new IllegalStateException(
            "Cannot load model " + dir + ": " + name + " is not listed in " + MANIFEST);
      }
    }
    return new Verified(dir, files);
  }

  /** Every non-hidden file under dir (recursively), by path relative to dir. */
  private static Map<String, byte[]> files(Configuration conf, String dir) {
    Path root = new Path(dir);
    Map<String, byte[]> out = new TreeMap<>();
    try {
      FileSystem fs = root.getFileSystem(conf);
      if (!fs.exists(root)) {
        throw new IllegalStateException("Cannot load model " + dir + ": no such directory");
      }
      String prefix = fs.makeQualified(root).toUri().getPath();
      RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
      while (it.hasNext()) {
        Path p = it.next().getPath();
        String rel = p.toUri().getPath().substring(prefix.length()).replaceFirst("^/", "");
        if (hidden(rel)) {
          continue;
        }
        try (InputStream in = fs.open(p)) {
          out.put(rel, in.readAllBytes());
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read model " + dir + ": " + e.getMessage(), e);
    }
  }

  private static boolean hidden(String relative) {
    for (String part : relative.split("/")) {
      if (part.startsWith(".") || part.startsWith("_")) {
        return true;
      }
    }
    return false;
  }

  private static boolean exists(Configuration conf, String dir) {
    try {
      Path p = new Path(dir);
      return p.getFileSystem(conf).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] serialize(Model model) {
    return bytes(model, true);
  }

  /**
   * {@code model} in DL4J's format, as bytes (to broadcast it, or to save it); the updater's state
   * only when {@code withUpdater}: a model that is only scored does not need it.
   */
  public static byte[] bytes(Model model, boolean withUpdater) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ModelSerializer.writeModel(model, out, withUpdater);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot serialize model", e);
    }
    return out.toByteArray();
  }
}
