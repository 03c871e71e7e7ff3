package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conf/spark-*.properties files carry Spark's Java 17 module options (cluster-mode drivers get
 * no others), and jobs/submit.sh merges them into the cluster's spark-defaults.conf.
 */
class SparkPropertiesTest {
  private static final Path REPO = Path.of(System.getProperty("cohortfusion.repo", "."));

  @TempDir Path dir;

  /** The module options of pom.xml's spark.java17.opens: the one list the copies must match. */
  static List<String> pomOpens() throws IOException {
    Matcher m =
        Pattern.compile("<spark\\.java17\\.opens>(.*?)</spark\\.java17\\.opens>", Pattern.DOTALL)
            .matcher(Files.readString(REPO.resolve("pom.xml")));
    assertTrue(m.find(), "pom.xml has no spark.java17.opens property");
    List<String> opens = Arrays.asList(m.group(1).trim().split("\\s+"));
    assertTrue(
        opens.size() >= 15 && opens.contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"),
        opens.toString());
    return opens;
  }

  static List<Path> clusterPropertiesFiles() throws IOException {
    try (Stream<Path> files = Files.list(REPO.resolve("conf"))) {
      return files
          .filter(p -> p.getFileName().toString().matches("spark-.*\\.properties"))
          .filter(p -> !p.getFileName().toString().equals("spark-local.properties"))
          .sorted()
          .toList();
    }
  }

  @Test
  void everyClusterPropertiesFileCarriesThePomsModuleOptionsForDriverAndExecutors()
      throws IOException {
    List<String> opens = pomOpens();
    List<Path> files = clusterPropertiesFiles();
    assertEquals(
        List.of(
            "spark-cluster.properties",
            "spark-gpu.properties",
            "spark-k8s.properties",
            "spark-standalone.properties",
            "spark-yarn.properties"),
        files.stream().map(p -> p.getFileName().toString()).toList());
    for (Path file : files) {
      Map<String, String> props = SparkProperties.read(file);
      for (String key : List.of(SparkProperties.DRIVER_OPTS, SparkProperties.EXECUTOR_OPTS)) {
        String value = props.get(key);
        assertTrue(value != null, file + " sets no " + key);
        List<String> options = Arrays.asList(value.split("\\s+"));
        for (String option : opens) {
          assertTrue(options.contains(option), file.getFileName() + " " + key + " lacks " + option);
        }
        assertTrue(
            options.contains("-Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp-cache"),
            file + " " + key);
      }
    }
  }

  @Test
  void theEmbeddedLauncherCarriesThePomsModuleOptions() throws IOException {
    // jobs/cohort-fusion starts embedded Spark with its own copy (JAVA17_OPENS=(...)).
    Matcher m =
        Pattern.compile("JAVA17_OPENS=\\((.*?)\\)", Pattern.DOTALL)
            .matcher(Files.readString(REPO.resolve("jobs/cohort-fusion")));
    assertTrue(m.find());
    assertEquals(pomOpens(), Arrays.asList(m.group(1).trim().split("\\s+")));
  }

  @Test
  void theProjectWinsForItsKeysTheClustersOtherKeysStayAndJavaOptionsAreAppended() {
    Map<String, String> cluster =
        Map.of(
            "spark.eventLog.enabled", "true",
            "spark.serializer", "org.apache.spark.serializer.JavaSerializer",
            "spark.driver.extraJavaOptions", "-Dhttp.proxyHost=proxy");
    Map<String, String> project =
        Map.of(
            "spark.serializer", "org.apache.spark.serializer.KryoSerializer",
            "spark.driver.extraJavaOptions", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "spark.executor.extraJavaOptions", "-Da=1");
    Map<String, String> merged = SparkProperties.merge(cluster, project);
    assertEquals(
        Map.of(
            "spark.eventLog.enabled", "true",
            "spark.serializer", "org.apache.spark.serializer.KryoSerializer",
            "spark.driver.extraJavaOptions",
                "-Dhttp.proxyHost=proxy --add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "spark.executor.extraJavaOptions", "-Da=1"),
        merged);
  }

  @Test
  void theMergedFileReadsBackAsSparkReadsIt() throws IOException {
    Path defaults =
        Files.writeString(
            dir.resolve("spark-defaults.conf"),
            "# cluster\nspark.master   spark://m:7077\nspark.executor.extraJavaOptions  -Dx=\"a b\"  \nspark.kryoserializer.buffer.max 512m\n");
    Path out = dir.resolve("merged.properties");
    SparkProperties.main(
        new String[] {
          out.toString(),
          REPO.resolve("conf/spark-standalone.properties").toString(),
          defaults.toString(),
          "--driver-java-option",
          "-Dlog4j2.configurationFile=/opt/l.properties",
          "--executor-java-option",
          "-Dlog4j2.configurationFile=l.properties"
        });
    Map<String, String> merged = SparkProperties.read(out);
    assertEquals("spark://m:7077", merged.get("spark.master"));
    assertEquals("512m", merged.get("spark.kryoserializer.buffer.max"));
    assertEquals("org.nd4j.kryo.Nd4jRegistrator", merged.get("spark.kryo.registrator"));
    String executor = merged.get(SparkProperties.EXECUTOR_OPTS);
    assertTrue(executor.startsWith("-Dx=\"a b\" -Dorg.bytedeco.javacpp.cachedir="), executor);
    assertTrue(executor.endsWith(" -Dlog4j2.configurationFile=l.properties"), executor);
    String driver = merged.get(SparkProperties.DRIVER_OPTS);
    assertTrue(
        driver.contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED")
            && driver.endsWith(" -Dlog4j2.configurationFile=/opt/l.properties"),
        driver);
    assertFalse(driver.contains("-Dx="), "the cluster's executor options stay the executor's");
  }

  @Test
  void withoutClusterDefaultsTheProjectFileIsTakenAsIs() throws IOException {
    Path out = dir.resolve("merged.properties");
    Path project = REPO.resolve("conf/spark-yarn.properties");
    SparkProperties.main(
        new String[] {out.toString(), project.toString(), dir.resolve("absent.conf").toString()});
    assertEquals(SparkProperties.read(project), SparkProperties.read(out));
  }

  /**
   * On YARN and Kubernetes ND4J gets the container's bounds: off-heap arrays at most the overhead
   * less 384 MiB, the process at most heap plus overhead (each expected value worked out by hand
   * from Spark's overhead rule, max(384 MiB, 0.10 x heap)); the command line's sizes win over the
   * files'; a cluster-mode driver is bounded, a client-mode one is not; a bound the user set is
   * kept; a standalone master is left alone.
   */
  @Test
  void onYarnAndKubernetesNd4jIsBoundedToItsContainer() {
    String executor = SparkProperties.EXECUTOR_OPTS;
    String driver = SparkProperties.DRIVER_OPTS;
    Map<String, String> props =
        Map.of(
            "spark.executor.memory",
            "16g",
            "spark.executor.memoryOverhead",
            "4g",
            executor,
            "-Da=1",
            "spark.driver.memory",
            "8g",
            driver,
            "-Db=2");
    List<String> warnings = new java.util.ArrayList<>();

    // 4096 - 384 = 3712 MiB off-heap; 16384 + 4096 = 20480 MiB in all. Client mode: driver as is.
    Map<String, String> yarn =
        SparkProperties.withNativeMemoryBounds(props, Map.of(), "yarn", "client", warnings);
    assertEquals(
        "-Da=1 -Dorg.bytedeco.javacpp.maxbytes=3712m -Dorg.bytedeco.javacpp.maxphysicalbytes=20480m",
        yarn.get(executor));
    assertEquals("-Db=2", yarn.get(driver));

    // A cluster-mode driver of 8g, default overhead max(384, 819.2) = 819 MiB: 435m, 9011m.
    Map<String, String> k8s =
        SparkProperties.withNativeMemoryBounds(
            props, Map.of(), "k8s://https://api:6443", "cluster", warnings);
    assertEquals(
        "-Db=2 -Dorg.bytedeco.javacpp.maxbytes=435m -Dorg.bytedeco.javacpp.maxphysicalbytes=9011m",
        k8s.get(driver));
    assertEquals(List.of(), warnings);

    // --executor-memory 10g on the command line, no overhead set: max(384, 1024) = 1024 MiB.
    Map<String, String> noOverhead = new java.util.TreeMap<>(props);
    noOverhead.remove("spark.executor.memoryOverhead");
    assertEquals(
        "-Da=1 -Dorg.bytedeco.javacpp.maxbytes=640m -Dorg.bytedeco.javacpp.maxphysicalbytes=11264m",
        SparkProperties.withNativeMemoryBounds(
                noOverhead, Map.of("spark.executor.memory", "10g"), "yarn", "client", warnings)
            .get(executor));

    // 2048 MiB (no unit: MiB) and the 384 MiB floor: no room for an off-heap bound; 2048 + 384.
    assertEquals(
        "-Da=1 -Dorg.bytedeco.javacpp.maxphysicalbytes=2432m",
        SparkProperties.withNativeMemoryBounds(
                noOverhead, Map.of("spark.executor.memory", "2048"), "yarn", "client", warnings)
            .get(executor));
    assertEquals(1, warnings.size(), warnings.toString());
    assertTrue(warnings.get(0).contains("spark.executor.memoryOverhead"), warnings.get(0));

    Map<String, String> own = Map.of(executor, "-Dorg.bytedeco.javacpp.maxbytes=6g");
    assertEquals(
        own, SparkProperties.withNativeMemoryBounds(own, Map.of(), "yarn", "client", warnings));
    assertEquals(
        props,
        SparkProperties.withNativeMemoryBounds(
            props, Map.of(), "spark://m:7077", "cluster", warnings));
  }

  /** jobs/submit.sh passes the master, deploy mode and command-line memory settings to main. */
  @Test
  void theMergedFileCarriesTheBoundsForYarnExecutors() throws IOException {
    Path out = dir.resolve("merged-yarn.properties");
    SparkProperties.main(
        new String[] {
          out.toString(),
          REPO.resolve("conf/spark-yarn.properties").toString(),
          dir.resolve("no-such-spark-defaults.conf").toString(),
          "--master",
          "yarn",
          "--deploy-mode",
          "cluster",
          "--memory-setting",
          "spark.executor.memory=16g",
          "--memory-setting",
          "spark.executor.memoryOverhead=4g",
          "--memory-setting",
          "spark.driver.memory=4g"
        });
    Map<String, String> merged = SparkProperties.read(out);
    assertTrue(
        merged
            .get(SparkProperties.EXECUTOR_OPTS)
            .endsWith(
                " -Dorg.bytedeco.javacpp.maxbytes=3712m"
                    + " -Dorg.bytedeco.javacpp.maxphysicalbytes=20480m"),
        merged.get(SparkProperties.EXECUTOR_OPTS));
    // 4096 MiB heap, overhead max(384, 409.6) = 409 MiB: 25 MiB off-heap is too little; 4505 MiB.
    assertTrue(
        merged
            .get(SparkProperties.DRIVER_OPTS)
            .endsWith(" -Dorg.bytedeco.javacpp.maxphysicalbytes=4505m"),
        merged.get(SparkProperties.DRIVER_OPTS));
  }
}
