package org.cohortfusion.cli;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.spark.Sessions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A stage that reads a pipeline config: the config and run options, the stage's Spark session, and
 * the status root output.dir. {@link #resolveLocally} lets {@code cohort-fusion status} resolve the
 * same arguments on the submitting machine, without Spark.
 */
abstract class StageCommand implements Stage, Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ConfigOptions options;
  @Mixin RunOptions run;

  private Map<String, String> localFiles; // non-null: resolve without Spark (status command)

  @Override
  public RunOptions run() {
    return run;
  }

  @Override
  public String statusRoot() {
    return config().output().dir();
  }

  @Override
  public Configuration hadoopConf() {
    return localFiles != null ? new Configuration() : spark().sparkContext().hadoopConfiguration();
  }

  @Override
  public void resolveLocally(Map<String, String> shippedFiles) {
    localFiles = Map.copyOf(shippedFiles);
  }

  /**
   * Runs {@code stage} in this JVM as its own command would, with this command's --config and --set
   * overrides, the run id and {@code extra} options; returns its exit code (run and retrain chain
   * stages this way).
   */
  int runStage(String stage, String runId, String... extra) {
    long t0 = System.nanoTime();
    // One job group per stage, so the Spark UI and event log tell the stages of one application
    // apart ("run: train"); the caller's group, if any, is restored after.
    org.apache.spark.SparkContext sc = spark().sparkContext();
    String group = sc.getLocalProperty("spark.jobGroup.id");
    String description = sc.getLocalProperty("spark.job.description");
    sc.setJobGroup(spec.name() + "-" + stage, spec.name() + ": " + stage, false);
    int code;
    try {
      code = CohortFusion.run(stageArgs(stage, runId, java.util.List.of(extra)));
    } finally {
      if (group == null) {
        sc.clearJobGroup();
      } else {
        sc.setJobGroup(group, description, false);
      }
    }
    org.slf4j.LoggerFactory.getLogger(getClass())
        .info(
            "{}: {} finished with exit code {} in {} s",
            spec.name(),
            stage,
            code,
            Math.round((System.nanoTime() - t0) / 1e9));
    return code;
  }

  /**
   * The command line of {@code stage} with this command's --config and --set overrides, the run id
   * and {@code extra}.
   */
  String[] stageArgs(String stage, String runId, java.util.List<String> extra) {
    java.util.List<String> args =
        new java.util.ArrayList<>(
            java.util.List.of(stage, "--config", options.config, "--run-id", runId));
    for (String o : options.overrides) {
      args.add("--set");
      args.add(o);
    }
    args.addAll(extra);
    return args.toArray(new String[0]);
  }

  /** The stage's Spark session (the same one for the whole run). */
  SparkSession spark() {
    return Sessions.getOrCreate(spec.name());
  }

  /** The pipeline config, loaded once. */
  PipelineConfig config() {
    if (localFiles != null) {
      return options.load(Configuration::new, name -> Optional.ofNullable(localFiles.get(name)));
    }
    return options.load(
        () -> spark().sparkContext().hadoopConfiguration(),
        name -> {
          spark(); // SparkFiles needs the running SparkContext, which fetched spark.files to the
          // driver
          return ConfigOptions.sparkFile(name);
        });
  }
}
