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
 * {@code bench scale}: the whole pipeline at several cohort sizes, each in a child JVM ({@link
 * ScaleRun}) whose heap is the driver memory under test, and the ratios of the largest size to the
 * smallest measured in the same run: per stage time(large)/time(small) (goal: at most 1.2 times the
 * size ratio, 12x for a tenfold step) and the driver's peak heap large/small (goal: at most 1.2),
 * by each of {@link org.cohortfusion.bench.DriverHeap}'s three measures; the live samples are the
 * one that excludes garbage.
 */
final class ScaleBench {
  static final double TIME_GOAL_PER_SIZE_STEP = 1.2;
  static final double DRIVER_HEAP_GOAL = 1.2;

  /**
   * The figures of every size, smallest first, and the ratios of the last to the first: a stage's
   * time ratio is null unless it succeeded at both sizes ("total" unless both are complete); the
   * heap ratios are over the stages both sizes finished.
   */
  record Result(
      List<ScaleRun.SizeFigures> sizes,
      Map<String, Double> timeRatios,
      double sizeRatio,
      double timeGoal,
      double driverAfterGcRatio,
      double driverPoolPeakRatio,
      Double driverLiveRatio,
      double driverHeapGoal,
      Double executorHeapRatio) {
    boolean complete() {
      return sizes.stream().allMatch(ScaleRun.SizeFigures::complete);
    }
  }

  private ScaleBench() {}

  static Result run(
      String config,
      List<Long> subjects,
      int epochs,
      List<String> models,
      Path workDir,
      String driverMemory,
      String master,
      int liveSampleSeconds)
      throws IOException, InterruptedException {
    List<Long> sorted = subjects.stream().sorted().toList();
    if (sorted.size() < 2
        || sorted.get(0) <= 0
        || sorted.get(0).equals(sorted.get(sorted.size() - 1))) {
      throw new UserInputException(
          "Cannot run bench scale: --subjects needs two or more different positive sizes, got "
              + subjects);
    }
    if (models.isEmpty()) {
      throw new UserInputException("Cannot run bench scale: --models is empty");
    }
    List<ScaleRun.SizeFigures> sizes = new ArrayList<>();
    for (long n : sorted) {
      sizes.add(
          runSize(
              config,
              n,
              epochs,
              models,
              workDir.resolve("subjects-" + n),
              driverMemory,
              master,
              liveSampleSeconds));
    }
    Result result = ratios(sizes);
    Json.MAPPER
        .writerWithDefaultPrettyPrinter()
        .writeValue(workDir.resolve("bench-scale.json").toFile(), result);
    return result;
  }

  /** The ratios of the largest size's figures to the smallest's. */
  static Result ratios(List<ScaleRun.SizeFigures> sizes) {
    ScaleRun.SizeFigures small = sizes.get(0);
    ScaleRun.SizeFigures large = sizes.get(sizes.size() - 1);
    Map<String, Double> time = new LinkedHashMap<>();
    List<String> both = new ArrayList<>();
    for (String stage : ScaleRun.STAGES) {
      ScaleRun.StageFigures a = small.stage(stage);
      ScaleRun.StageFigures b = large.stage(stage);
      boolean done = a != null && b != null && a.done() && b.done();
      time.put(stage, done ? b.seconds() / a.seconds() : null);
      if (done) {
        both.add(stage);
      }
    }
    time.put("total", small.complete() && large.complete() ? total(large) / total(small) : null);
    double sizeRatio = (double) large.subjects() / small.subjects();
    long smallExecutor = maxOf(small, both, ScaleRun.StageFigures::executorPeakHeapBytes);
    long largeExecutor = maxOf(large, both, ScaleRun.StageFigures::executorPeakHeapBytes);
    Double executorRatio =
        smallExecutor > 0 && largeExecutor > 0 ? (double) largeExecutor / smallExecutor : null;
    long smallLive = maxOf(small, both, ScaleRun.StageFigures::driverLiveSampledBytes);
    long largeLive = maxOf(large, both, ScaleRun.StageFigures::driverLiveSampledBytes);
    Double liveRatio = smallLive > 0 && largeLive > 0 ? (double) largeLive / smallLive : null;
    return new Result(
        sizes,
        time,
        sizeRatio,
        TIME_GOAL_PER_SIZE_STEP * sizeRatio,
        (double) maxOf(large, both, ScaleRun.StageFigures::driverUsedAfterGcBytes)
            / maxOf(small, both, ScaleRun.StageFigures::driverUsedAfterGcBytes),
        (double) maxOf(large, both, ScaleRun.StageFigures::driverPoolPeakSumBytes)
            / maxOf(small, both, ScaleRun.StageFigures::driverPoolPeakSumBytes),
        liveRatio,
        DRIVER_HEAP_GOAL,
        executorRatio);
  }

  private static ScaleRun.SizeFigures runSize(
      String config,
      long subjects,
      int epochs,
      List<String> models,
      Path dir,
      String driverMemory,
      String master,
      int liveSampleSeconds)
      throws IOException, InterruptedException {
    deleteTree(
        dir); // the bench's own scratch: generate and ingest refuse or mix with a previous run's
    // output
    Files.createDirectories(dir);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      // This JVM's options (module opens, log4j and Spark settings) minus its heap and debugger,
      // which the child
      // must not inherit: its heap is the driver memory under test.
      if (!arg.startsWith("-Xmx")
          && !arg.startsWith("-Xms")
          && !arg.startsWith("-agentlib")
          && !arg.startsWith("-Dspark.driver.memory=")
          && !(master != null && arg.startsWith("-Dspark.master="))) {
        command.add(arg);
      }
    }
    command.add("-Xmx" + driverMemory);
    command.add("-Dspark.driver.memory=" + driverMemory);
    if (master != null) {
      command.add("-Dspark.master=" + master);
    }
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            ScaleRun.class.getName(),
            config,
            Long.toString(subjects),
            Integer.toString(epochs),
            String.join(",", models),
            dir.toString(),
            Integer.toString(liveSampleSeconds)));
    Path log = dir.resolve("bench.log");
    System.out.printf(
        "bench scale: %d subjects in a child JVM with -Xmx%s, log %s%n",
        subjects, driverMemory, log);
    long t0 = System.nanoTime();
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    int code = p.waitFor();
    Path figures = dir.resolve("size.json");
    if (!Files.exists(figures)) {
      throw new IllegalStateException(
          "bench scale: the run of "
              + subjects
              + " subjects ended with exit code "
              + code
              + " and no figures; see "
              + log);
    }
    System.out.printf(
        "bench scale: %d subjects %s in %.0f s%n",
        subjects,
        code == 0 ? "done" : "FAILED (exit code " + code + ", see " + log + ")",
        (System.nanoTime() - t0) / 1e9);
    return Json.MAPPER.readValue(figures.toFile(), ScaleRun.SizeFigures.class);
  }

  /** The table printed at the end: one row per stage, both sizes, the ratio and its goal. */
  static String table(Result r) {
    ScaleRun.SizeFigures small = r.sizes().get(0);
    ScaleRun.SizeFigures large = r.sizes().get(r.sizes().size() - 1);
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            "bench scale: %d and %d subjects, %d epoch(s), models %s, master %s, %d core(s), driver -Xmx %d MB%n",
            small.subjects(),
            large.subjects(),
            small.epochs(),
            small.models(),
            small.master(),
            small.cores(),
            small.driverMaxHeapBytes() >> 20));
    s.append(
        String.format(
            "%-9s %9s %9s %7s %5s | %21s | %21s | %21s | %15s%n",
            "stage",
            "small s",
            "large s",
            "ratio",
            "goal",
            "driver after-GC MB",
            "driver pool-peak MB",
            "driver live MB",
            "executor MB"));
    for (String stage : ScaleRun.STAGES) {
      ScaleRun.StageFigures a = small.stage(stage);
      ScaleRun.StageFigures b = large.stage(stage);
      Double ratio = r.timeRatios().get(stage);
      s.append(
          String.format(
              "%-9s %9s %9s %7s %5s | %10s %10s | %10s %10s | %10s %10s | %7s %7s%n",
              stage,
              seconds(a),
              seconds(b),
              ratio == null ? "-" : String.format("%.1fx", ratio),
              ratio == null ? "-" : ratio <= r.timeGoal() ? "ok" : "MISS",
              mb(a, ScaleRun.StageFigures::driverUsedAfterGcBytes),
              mb(b, ScaleRun.StageFigures::driverUsedAfterGcBytes),
              mb(a, ScaleRun.StageFigures::driverPoolPeakSumBytes),
              mb(b, ScaleRun.StageFigures::driverPoolPeakSumBytes),
              live(a),
              live(b),
              mb(a, ScaleRun.StageFigures::executorPeakHeapBytes),
              mb(b, ScaleRun.StageFigures::executorPeakHeapBytes)));
    }
    Double totalRatio = r.timeRatios().get("total");
    s.append(
        String.format(
            "%-9s %9.1f %9.1f %7s %5s%n",
            "total",
            total(small),
            total(large),
            totalRatio == null ? "-" : String.format("%.1fx", totalRatio),
            totalRatio == null ? "-" : totalRatio <= r.timeGoal() ? "ok" : "MISS"));
    s.append(
        String.format(
            "time goal: <= %.1fx for a %.1fx size step; driver peak heap ratio (max over stages): after GC %.2fx,"
                + " pool peaks %.2fx, live samples %s (goal <= %.1fx)%n",
            r.timeGoal(),
            r.sizeRatio(),
            r.driverAfterGcRatio(),
            r.driverPoolPeakRatio(),
            r.driverLiveRatio() == null ? "-" : String.format("%.2fx", r.driverLiveRatio()),
            r.driverHeapGoal()));
    if (!r.complete()) {
      s.append("not complete: the heap ratios are over the stages both sizes finished\n");
    }
    s.append(
        small.executorsInDriverJvm()
            ? "executors: local mode, the executors are the driver JVM: their heap is the driver's (no separate figure)\n"
            : String.format(
                "executor peak heap ratio: %s%n",
                r.executorHeapRatio() == null
                    ? "not reported"
                    : String.format("%.2fx", r.executorHeapRatio())));
    return s.toString();
  }

  /** Seconds, "FAILED" after them when the stage failed, "-" when it did not run. */
  private static String seconds(ScaleRun.StageFigures f) {
    return f == null
        ? "-"
        : f.done() ? String.format("%.1f", f.seconds()) : String.format("FAIL %.0f", f.seconds());
  }

  private static String mb(
      ScaleRun.StageFigures f, java.util.function.ToLongFunction<ScaleRun.StageFigures> bytes) {
    return f == null || bytes.applyAsLong(f) < 0 ? "-" : Long.toString(bytes.applyAsLong(f) >> 20);
  }

  /** The live sample in MB, "-" when the stage did not run or took no sample. */
  private static String live(ScaleRun.StageFigures f) {
    return f == null || f.driverLiveSamples() == 0
        ? "-"
        : Long.toString(f.driverLiveSampledBytes() >> 20);
  }

  private static double total(ScaleRun.SizeFigures f) {
    return f.stages().stream().mapToDouble(ScaleRun.StageFigures::seconds).sum();
  }

  private static long maxOf(
      ScaleRun.SizeFigures f,
      List<String> stages,
      java.util.function.ToLongFunction<ScaleRun.StageFigures> value) {
    return stages.stream().map(f::stage).mapToLong(value).max().orElse(-1);
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
