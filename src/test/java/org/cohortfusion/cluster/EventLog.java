package org.cohortfusion.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What Spark's event log (spark.eventLog.enabled, one JSON event per line) says about one
 * application: its name, its executors and on which worker each ran (the worker web UI port in the
 * executor's log URL), and which executors finished tasks successfully. Read independently of the
 * pipeline's code.
 */
final class EventLog {
  private static final ObjectMapper JSON = new ObjectMapper();

  final Path file;
  String appName;
  String appId;

  /** Executor id to the web UI port of the worker that ran it. */
  final Map<String, Integer> executorWorkerUiPort = new HashMap<>();

  /** Executor id to its count of successful tasks. */
  final Map<String, Integer> successfulTasks = new HashMap<>();

  /**
   * Job group (spark.jobGroup.id of the job that first ran the task's Spark stage; "" for none) to
   * the executors that finished at least one of its tasks: tells apart the pipeline stages of one
   * application.
   */
  final Map<String, Set<String>> executorsByJobGroup = new HashMap<>();

  private final Map<Integer, String> jobGroupOfStage = new HashMap<>();

  final Set<String> removedExecutors = new TreeSet<>();
  int failedTasks;
  boolean ended;

  private EventLog(Path file) {
    this.file = file;
  }

  static EventLog read(Path file) {
    EventLog log = new EventLog(file);
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode e;
      try {
        e = JSON.readTree(line);
      } catch (IOException ex) {
        continue; // an in-progress log may end in a partial line
      }
      switch (e.path("Event").asText()) {
        case "SparkListenerApplicationStart" -> {
          log.appName = e.path("App Name").asText();
          log.appId = e.path("App ID").asText();
        }
        case "SparkListenerExecutorAdded" -> {
          String url = e.path("Executor Info").path("Log Urls").path("stderr").asText("");
          int port = url.isEmpty() ? -1 : URI.create(url).getPort();
          log.executorWorkerUiPort.put(e.path("Executor ID").asText(), port);
        }
        case "SparkListenerJobStart" -> {
          String group = e.path("Properties").path("spark.jobGroup.id").asText("");
          e.path("Stage IDs").forEach(id -> log.jobGroupOfStage.putIfAbsent(id.asInt(), group));
        }
        case "SparkListenerExecutorRemoved" ->
            log.removedExecutors.add(e.path("Executor ID").asText());
        case "SparkListenerTaskEnd" -> {
          String exec = e.path("Task Info").path("Executor ID").asText();
          if ("Success".equals(e.path("Task End Reason").path("Reason").asText())) {
            log.successfulTasks.merge(exec, 1, Integer::sum);
            log.executorsByJobGroup
                .computeIfAbsent(
                    log.jobGroupOfStage.getOrDefault(e.path("Stage ID").asInt(), ""),
                    g -> new TreeSet<>())
                .add(exec);
          } else {
            log.failedTasks++;
          }
        }
        case "SparkListenerApplicationEnd" -> log.ended = true;
        default -> {}
      }
    }
    return log;
  }

  /** Worker UI ports of the executors that finished at least one task. */
  Set<Integer> workersWithTasks() {
    return workersOf(successfulTasks.keySet());
  }

  /** Worker UI ports of the executors that finished at least one task of the job group. */
  Set<Integer> workersWithTasks(String jobGroup) {
    return workersOf(executorsByJobGroup.getOrDefault(jobGroup, Set.of()));
  }

  private Set<Integer> workersOf(Set<String> executors) {
    Set<Integer> ports = new TreeSet<>();
    executors.forEach(ex -> ports.add(executorWorkerUiPort.getOrDefault(ex, -1)));
    return ports;
  }

  @Override
  public String toString() {
    return appName
        + " ("
        + appId
        + "): tasks by executor "
        + successfulTasks
        + ", executor -> worker UI port "
        + executorWorkerUiPort
        + ", executors by job group "
        + executorsByJobGroup
        + ", failed tasks "
        + failedTasks
        + ", removed executors "
        + removedExecutors;
  }
}
