package org.cohortfusion.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Spark standalone cluster on this machine: one Master and N Workers, each its own JVM started
 * through the test SPARK_HOME's bin/spark-class (Spark's launcher), on 127.0.0.1 with ports free at
 * start. Logs and work dirs (executor and driver stdout/stderr) stay under {@code baseDir} for
 * debugging.
 */
final class StandaloneCluster implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  final Path sparkHome;
  final Path baseDir;
  private int masterPort;
  private int masterUiPort;
  private final int workers;
  private final int coresPerWorker;
  private final String workerMemory;
  private final Map<String, String> env;
  private ManagedProcess master;
  private final List<ManagedProcess> workerProcesses = new ArrayList<>();
  private final List<Integer> workerUiPorts = new ArrayList<>();

  StandaloneCluster(
      Path sparkHome,
      Path baseDir,
      int workers,
      int coresPerWorker,
      String workerMemory,
      Map<String, String> env) {
    this.sparkHome = sparkHome;
    this.baseDir = baseDir;
    this.workers = workers;
    this.coresPerWorker = coresPerWorker;
    this.workerMemory = workerMemory;
    this.env = env;
    this.masterPort = freePort();
    this.masterUiPort = freePort();
  }

  String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  void start(Duration timeout) throws InterruptedException {
    String sparkClass = sparkHome.resolve("bin/spark-class").toString();
    master =
        ManagedProcess.start(
            "master",
            List.of(
                sparkClass,
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                String.valueOf(masterPort),
                "--webui-port",
                String.valueOf(masterUiPort)),
            env,
            baseDir,
            baseDir.resolve("logs/master.log"));
    // The ports it really bound: Spark moves to the next port when the chosen one was taken
    // meanwhile.
    Pattern rpc = Pattern.compile("Starting Spark master at spark://127\\.0\\.0\\.1:(\\d+)");
    Pattern ui = Pattern.compile("Bound MasterWebUI to .*, and started at http://[^:]+:(\\d+)");
    await(
        "the master to start (" + master.log + ")",
        timeout,
        () -> {
          String log = master.output();
          Matcher r = rpc.matcher(log);
          Matcher u = ui.matcher(log);
          if (!master.isAlive()) {
            throw new AssertionError("the master exited:\n" + master.tail(40));
          }
          if (r.find() && u.find()) {
            masterPort = Integer.parseInt(r.group(1));
            masterUiPort = Integer.parseInt(u.group(1));
            return true;
          }
          return false;
        });
    await("the master's web UI to answer", timeout, () -> masterState() != null);
    for (int i = 0; i < workers; i++) {
      int uiPort = freePort();
      Path workDir = workDir(i);
      try {
        Files.createDirectories(workDir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      workerUiPorts.add(uiPort);
      workerProcesses.add(
          ManagedProcess.start(
              "worker-" + i,
              List.of(
                  sparkClass,
                  "org.apache.spark.deploy.worker.Worker",
                  "--host",
                  "127.0.0.1",
                  "--port",
                  String.valueOf(freePort()),
                  "--webui-port",
                  String.valueOf(uiPort),
                  "--cores",
                  String.valueOf(coresPerWorker),
                  "--memory",
                  workerMemory,
                  "--work-dir",
                  workDir.toString(),
                  masterUrl()),
              env,
              baseDir,
              baseDir.resolve("logs/worker-" + i + ".log")));
    }
    await(workers + " alive workers on the master", timeout, () -> aliveWorkers() == workers);
    // The UI ports the workers really bound (Spark moves to the next port when the chosen one was
    // taken
    // meanwhile), as the master reports them.
    workerUiPorts.clear();
    for (JsonNode w : masterState().path("workers")) {
      if ("ALIVE".equals(w.path("state").asText())) {
        workerUiPorts.add(java.net.URI.create(w.path("webuiaddress").asText()).getPort());
      }
    }
  }

  Path workDir(int worker) {
    return baseDir.resolve("work/worker-" + worker);
  }

  /** Worker index by the port of its web UI (executor log URLs name it), or -1. */
  int workerByUiPort(int port) {
    return workerUiPorts.indexOf(port);
  }

  /** The master's /json/ state, or null while it does not answer. */
  JsonNode masterState() {
    try {
      HttpURLConnection c =
          (HttpURLConnection)
              new URL("http://127.0.0.1:" + masterUiPort + "/json/").openConnection();
      c.setConnectTimeout(2000);
      c.setReadTimeout(5000);
      try (InputStream in = c.getInputStream()) {
        return JSON.readTree(in);
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return null;
    }
  }

  int aliveWorkers() {
    JsonNode s = masterState();
    return s == null ? -1 : s.path("aliveworkers").asInt(-1);
  }

  /**
   * Executor JVMs (CoarseGrainedExecutorBackend) that this cluster's workers started, and only
   * those.
   */
  List<ProcessHandle> executorProcesses() {
    return workerProcesses.stream()
        .flatMap(w -> w.process.toHandle().descendants())
        .filter(
            h ->
                h.info()
                    .commandLine()
                    .orElse("")
                    .contains("org.apache.spark.executor.CoarseGrainedExecutorBackend"))
        .collect(Collectors.toList());
  }

  /** Every process this cluster started and its descendants (for the leak check). */
  List<ProcessHandle> allProcesses() {
    List<ProcessHandle> all = new ArrayList<>();
    Stream.concat(Stream.ofNullable(master), workerProcesses.stream())
        .forEach(
            p -> {
              all.add(p.process.toHandle());
              p.process.toHandle().descendants().forEach(all::add);
            });
    return all;
  }

  /**
   * Tails of the master and worker logs and of every executor's and driver's stderr, for a failure
   * message.
   */
  String diagnostics(int lines) {
    StringBuilder sb = new StringBuilder();
    Stream.concat(Stream.ofNullable(master), workerProcesses.stream())
        .forEach(
            p ->
                sb.append("\n----- ")
                    .append(p.name)
                    .append(" (")
                    .append(p.log)
                    .append(")\n")
                    .append(p.tail(lines)));
    try (Stream<Path> files = Files.walk(baseDir.resolve("work"))) {
      files
          .filter(f -> f.getFileName().toString().equals("stderr"))
          .sorted()
          .forEach(
              f ->
                  sb.append("\n----- ")
                      .append(baseDir.relativize(f))
                      .append('\n')
                      .append(ManagedProcess.tail(f, lines)));
    } catch (IOException | UncheckedIOException e) {
      sb.append("\n<cannot list work dirs: ").append(e.getMessage()).append('>');
    }
    return sb.toString();
  }

  @Override
  public void close() {
    for (int i = workerProcesses.size() - 1; i >= 0; i--) {
      workerProcesses.get(i).stop();
    }
    if (master != null) {
      master.stop();
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Polls a condition until it holds or the deadline passes (then fails with what was awaited). */
  static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = 50;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "Timed out after " + timeout.toSeconds() + " s waiting for " + what);
      }
      Thread.sleep(pause);
      pause = Math.min(pause * 2, 500);
    }
  }
}
