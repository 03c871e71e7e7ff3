package org.cohortfusion.cli;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkFiles;
import org.cohortfusion.config.ConfigException;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.io.Locations;
import org.cohortfusion.spark.Sessions;
import picocli.CommandLine.Option;

/** The options every stage that reads a pipeline config shares. */
final class ConfigOptions {
  @Option(
      names = {"-c", "--config"},
      required = true,
      paramLabel = "FILE|URI",
      description = {
        "Pipeline config of the cohort (HOCON), e.g. conf/demo.conf: a local file, any Hadoop URI",
        "(hdfs://, s3a://, file:) or the bare name of a file shipped with spark-submit --files."
      })
  String config;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Override any config key, e.g. --set splits.seed=7 (repeatable).")
  List<String> overrides = new ArrayList<>();

  private PipelineConfig loaded;

  /**
   * Loads the config once per run (the status recorder needs output.dir before the stage runs).
   *
   * @param hadoop the Hadoop configuration for URIs (the stage's Spark session's, so spark.hadoop.*
   *     settings apply)
   * @param shipped local path of a bare file name shipped with --files, if there is one
   */
  PipelineConfig load(Supplier<Configuration> hadoop, Function<String, Optional<String>> shipped) {
    if (loaded == null) {
      loaded = withAbsoluteDirectories(read(hadoop, shipped), hadoop);
    }
    return loaded;
  }

  /**
   * {@code config} with every relative directory made absolute on the driver, the way Hadoop would
   * resolve it here: against the working directory on a local default file system, against the
   * user's home on HDFS. Executors resolve a relative path against their own working directory (on
   * a standalone worker, work/app-.../N), so shards written there would be invisible to the driver
   * and to the other executors.
   */
  static PipelineConfig withAbsoluteDirectories(
      PipelineConfig config, Supplier<Configuration> hadoop) {
    return config.withDirectories(dir -> absoluteDirectory(dir, hadoop));
  }

  /** {@code dir} made absolute as in {@link #withAbsoluteDirectories}; absolute ones unchanged. */
  static String absoluteDirectory(String dir, Supplier<Configuration> hadoop) {
    try {
      return Locations.absolute(dir, hadoop);
    } catch (java.io.UncheckedIOException e) {
      throw new ConfigException(e.getMessage() + ": " + e.getCause().getMessage());
    }
  }

  /**
   * For commands that are not stages (bench): URIs and shipped files go through a Spark session.
   */
  PipelineConfig load() {
    return load(
        () -> Sessions.getOrCreate("bench").sparkContext().hadoopConfiguration(),
        name -> {
          Sessions.getOrCreate("bench");
          return sparkFile(name);
        });
  }

  /**
   * Local path of a file shipped with --files, once a SparkContext has fetched it to the driver.
   */
  static Optional<String> sparkFile(String name) {
    File f = new File(SparkFiles.get(name));
    return f.isFile() ? Optional.of(f.getPath()) : Optional.empty();
  }

  private PipelineConfig read(
      Supplier<Configuration> hadoop, Function<String, Optional<String>> shipped) {
    if (config.isBlank()) {
      throw new ConfigException("Cannot read pipeline config: --config is empty");
    }
    File local = new File(config);
    if (!Locations.hasScheme(config) && local.isFile()) {
      return PipelineConfigLoader.load(local, overrides);
    }
    if (!Locations.hasScheme(config) && !config.contains("/")) {
      // A bare name: spark-submit --files ships it to the driver, where SparkFiles knows its path
      // (in YARN cluster mode it is in the working directory already, found above).
      Optional<String> path = shipped.apply(config);
      if (path.isPresent()) {
        return PipelineConfigLoader.load(new File(path.get()), overrides);
      }
      throw new ConfigException(
          "Cannot read pipeline config: no file " + config + " here, nor shipped with --files");
    }
    // A URI, or a path on the default file system (hdfs:// when the cluster's core-site.xml says
    // so).
    return PipelineConfigLoader.load(config, hadoop.get(), overrides);
  }
}
