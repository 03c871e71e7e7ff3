package org.cohortfusion.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cohortfusion.io.Json;

/**
 * {@code bench scale}: the whole pipeline at several cohort sizes, each in a child JVM ({@link ScaleRun}) whose heap
 * is the driver memory under test, and the ratios of the largest size to the smallest measured in the same run:
 * per stage time(large)/time(small) (goal: at most 1.2 times the size ratio, 12x for a tenfold step) and the
 * driver's peak heap large/small (goal: at most 1.2).
 */
final class ScaleBench {
  static final double TIME_GOAL_PER_SIZE_STEP = 1.2;
  static final double DRIVER_HEAP_GOAL = 1.2;

  /** The figures of every size, smallest first, and the ratios of the last to the first. */
  record Result(List<ScaleRun.SizeFigures> sizes, Map<String, Double> timeRatios, double sizeRatio, double timeGoal,
                double driverAfterGcRatio, double driverPoolPeakRatio, double driverHeapGoal, Double executorHeapRatio) {}

  private ScaleBench() {}

  static Result run(String config, List<Long> subjects, int epochs, List<String> models, Path workDir, String driverMemory,
                    String master) throws IOException, InterruptedException {
    List<Long> sorted = subjects.stream().sorted().toList();
    if (sorted.size() < 2 || sorted.get(0) <= 0 || sorted.get(0).equals(sorted.get(sorted.size() - 1))) {
      throw new UserInputException("Cannot run bench scale: --subjects needs two or more different positive sizes, got " + subjects);
    }
    if (models.isEmpty()) {
      throw new UserInputException("Cannot run bench scale: --models is empty");
    }
    List<ScaleRun.SizeFigures> sizes = new ArrayList<>();
    for (long n : sorted) {
      sizes.add(runSize(config, n, epochs, models, workDir.resolve("subjects-" + n), driverMemory, master));
    }
    Result result = ratios(sizes);
    Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(workDir.resolve("bench-scale.json").toFile(), result);
    return result;
  }

  /** The ratios of the largest size's figures to the smallest's. */
  static Result ratios(List<ScaleRun.SizeFigures> sizes) {
    ScaleRun.SizeFigures small = sizes.get(0);
    ScaleRun.SizeFigures large = sizes.get(sizes.size() - 1);
    Map<String, Double> time = new LinkedHashMap<>();
    for (int i = 0; i < small.stages().size(); i++) {
      time.put(small.stages().get(i).stage(), large.stages().get(i).seconds() / small.stages().get(i).seconds());
    }
    time.put("total", total(large) / total(small));
    double sizeRatio = (double) large.subjects() / small.subjects();
    long smallExecutor = maxOf(small, ScaleRun.StageFigures::executorPeakHeapBytes);
    long largeExecutor = maxOf(large, ScaleRun.StageFigures::executorPeakHeapBytes);
    Double executorRatio = smallExecutor > 0 && largeExecutor > 0 ? (double) largeExecutor / smallExecutor : null;
    return new Result(sizes, time, sizeRatio, TIME_GOAL_PER_SIZE_STEP * sizeRatio,
        (double) maxOf(large, ScaleRun.StageFigures::driverUsedAfterGcBytes) / maxOf(small, ScaleRun.StageFigures::driverUsedAfterGcBytes),
        (double) maxOf(large, ScaleRun.StageFigures::driverPoolPeakSumBytes) / maxOf(small, ScaleRun.StageFigures::driverPoolPeakSumBytes),
        DRIVER_HEAP_GOAL, executorRatio);
  }

  private static ScaleRun.SizeFigures runSize(String config, long subjects, int epochs, List<String> models, Path dir,
                                              String driverMemory, String master) throws IOException, InterruptedException {
    deleteTree(dir); // the bench's own scratch: generate and ingest refuse or mix with a previous run's output
    Files.createDirectories(dir);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      // This JVM's options (module opens, log4j and Spark settings) minus its heap and debugger, which the child
      // must not inherit: its heap is the driver memory under test.
      if (!arg.startsWith("-Xmx") && !arg.startsWith("-Xms") && !arg.startsWith("-agentlib") && !arg.startsWith("-Dspark.driver.memory=")
          && !(master != null && arg.startsWith("-Dspark.master="))) {
        command.add(arg);
      }
    }
    command.add("-Xmx" + driverMemory);
    command.add("-Dspark.driver.memory=" + driverMemory);
    if (master != null) {
      command.add("-Dspark.master=" + master);
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), ScaleRun.class.getName(), config,
        Long.toString(subjects), Integer.toString(epochs), String.join(",", models), dir.toString()));
    Path log = dir.resolve("bench.log");
    System.out.printf("bench scale: %d subjects in a child JVM with -Xmx%s, log %s%n", subjects, driverMemory, log);
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    int code = p.waitFor();
    Path figures = dir.resolve("size.json");
    if (code != 0 || !Files.exists(figures)) {
      throw new IllegalStateException("bench scale: the run of " + subjects + " subjects ended with exit code " + code
          + " and no figures; see " + log);
    }
    System.out.printf("bench scale: %d subjects done in %.0f s%n", subjects, (System.nanoTime() - t0) / 1e9);
    return Json.MAPPER.readValue(figures.toFile(), ScaleRun.SizeFigures.class);
  }

  /** The table printed at the end: one row per stage, both sizes, the ratio and its goal. */
  static String table(Result r) {
    ScaleRun.SizeFigures small = r.sizes().get(0);
    ScaleRun.SizeFigures large = r.sizes().get(r.sizes().size() - 1);
    StringBuilder s = new StringBuilder();
    s.append(String.format("bench scale: %d and %d subjects, %d epoch(s), models %s, master %s, %d core(s), driver -Xmx %d MB%n",
        small.subjects(), large.subjects(), small.epochs(), small.models(), small.master(), small.cores(), small.driverMaxHeapBytes() >> 20));
    s.append(String.format("%-9s %9s %9s %7s %5s | %21s | %21s | %15s%n", "stage", "small s", "large s", "ratio", "goal",
        "driver after-GC MB", "driver pool-peak MB", "executor MB"));
    for (int i = 0; i < small.stages().size(); i++) {
      ScaleRun.StageFigures a = small.stages().get(i);
      ScaleRun.StageFigures b = large.stages().get(i);
      double ratio = r.timeRatios().get(a.stage());
      s.append(String.format("%-9s %9.1f %9.1f %6.1fx %5s | %10d %10d | %10d %10d | %7s %7s%n", a.stage(), a.seconds(), b.seconds(),
          ratio, ratio <= r.timeGoal() ? "ok" : "MISS", a.driverUsedAfterGcBytes() >> 20, b.driverUsedAfterGcBytes() >> 20,
          a.driverPoolPeakSumBytes() >> 20, b.driverPoolPeakSumBytes() >> 20, mb(a.executorPeakHeapBytes()), mb(b.executorPeakHeapBytes())));
    }
    double totalRatio = r.timeRatios().get("total");
    s.append(String.format("%-9s %9.1f %9.1f %6.1fx %5s%n", "total", total(small), total(large), totalRatio,
        totalRatio <= r.timeGoal() ? "ok" : "MISS"));
    s.append(String.format("time goal: <= %.1fx for a %.1fx size step; driver peak heap ratio (max over stages): after GC %.2fx,"
            + " pool peaks %.2fx (goal <= %.1fx)%n", r.timeGoal(), r.sizeRatio(), r.driverAfterGcRatio(), r.driverPoolPeakRatio(),
        r.driverHeapGoal()));
    s.append(small.executorsInDriverJvm()
        ? "executors: local mode, the executors are the driver JVM: their heap is the driver's (no separate figure)\n"
        : String.format("executor peak heap ratio: %s%n", r.executorHeapRatio() == null ? "not reported" : String.format("%.2fx", r.executorHeapRatio())));
    return s.toString();
  }

  private static String mb(long bytes) {
    return bytes < 0 ? "-" : Long.toString(bytes >> 20);
  }

  private static double total(ScaleRun.SizeFigures f) {
    return f.stages().stream().mapToDouble(ScaleRun.StageFigures::seconds).sum();
  }

  private static long maxOf(ScaleRun.SizeFigures f, java.util.function.ToLongFunction<ScaleRun.StageFigures> value) {
    return f.stages().stream().mapToLong(value).max().orElse(-1);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
