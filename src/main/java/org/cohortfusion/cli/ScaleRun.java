package org.cohortfusion.cli;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkContext;
import org.cohortfusion.bench.DriverHeap;
import org.cohortfusion.bench.ExecutorHeap;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.io.Json;
import org.cohortfusion.spark.Sessions;

/**
 * One cohort size of {@code bench scale}, in a JVM of its own (started by {@link ScaleBench} with
 * the driver's heap size) so that the heap figures of one size owe nothing to the other's
 * leftovers: generate, then every stage of {@code run} as its own command, each timed with its
 * driver and executor heap peaks; writes {@code size.json}.
 */
final class ScaleRun {
  /** Stages in the order they run; generate first, then those of {@link RunCommand#STAGES}. */
  static final List<String> STAGES =
      List.of("generate", "ingest", "pretrain", "extract", "train", "evaluate", "report");

  /**
   * One stage: its exit code (0: done), wall time, driver heap peaks (see {@link DriverHeap}; the
   * live sample is 0 when none was taken), executor heap peak (-1: none reported). A failed stage
   * is kept with the figures up to its failure: an out-of-memory stage is a result.
   */
  record StageFigures(
      String stage,
      int exitCode,
      double seconds,
      long driverPoolPeakSumBytes,
      long driverUsedAfterGcBytes,
      int driverCollections,
      long driverLiveSampledBytes,
      int driverLiveSamples,
      long executorPeakHeapBytes,
      double loadAverageAtEnd) {
    boolean done() {
      return exitCode == 0;
    }
  }

  /** Everything one size measured; {@code executorsInDriverJvm} is true in local mode. */
  record SizeFigures(
      long subjects,
      int epochs,
      List<String> models,
      String master,
      boolean executorsInDriverJvm,
      long driverMaxHeapBytes,
      int cores,
      double sparkStartSeconds,
      List<StageFigures> stages) {
    /** Every stage ran and succeeded. */
    boolean complete() {
      return stages.size() == STAGES.size() && stages.stream().allMatch(StageFigures::done);
    }

    /** The figures of {@code stage}, or null when it did not run. */
    StageFigures stage(String stage) {
      return stages.stream().filter(f -> f.stage().equals(stage)).findFirst().orElse(null);
    }
  }

  private ScaleRun() {}

  /**
   * Arguments: config file, subjects, epochs, comma-separated models, the size's directory, seconds
   * between live-heap samples (0: none).
   */
  public static void main(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println(
          "usage: ScaleRun <config> <subjects> <epochs> <model,model> <dir> <live-sample-seconds>");
      System.exit(ExitCodes.USER_ERROR);
    }
    SizeFigures figures =
        run(
            args[0],
            Long.parseLong(args[1]),
            Integer.parseInt(args[2]),
            List.of(args[3].split(",")),
            Path.of(args[4]),
            java.time.Duration.ofSeconds(Long.parseLong(args[5])));
    Json.MAPPER
        .writerWithDefaultPrettyPrinter()
        .writeValue(Path.of(args[4], "size.json").toFile(), figures);
    System.exit(figures.complete() ? 0 : 1);
  }

  static SizeFigures run(
      String config,
      long subjects,
      int epochs,
      List<String> models,
      Path dir,
      java.time.Duration liveSampleEvery)
      throws Exception {
    Files.createDirectories(dir);
    String input = dir.resolve("input").toAbsolutePath().toString();
    List<String> sets =
        overrides(config, epochs, models, input, dir.resolve("out").toAbsolutePath().toString());
    String runId = "bench-scale-" + subjects;

    long t0 = System.nanoTime();
    SparkContext sc = Sessions.getOrCreate("bench scale").sparkContext();
    double sparkStart = (System.nanoTime() - t0) / 1e9;
    ExecutorHeap executors = ExecutorHeap.register(sc);
    List<StageFigures> stages = new ArrayList<>();
    try (DriverHeap driver = new DriverHeap(liveSampleEvery)) {
      for (String stage : STAGES) {
        List<String> args = new ArrayList<>(List.of(stage, "--run-id", runId));
        if (stage.equals("generate")) {
          args.addAll(List.of("--subjects", Long.toString(subjects), "--output", input));
        } else {
          args.addAll(List.of("--config", config));
          for (String s : sets) {
            args.addAll(List.of("--set", s));
          }
        }
        if (stage.equals("train")) {
          for (String m : models) {
            args.addAll(List.of("--model", m));
          }
        }
        // Garbage of the previous stage should not count as this stage's peak.
        System.gc();
        driver.begin();
        executors.begin();
        long s0 = System.nanoTime();
        int code = CohortFusion.run(args.toArray(new String[0]));
        double seconds = (System.nanoTime() - s0) / 1e9;
        DriverHeap.Peak peak = driver.end();
        StageFigures f =
            new StageFigures(
                stage,
                code,
                seconds,
                peak.poolPeakSumBytes(),
                peak.usedAfterGcBytes(),
                peak.collections(),
                peak.liveSampledBytes(),
                peak.liveSamples(),
                executors.end(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        stages.add(f);
        System.out.printf(
            "bench scale: %d subjects: %s %s %.1f s, driver heap peak %d MB (pools), %d MB (after GC),"
                + " %d MB (live, %d samples), load %.2f%n",
            subjects,
            stage,
            code == 0 ? "done in" : "FAILED (exit code " + code + ", its log is above) after",
            seconds,
            f.driverPoolPeakSumBytes() >> 20,
            f.driverUsedAfterGcBytes() >> 20,
            f.driverLiveSampledBytes() >> 20,
            f.driverLiveSamples(),
            f.loadAverageAtEnd());
        if (code != 0) {
          break; // later stages read this one's output
        }
      }
    }
    String master = sc.master();
    // local and local[n] run the executors' tasks in the driver JVM; local-cluster starts executor
    // JVMs of its own.
    boolean inDriver = master.equals("local") || master.startsWith("local[");
    return new SizeFigures(
        subjects,
        epochs,
        models,
        master,
        inDriver,
        DriverHeap.maxHeapBytes(),
        Runtime.getRuntime().availableProcessors(),
        sparkStart,
        stages);
  }

  /**
   * The --set options of every stage after generate: the generated cohort as input, the size's own
   * output, few epochs for the encoders and the fusion models, and a default model among those
   * trained (evaluate and report single it out).
   */
  static List<String> overrides(
      String config, int epochs, List<String> models, String input, String output) {
    PipelineConfig pipeline = PipelineConfigLoader.load(new File(config), List.of());
    List<String> sets =
        new ArrayList<>(
            List.of(
                "cohort-dir=" + quoted(input),
                "output.dir=" + quoted(output),
                "train.epochs=" + epochs,
                "fusion.default=" + models.get(0)));
    for (String modality : pipeline.modalities().keySet()) {
      sets.add("pretrain.encoders." + modality + ".epochs=" + epochs);
    }
    return sets;
  }

  /** Quoted: unquoted, HOCON would read "//" in a URI as a comment. */
  private static String quoted(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
