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
}
