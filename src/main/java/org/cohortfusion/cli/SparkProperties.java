package org.cohortfusion.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * Merges the cluster's spark-defaults.conf with a project properties file for jobs/submit.sh:
 * spark-submit --properties-file replaces spark-defaults.conf entirely, so the cluster's settings
 * (event log, history server, queues, credentials) would be lost. The project's value wins for each
 * key the project file sets, except the extraJavaOptions, where the project's options are appended
 * to the cluster's (dropping the cluster's could drop its proxy or Kerberos settings). Files are
 * read the way spark-submit reads them (java.util.Properties, values trimmed).
 *
 * <p>Usage: {@code SparkProperties OUT PROJECT [DEFAULTS] [--driver-java-option OPT]...
 * [--executor-java-option OPT]...} (DEFAULTS may be a missing file).
 */
public final class SparkProperties {
  static final String DRIVER_OPTS = "spark.driver.extraJavaOptions";
  static final String EXECUTOR_OPTS = "spark.executor.extraJavaOptions";
  static final Set<String> APPENDED = Set.of(DRIVER_OPTS, EXECUTOR_OPTS);

  private SparkProperties() {}

  public static void main(String[] args) {
    List<String> positional = new ArrayList<>();
    List<String> driver = new ArrayList<>();
    List<String> executor = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--driver-java-option" -> driver.add(args[++i]);
        case "--executor-java-option" -> executor.add(args[++i]);
        default -> positional.add(args[i]);
      }
    }
    if (positional.size() < 2 || positional.size() > 3) {
      System.err.println(
          "usage: SparkProperties OUT PROJECT [DEFAULTS] [--driver-java-option OPT]... [--executor-java-option OPT]...");
      System.exit(ExitCodes.USER_ERROR);
    }
    Path defaults = positional.size() == 3 ? Path.of(positional.get(2)) : null;
    Map<String, String> merged =
        merge(
            defaults != null && Files.isRegularFile(defaults) ? read(defaults) : Map.of(),
            read(Path.of(positional.get(1))));
    merged = withJavaOptions(merged, DRIVER_OPTS, driver);
    merged = withJavaOptions(merged, EXECUTOR_OPTS, executor);
    write(Path.of(positional.get(0)), merged);
  }

  static Map<String, String> read(Path file) {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot read Spark properties " + file + ": " + e.getMessage(), e);
    }
    Map<String, String> out = new TreeMap<>();
    p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k).trim()));
    return out;
  }

  /** The cluster's defaults, overridden key by key by the project's; extraJavaOptions appended. */
  static Map<String, String> merge(
      Map<String, String> clusterDefaults, Map<String, String> project) {
    Map<String, String> out = new TreeMap<>(clusterDefaults);
    project.forEach(
        (key, value) -> {
          if (APPENDED.contains(key) && out.containsKey(key)) {
            out.put(key, appendOptions(out.get(key), value));
          } else {
            out.put(key, value);
          }
        });
    return out;
  }

  static Map<String, String> withJavaOptions(
      Map<String, String> props, String key, List<String> options) {
    if (options.isEmpty()) {
      return props;
    }
    Map<String, String> out = new TreeMap<>(props);
    out.put(key, appendOptions(out.getOrDefault(key, ""), String.join(" ", options)));
    return out;
  }

  /**
   * {@code first} then {@code more}, as given: no de-duplication, since splitting could break a
   * quoted option ({@code -Dx="a b"}) and a repeated --add-opens is harmless; later -D settings win
   * in the JVM.
   */
  static String appendOptions(String first, String more) {
    String a = first.trim();
    String b = more.trim();
    return a.isEmpty() ? b : b.isEmpty() ? a : a + " " + b;
  }

  static void write(Path file, Map<String, String> props) {
    Properties p = new Properties();
    p.putAll(props);
    try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      p.store(
          out,
          "Written by jobs/submit.sh: the cluster's spark-defaults.conf merged with the project's properties");
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write Spark properties " + file + ": " + e.getMessage(), e);
    }
  }
}
