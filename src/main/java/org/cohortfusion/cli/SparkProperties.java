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
 * <p>On YARN and Kubernetes it also bounds ND4J's native memory to the containers' size ({@link
 * #withNativeMemoryBounds}).
 *
 * <p>Usage: {@code SparkProperties OUT PROJECT [DEFAULTS] [--driver-java-option OPT]...
 * [--executor-java-option OPT]... [--master M] [--deploy-mode client|cluster] [--memory-setting
 * KEY=VALUE]...} (DEFAULTS may be a missing file; memory settings are those of the spark-submit
 * command line, which spark-submit applies itself: they only size the native bounds).
 */
public final class SparkProperties {
  static final String DRIVER_OPTS = "spark.driver.extraJavaOptions";
  static final String EXECUTOR_OPTS = "spark.executor.extraJavaOptions";
  static final Set<String> APPENDED = Set.of(DRIVER_OPTS, EXECUTOR_OPTS);

  /** Spark's floor for a container's memory overhead (MEMORY_OVERHEAD_MIN), in MiB. */
  static final long MIN_OVERHEAD_MIB = 384;

  /** Spark's default overhead factor (spark.{driver,executor}.memoryOverheadFactor). */
  static final double OVERHEAD_FACTOR = 0.10;

  /** Below this an off-heap bound for ND4J would fail any training step: left to JavaCPP. */
  static final long MIN_OFF_HEAP_MIB = 256;

  static final String MAX_BYTES = "-Dorg.bytedeco.javacpp.maxbytes=";
  static final String MAX_PHYSICAL_BYTES = "-Dorg.bytedeco.javacpp.maxphysicalbytes=";

  private SparkProperties() {}

  public static void main(String[] args) {
    List<String> positional = new ArrayList<>();
    List<String> driver = new ArrayList<>();
    List<String> executor = new ArrayList<>();
    String master = "";
    String deployMode = "client";
    Map<String, String> memory = new TreeMap<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--driver-java-option" -> driver.add(args[++i]);
        case "--executor-java-option" -> executor.add(args[++i]);
        case "--master" -> master = args[++i];
        case "--deploy-mode" -> deployMode = args[++i];
        case "--memory-setting" -> {
          String kv = args[++i];
          int eq = kv.indexOf('=');
          if (eq <= 0) {
            System.err.println(
                "jobs/submit.sh: Cannot read the memory setting '" + kv + "': expected KEY=VALUE");
            System.exit(ExitCodes.USER_ERROR);
          }
          memory.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
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
    List<String> warnings = new ArrayList<>();
    try {
      merged = withNativeMemoryBounds(merged, memory, master, deployMode, warnings);
    } catch (IllegalArgumentException e) {
      System.err.println("jobs/submit.sh: " + e.getMessage());
      System.exit(ExitCodes.USER_ERROR);
    }
    warnings.forEach(w -> System.err.println("cohort-fusion: " + w));
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
   * On YARN and Kubernetes an executor (and a cluster-mode driver) lives in a container of its heap
   * plus its memory overhead, and the resource manager kills a container that outgrows it. ND4J
   * keeps its arrays off-heap, where JavaCPP lets them grow to the heap's size and the process to
   * twice the heap by default: well past the container. So each such JVM gets JavaCPP's two bounds,
   * unless its options already name either: its off-heap arrays at most the overhead less Spark's
   * own minimum overhead (384 MiB, left for the JVM's native memory), and the whole process at most
   * the container (heap plus overhead). Reaching either makes JavaCPP collect garbage and, if that
   * does not free enough, fail the task with an OutOfMemoryError naming the bound, which Spark
   * retries and the log explains, instead of a container killed from outside. An overhead too small
   * to leave ND4J 256 MiB gets a warning and only the process bound. Elsewhere (standalone, local)
   * nothing limits the JVM from outside and the properties are returned unchanged.
   *
   * @param commandLine memory settings of the spark-submit command line, which win over {@code
   *     props}
   * @param warnings receives one line per JVM whose overhead leaves ND4J too little
   */
  static Map<String, String> withNativeMemoryBounds(
      Map<String, String> props,
      Map<String, String> commandLine,
      String master,
      String deployMode,
      List<String> warnings) {
    String m = master == null ? "" : master.trim();
    if (!m.equals("yarn") && !m.startsWith("k8s://")) {
      return props;
    }
    Map<String, String> sizes = new TreeMap<>(props);
    sizes.putAll(commandLine);
    Map<String, String> out = new TreeMap<>(props);
    boundRole(out, sizes, "executor", EXECUTOR_OPTS, warnings);
    if ("cluster".equals(deployMode)) {
      boundRole(out, sizes, "driver", DRIVER_OPTS, warnings);
    }
    return out;
  }

  private static void boundRole(
      Map<String, String> props,
      Map<String, String> sizes,
      String role,
      String optionsKey,
      List<String> warnings) {
    String options = props.getOrDefault(optionsKey, "");
    if (options.contains(MAX_BYTES) || options.contains(MAX_PHYSICAL_BYTES)) {
      return;
    }
    String memoryKey = "spark." + role + ".memory";
    String overheadKey = "spark." + role + ".memoryOverhead";
    long heap = mebibytes(sizes.getOrDefault(memoryKey, "1g"), memoryKey);
    long overhead =
        sizes.containsKey(overheadKey)
            ? mebibytes(sizes.get(overheadKey), overheadKey)
            : Math.max(
                MIN_OVERHEAD_MIB,
                (long)
                    (heap
                        * Double.parseDouble(
                            sizes.getOrDefault(
                                "spark." + role + ".memoryOverheadFactor",
                                String.valueOf(OVERHEAD_FACTOR)))));
    long offHeap = overhead - MIN_OVERHEAD_MIB;
    String bounds = MAX_PHYSICAL_BYTES + (heap + overhead) + "m";
    if (offHeap >= MIN_OFF_HEAP_MIB) {
      bounds = MAX_BYTES + offHeap + "m " + bounds;
    } else {
      warnings.add(
          "the "
              + role
              + "'s memory overhead ("
              + overhead
              + " MiB) leaves ND4J's off-heap arrays less than "
              + MIN_OFF_HEAP_MIB
              + " MiB beyond the JVM's own "
              + MIN_OVERHEAD_MIB
              + ": set "
              + overheadKey
              + " (conf/spark-yarn.properties suggests a quarter of the heap)");
    }
    props.put(optionsKey, appendOptions(options, bounds));
  }

  /**
   * A Spark memory size ({@code 1536}, {@code 1536m}, {@code 4g}, {@code 1t}; no unit means MiB, as
   * for Spark's memory settings) in MiB.
   */
  static long mebibytes(String value, String key) {
    String v = value.trim().toLowerCase(java.util.Locale.ROOT);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)([kmgtp]?)b?").matcher(v);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "Cannot read " + key + " = '" + value + "': expected a size such as 4g or 1536m");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "k" -> n / 1024;
      case "g" -> n * 1024;
      case "t" -> n * 1024 * 1024;
      case "p" -> n * 1024 * 1024 * 1024;
      default -> n;
    };
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
