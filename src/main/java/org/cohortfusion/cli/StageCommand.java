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

  /** The stage's Spark session (the same one for the whole run). */
  SparkSession spark() {
    return Sessions.getOrCreate(spec.name());
  }

  /** The pipeline config, loaded once. */
  PipelineConfig config() {
    if (localFiles != null) {
      return options.load(Configuration::new, name -> Optional.ofNullable(localFiles.get(name)));
    }
    return options.load(() -> spark().sparkContext().hadoopConfiguration(), name -> {
      spark(); // SparkFiles needs the running SparkContext, which fetched spark.files to the driver
      return ConfigOptions.sparkFile(name);
    });
  }
}
