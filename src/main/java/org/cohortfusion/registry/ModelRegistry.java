package org.cohortfusion.registry;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.TrainOutputs;

/**
 * A model registry on any Hadoop file system:
 *
 * <pre>
 * &lt;registry&gt;/&lt;name&gt;/versions/&lt;n&gt;/   model.zip, model.sha256, provenance.json, metrics.json, registration.json, manifest.json
 * &lt;registry&gt;/&lt;name&gt;/claims/&lt;n&gt;      who reserved version n (created atomically: the loser of a race takes n+1)
 * &lt;registry&gt;/&lt;name&gt;/aliases/&lt;alias&gt;.json   the version an alias points to, replaced in one rename
 * &lt;registry&gt;/&lt;name&gt;/events/&lt;seq&gt;.json    the append-only event log, one file per event, created atomically
 * &lt;registry&gt;/_lock.json                 {@link RegistryLock}
 * </pre>
 *
 * A version directory appears whole (it is filled under a hidden staging name, then renamed) and is
 * never changed; its manifest covers every file, and every read verifies it.
 */
public final class ModelRegistry {
  public static final String CHAMPION = "champion";
  public static final String CHALLENGER = "challenger";
  public static final String METRICS = "metrics.json";
  public static final String REGISTRATION = "registration.json";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
  private static final Pattern ALIAS = Pattern.compile("[a-z][a-z0-9_-]*");
  private static final int MAX_ATTEMPTS = 1000;

  private final Configuration conf;
  private final String root;

  /** How a version entered the registry. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Registration(
      String model,
      String source,
      String sourceManifestSha256,
      String runId,
      String user,
      String reason,
      String registeredAt) {}

  /** What an alias points to. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Alias(String alias, int version, String setAt, String runId, String user) {}

  /** One version, verified against its manifest. */
  public record Version(
      String model,
      int version,
      String dir,
      String manifestSha256,
      List<String> aliases,
      ModelArtifact.Provenance provenance,
      Registration registration) {}

  /** A model's versions and aliases. */
  public record Entry(String model, List<Integer> versions, Map<String, Integer> aliases) {}

  /** A registered version. */
  public record Registered(String model, int version, String dir, String manifestSha256) {}

  /** A moved alias. */
  public record Moved(String model, String alias, int version, Integer previous) {}

  /** One differing value of two versions. */
  public record Change(String key, Object a, Object b) {}

  /** A metric of two versions. */
  public record MetricChange(String metric, Double a, Double b, Double delta) {}

  /** What differs between two versions: configuration, data lineage, metrics. */
  public record Diff(
      String model,
      int a,
      int b,
      List<Change> config,
      List<Change> lineage,
      List<MetricChange> metrics) {}

  private ModelRegistry(Configuration conf, String root) {
    this.conf = conf;
    this.root = root;
  }

  public static ModelRegistry at(Configuration conf, String root) {
    return new ModelRegistry(conf, root);
  }

  public String root() {
    return root;
  }

  /** The registry's lock for one retrain at a time. */
  public RegistryLock lock(String owner, String runId, java.time.Duration ttl) {
    return RegistryLock.acquire(conf, root, owner, runId, ttl);
  }

  // ------------------------------------------------------------------------------------------
  // reading

  public List<Entry> list() {
    List<Entry> out = new ArrayList<>();
    for (String name : children(root, true)) {
      if (NAME.matcher(name).matches() && exists(modelDir(name) + "/versions")) {
        out.add(new Entry(name, versions(name), aliases(name)));
      }
    }
    return out;
  }

  public List<Integer> versions(String model) {
    checkName(model);
    TreeSet<Integer> out = new TreeSet<>();
    for (String n : children(modelDir(model) + "/versions", true)) {
      if (n.matches("[0-9]+")) {
        out.add(Integer.parseInt(n));
      }
    }
    return new ArrayList<>(out);
  }

  public Map<String, Integer> aliases(String model) {
    Map<String, Integer> out = new TreeMap<>();
    for (String f : children(modelDir(model) + "/aliases", false)) {
      if (f.endsWith(".json")) {
        String alias = f.substring(0, f.length() - ".json".length());
        out.put(alias, readAlias(model, alias).version());
      }
    }
    return out;
  }

  /** The version an alias points to; throws if the model has no such alias. */
  public int resolve(String model, String alias) {
    checkModel(model);
    checkAlias(alias);
    if (!exists(aliasPath(model, alias))) {
      throw new RegistryException(
          "Cannot resolve "
              + model
              + "@"
              + alias
              + ": no such alias (have "
              + aliases(model).keySet()
              + ")");
    }
    return readAlias(model, alias).version();
  }

  /** A version given as a number ("3", "v3") or an alias ("champion"). */
  public int select(String model, String versionOrAlias) {
    String s =
        versionOrAlias.startsWith("v") && versionOrAlias.substring(1).matches("[0-9]+")
            ? versionOrAlias.substring(1)
            : versionOrAlias;
    if (s.matches("[0-9]+")) {
      int v = Integer.parseInt(s);
      checkVersion(model, v, "select");
      return v;
    }
    return resolve(model, s);
  }

  /** A version with its provenance, after verifying every file against its manifest. */
  public Version show(String model, int version) {
    checkVersion(model, version, "show");
    String dir = versionDir(model, version);
    ModelArtifact.Verified v = ModelArtifact.verify(conf, dir);
    Registration reg;
    try {
      reg = Json.MAPPER.readValue(v.files().get(REGISTRATION), Registration.class);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "Cannot show " + model + " v" + version + ": " + REGISTRATION + " is not readable", e);
    }
    List<String> pointing = new ArrayList<>();
    aliases(model)
        .forEach(
            (a, n) -> {
              if (n == version) {
                pointing.add(a);
              }
            });
    return new Version(
        model,
        version,
        dir,
        Hashing.sha256(Json.readText(conf, dir + "/" + ModelArtifact.MANIFEST)),
        pointing,
        v.provenance(),
        reg);
  }

  /** The directory of a version, verified: what a stage loads with ModelArtifact. */
  public String modelPath(String model, int version) {
    checkVersion(model, version, "load");
    String dir = versionDir(model, version);
    ModelArtifact.verify(conf, dir);
    return dir;
  }

  /**
   * The version a run registered, if it did: a rerun of the same run id must not register twice.
   */
  public java.util.Optional<Integer> registeredBy(String model, String runId) {
    if (!exists(modelDir(model))) {
      return java.util.Optional.empty();
    }
    return events(model).stream()
        .filter(e -> RegistryEvent.REGISTERED.equals(e.type()) && runId.equals(e.runId()))
        .map(RegistryEvent::version)
        .findFirst();
  }

  /** The version an alias points to, if the model has that alias. */
  public java.util.Optional<Integer> aliasTarget(String model, String alias) {
    checkName(model);
    checkAlias(alias);
    return exists(aliasPath(model, alias))
        ? java.util.Optional.of(readAlias(model, alias).version())
        : java.util.Optional.empty();
  }

  /** The event log of a model, oldest first. */
  public List<RegistryEvent> events(String model) {
    checkModel(model);
    List<RegistryEvent> out = new ArrayList<>();
    for (String f : children(modelDir(model) + "/events", false)) {
      if (f.endsWith(".json")) {
        try {
          out.add(
              Json.MAPPER.readValue(
                  Json.readText(conf, modelDir(model) + "/events/" + f), RegistryEvent.class));
        } catch (IOException e) {
          throw new UncheckedIOException(
              "Cannot read event " + f + " of " + model + ": " + e.getMessage(), e);
        }
      }
    }
    out.sort((x, y) -> Long.compare(x.seq(), y.seq()));
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // writing

  /**
   * Copies the trained model in {@code from} (a model directory, or a train output directory of one
   * model holding {@code model/}) into the next free version. The source is verified first, the
   * copy again before it gets a number.
   */
  public Registered register(String model, String from, RunInfo run) {
    return register(model, from, Map.of(), run);
  }

  /**
   * As {@link #register(String, String, RunInfo)}, with {@code attachments} (path relative to the
   * version, bytes) written into the version beside the model and covered by its manifest: the
   * encoders it was trained on, its lineage.
   */
  public Registered register(
      String model, String from, Map<String, byte[]> attachments, RunInfo run) {
    checkName(model);
    String source =
        exists(from + "/" + ModelArtifact.MODEL) || !exists(TrainOutputs.published(from))
            ? from
            : TrainOutputs.published(from);
    if (!exists(source + "/" + ModelArtifact.MODEL)) {
      throw new RegistryException(
          "Cannot register "
              + model
              + ": no trained model at "
              + from
              + " (expected "
              + ModelArtifact.MODEL
              + " there or in its model/ directory)");
    }
    ModelArtifact.Verified verified = ModelArtifact.verify(conf, source);
    checkAgainstSummary(model, source);
    String sourceManifest =
        Hashing.sha256(Json.readText(conf, source + "/" + ModelArtifact.MANIFEST));
    String staging = modelDir(model) + "/.staging-" + UUID.randomUUID();
    try {
      FileSystem fs = new Path(root).getFileSystem(conf);
      for (Map.Entry<String, byte[]> f : verified.files().entrySet()) {
        if (!f.getKey().equals(ModelArtifact.MANIFEST)) {
          write(fs, new Path(staging, f.getKey()), f.getValue());
        }
      }
      for (Map.Entry<String, byte[]> f : attachments.entrySet()) {
        if (verified.files().containsKey(f.getKey())
            || f.getKey().startsWith("/")
            || f.getKey().contains("..")) {
          throw new IllegalArgumentException(
              "Cannot register "
                  + model
                  + ": attachment "
                  + f.getKey()
                  + " would replace a model file or leave the version");
        }
        write(fs, new Path(staging, f.getKey()), f.getValue());
      }
      Map<String, Double> metrics =
          verified.provenance().metrics() == null ? Map.of() : verified.provenance().metrics();
      Json.write(conf, staging + "/" + METRICS, metrics);
      Json.write(
          conf,
          staging + "/" + REGISTRATION,
          new Registration(
              model,
              fs.makeQualified(new Path(source)).toString(),
              sourceManifest,
              run.runId(),
              run.user(),
              run.reason(),
              Instant.now().toString()));
      String manifestSha = ModelArtifact.writeManifest(conf, staging);
      ModelArtifact.verify(conf, staging);
      fs.mkdirs(new Path(modelDir(model) + "/versions"));
      int version = claim(model, run);
      Path dst = new Path(versionDir(model, version));
      // Only the claimant writes versions/<n>: the destination is free, so rename neither nests nor
      // replaces.
      if (fs.exists(dst) || !fs.rename(new Path(staging), dst)) {
        throw new IOException("rename of " + staging + " to " + dst + " failed");
      }
      append(model, RegistryEvent.REGISTERED, null, version, null, run);
      return new Registered(model, version, dst.toString(), manifestSha);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot register " + model + " from " + from + ": " + e.getMessage(), e);
    } finally {
      delete(staging);
    }
  }

  /**
   * A model published by train is registered only if it is the one train recorded in its
   * summary.json ({@code <train>/summary.json} beside {@code <train>/<model>/model}): a manifest
   * can be rewritten together with the files it covers, the summary is a second witness.
   */
  private void checkAgainstSummary(String model, String source) {
    Path modelDir = new Path(source).getParent();
    if (modelDir == null || modelDir.getParent() == null) {
      return;
    }
    String trainDir = modelDir.getParent().toString();
    String summaryPath = TrainOutputs.summary(trainDir);
    if (!exists(summaryPath)) {
      return;
    }
    TrainOutputs.Summary summary = Json.read(conf, summaryPath, TrainOutputs.Summary.class);
    for (TrainOutputs.Entry e : summary.models()) {
      if (e.modelDir() != null
          && new Path(e.modelDir()).getParent().getName().equals(modelDir.getName())) {
        try {
          EvaluateAction.checkPublished(conf, trainDir, e, summaryPath);
        } catch (IllegalStateException mismatch) {
          throw new IllegalStateException(
              "Cannot register "
                  + model
                  + " from "
                  + source
                  + ": "
                  + mismatch.getMessage().replaceFirst("^Cannot evaluate '[^']*': ", ""),
              mismatch);
        }
        return;
      }
    }
  }

  /**
   * Points {@code alias} (default champion) of {@code model} at {@code version}, logging the move.
   */
  public Moved promote(String model, int version, String alias, RunInfo run) {
    checkAlias(alias);
    checkVersion(model, version, "promote");
    Integer previous = exists(aliasPath(model, alias)) ? readAlias(model, alias).version() : null;
    return move(model, alias, version, previous, RegistryEvent.PROMOTED, run);
  }

  /**
   * Points {@code alias} back at the version it had before its current one, as the event log tells:
   * each promotion pushes a version, each rollback pops one, so rolling back twice goes two back.
   */
  public Moved rollback(String model, String alias, RunInfo run) {
    checkModel(model);
    checkAlias(alias);
    Deque<Integer> history = new ArrayDeque<>();
    for (RegistryEvent e : events(model)) {
      if (!alias.equals(e.alias())) {
        continue;
      }
      if (RegistryEvent.PROMOTED.equals(e.type()) && !Objects.equals(history.peek(), e.version())) {
        history.push(e.version());
      } else if (RegistryEvent.ROLLED_BACK.equals(e.type()) && !history.isEmpty()) {
        history.pop();
      }
    }
    if (history.size() < 2) {
      throw new RegistryException(
          "Cannot roll back "
              + model
              + "@"
              + alias
              + ": the event log has no earlier "
              + alias
              + (history.isEmpty() ? "" : " than v" + history.peek()));
    }
    int current = history.pop();
    return move(model, alias, history.peek(), current, RegistryEvent.ROLLED_BACK, run);
  }

  private Moved move(
      String model, String alias, int version, Integer previous, String type, RunInfo run) {
    // The log first: it is what rollback reads, and a move it does not record could not be undone.
    append(model, type, alias, version, previous, run);
    try {
      AtomicDirectory.replaceFile(
          conf,
          aliasPath(model, alias),
          Json.MAPPER.writeValueAsBytes(
              new Alias(alias, version, Instant.now().toString(), run.runId(), run.user())));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot move " + model + "@" + alias + ": " + e.getMessage(), e);
    }
    return new Moved(model, alias, version, previous);
  }

  // ------------------------------------------------------------------------------------------ diff

  public Diff diff(String model, int a, int b) {
    Version va = show(model, a);
    Version vb = show(model, b);
    Map<String, Object> ca = new TreeMap<>();
    Map<String, Object> cb = new TreeMap<>();
    flatten("", va.provenance().config(), ca);
    flatten("", vb.provenance().config(), cb);
    List<Change> config = changes(ca, cb);
    Map<String, Object> la = lineage(va);
    Map<String, Object> lb = lineage(vb);
    List<Change> lineage = changes(la, lb);
    Map<String, Double> ma =
        va.provenance().metrics() == null ? Map.of() : va.provenance().metrics();
    Map<String, Double> mb =
        vb.provenance().metrics() == null ? Map.of() : vb.provenance().metrics();
    List<MetricChange> metrics = new ArrayList<>();
    for (String k : new TreeSet<>(union(ma.keySet(), mb.keySet()))) {
      Double x = ma.get(k);
      Double y = mb.get(k);
      metrics.add(new MetricChange(k, x, y, x == null || y == null ? null : y - x));
    }
    return new Diff(model, a, b, config, lineage, metrics);
  }

  private static Map<String, Object> lineage(Version v) {
    Map<String, Object> out = new TreeMap<>();
    out.put("kind", v.provenance().kind());
    out.put("cohortHash", v.provenance().cohortHash());
    out.put("codeVersion", v.provenance().codeVersion());
    out.put("createdAt", v.provenance().createdAt());
    Object emb =
        v.provenance().config() == null ? null : v.provenance().config().get("embeddingsSha256");
    out.put("embeddingsSha256", emb);
    out.put("source", v.registration().source());
    out.put("sourceManifestSha256", v.registration().sourceManifestSha256());
    return out;
  }

  private static List<Change> changes(Map<String, Object> a, Map<String, Object> b) {
    List<Change> out = new ArrayList<>();
    for (String k : new TreeSet<>(union(a.keySet(), b.keySet()))) {
      if (!Objects.equals(String.valueOf(a.get(k)), String.valueOf(b.get(k)))) {
        out.add(new Change(k, a.get(k), b.get(k)));
      }
    }
    return out;
  }

  private static <T> Collection<T> union(Collection<T> a, Collection<T> b) {
    List<T> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /**
   * Dotted keys of a JSON tree; arrays stay whole. Through the tree, because Json.MAPPER binds
   * untyped nested values to Scala collections.
   */
  private static void flatten(String prefix, Object value, Map<String, Object> out) {
    flattenNode(prefix, Json.MAPPER.valueToTree(value), out);
  }

  private static void flattenNode(
      String prefix, com.fasterxml.jackson.databind.JsonNode node, Map<String, Object> out) {
    if (node.isObject()) {
      node.fields()
          .forEachRemaining(
              e ->
                  flattenNode(
                      prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(),
                      e.getValue(),
                      out));
    } else if (!prefix.isEmpty() && !node.isMissingNode()) {
      out.put(prefix, node.isValueNode() ? node.asText() : node.toString());
    }
  }

  // ------------------------------------------------------------------------------------------
  // internals

  /**
   * Reserves the next free version number: create-if-absent of claims/n, n+1 for the loser of a
   * race.
   */
  private int claim(String model, RunInfo run) throws IOException {
    int n = 1;
    for (String c : children(modelDir(model) + "/claims", false)) {
      if (c.matches("[0-9]+")) {
        n = Math.max(n, Integer.parseInt(c) + 1);
      }
    }
    for (int v : versions(model)) {
      n = Math.max(n, v + 1);
    }
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++, n++) {
      byte[] who =
          Json.MAPPER.writeValueAsBytes(
              Map.of("runId", run.runId(), "user", run.user(), "at", Instant.now().toString()));
      if (AtomicDirectory.createExclusive(conf, modelDir(model) + "/claims/" + n, who)) {
        return n;
      }
    }
    throw new IllegalStateException(
        "Cannot register "
            + model
            + ": no free version number after "
            + MAX_ATTEMPTS
            + " attempts");
  }

  private void append(
      String model, String type, String alias, Integer version, Integer previous, RunInfo run) {
    long seq =
        children(modelDir(model) + "/events", false).stream()
                .filter(f -> f.endsWith(".json"))
                .count()
            + 1;
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++, seq++) {
      RegistryEvent e =
          new RegistryEvent(
              seq,
              type,
              model,
              alias,
              version,
              previous,
              run.reason(),
              run.runId(),
              run.user(),
              Instant.now().toString());
      byte[] bytes;
      try {
        bytes = Json.MAPPER.writeValueAsBytes(e);
      } catch (IOException ex) {
        throw new UncheckedIOException(ex);
      }
      if (AtomicDirectory.createExclusive(
          conf,
          modelDir(model) + "/events/" + String.format(Locale.ROOT, "%012d.json", seq),
          bytes)) {
        return;
      }
    }
    throw new IllegalStateException("Cannot log event of " + model + ": no free sequence number");
  }

  private Alias readAlias(String model, String alias) {
    try {
      return Json.MAPPER.readValue(Json.readText(conf, aliasPath(model, alias)), Alias.class);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot read alias " + model + "@" + alias + ": " + e.getMessage(), e);
    }
  }

  private void checkModel(String model) {
    checkName(model);
    if (!exists(modelDir(model) + "/versions")) {
      throw new RegistryException(
          "Cannot find model '"
              + model
              + "' in registry "
              + root
              + ": not registered (have "
              + list().stream().map(Entry::model).toList()
              + ")");
    }
  }

  private void checkVersion(String model, int version, String what) {
    checkModel(model);
    if (!exists(versionDir(model, version))) {
      throw new RegistryException(
          "Cannot "
              + what
              + " "
              + model
              + " v"
              + version
              + ": no such version (have "
              + versions(model)
              + ")");
    }
  }

  private static void checkName(String model) {
    if (model == null || !NAME.matcher(model).matches()) {
      throw new RegistryException(
          "Cannot use model name '" + model + "': letters, digits, '_', '.', '-' only");
    }
  }

  private static void checkAlias(String alias) {
    if (alias == null || !ALIAS.matcher(alias).matches()) {
      throw new RegistryException(
          "Cannot use alias '" + alias + "': lower-case letters, digits, '_', '-', from a letter");
    }
  }

  private String modelDir(String model) {
    return root + "/" + model;
  }

  private String versionDir(String model, int version) {
    return modelDir(model) + "/versions/" + version;
  }

  private String aliasPath(String model, String alias) {
    return modelDir(model) + "/aliases/" + alias + ".json";
  }

  /** Names of the non-hidden children of a directory (none if it does not exist). */
  private List<String> children(String dir, boolean directories) {
    try {
      Path p = new Path(dir);
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p)) {
        return List.of();
      }
      List<String> out = new ArrayList<>();
      for (FileStatus s : fs.listStatus(p)) {
        String n = s.getPath().getName();
        if (s.isDirectory() == directories && !n.startsWith(".") && !n.startsWith("_")) {
          out.add(n);
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  private boolean exists(String path) {
    try {
      Path p = new Path(path);
      return p.getFileSystem(conf).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void delete(String path) {
    try {
      Path p = new Path(path);
      p.getFileSystem(conf).delete(p, true);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + path + ": " + e.getMessage(), e);
    }
  }

  private static void write(FileSystem fs, Path p, byte[] bytes) throws IOException {
    try (OutputStream out = fs.create(p, false)) {
      out.write(bytes);
    }
  }
}
