package org.cohortfusion.features.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every task must receive and bind the GPU address Spark gave it. Verified on Spark 3.5.9: plain
 * {@code local[N]} never offers task resources (a job asking for {@code
 * spark.task.resource.gpu.amount} hangs unscheduled), so this runs {@link GpuBindingProbe} in its
 * own JVM on {@code local-cluster[1,2,1024]} (a real standalone master, worker and executor JVM)
 * with a fake discovery script reporting two GPUs. The shared test session stays untouched.
 */
class DeviceBinderTest {
  @TempDir Path tmp;

  @Test
  void everyTaskBindsTheGpuAddressSparkGaveIt() throws Exception {
    Path script = tmp.resolve("fake-gpus.sh");
    Files.writeString(
        script, "#!/usr/bin/env bash\necho '{\"name\":\"gpu\",\"addresses\":[\"0\",\"1\"]}'\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    // local-cluster executors load Spark from $SPARK_HOME/jars: link the test classpath's jars
    // there.
    Path jars = Files.createDirectories(tmp.resolve("spark-home/jars"));
    List<String> directories = new ArrayList<>();
    for (String entry : classpath.split(File.pathSeparator)) {
      Path p = Path.of(entry);
      if (entry.endsWith(".jar") && Files.isRegularFile(p)) {
        Path link = jars.resolve(p.getFileName());
        if (!Files.exists(link)) {
          Files.createSymbolicLink(link, p.toAbsolutePath());
        }
      } else if (Files.isDirectory(p)) {
        directories.add(p.toAbsolutePath().toString());
      }
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(
        List.of(System.getProperty("cohortfusion.java17.opens", "").split("\\s+")).stream()
            .filter(s -> !s.isBlank())
            .toList());
    command.addAll(
        java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(
                a ->
                    a.startsWith("--add-opens")
                        || a.startsWith("-XX:+IgnoreUnrecognizedVMOptions")
                        || a.startsWith("-Djdk.reflect")
                        || a.startsWith("-Dorg.bytedeco"))
            .toList());
    command.add("-Xmx1g");
    command.add("-Dspark.executor.extraClassPath=" + String.join(File.pathSeparator, directories));
    command.addAll(
        List.of(
            "-cp",
            classpath,
            GpuBindingProbe.class.getName(),
            "local-cluster[1,2,1024]",
            script.toString(),
            "2",
            "4"));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("SPARK_HOME", tmp.resolve("spark-home").toString());
    pb.environment().put("SPARK_SCALA_VERSION", "2.12");
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process process = pb.start();
    byte[] output = process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(3, TimeUnit.MINUTES), "probe did not finish");
    String log = new String(output, StandardCharsets.UTF_8);
    List<String[]> lines =
        log.lines().filter(l -> l.startsWith("BINDING ")).map(l -> l.split(" ")).toList();
    assertEquals(0, process.exitValue(), () -> tail(log));
    assertEquals(8, lines.size(), () -> tail(log)); // 4 tasks x (production, recording)

    Set<String> addresses = new HashSet<>();
    Set<String> partitions = new HashSet<>();
    for (int i = 0; i < lines.size(); i += 2) {
      String[] production = lines.get(i);
      String[] recording = lines.get(i + 1);
      partitions.add(production[1]);
      addresses.add(production[3]);
      assertEquals(production[3], recording[3], "both binders see the task's one address");
      assertEquals(
          "null",
          production[4],
          "nd4j-native: the production binder records the address but does not bind");
      assertEquals(
          production[3], recording[4], "the task selected exactly the address it received");
    }
    assertEquals(Set.of("0", "1", "2", "3"), partitions);
    assertEquals(
        Set.of("0", "1"), addresses, "the task addresses are exactly the discovery script's GPUs");
  }

  @Test
  void outsideSparkNothingIsBound() {
    DeviceBinding b = new Nd4jDeviceBinder().bind(null);
    assertNull(b.address());
    assertNull(b.boundDevice());
    assertEquals(-1, b.partition());
  }

  private static String tail(String log) {
    return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
  }
}
