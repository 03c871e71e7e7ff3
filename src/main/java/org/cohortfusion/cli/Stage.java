package org.cohortfusion.cli;

import org.apache.hadoop.conf.Configuration;

/**
 * A pipeline stage command: {@link StatusRecorder} writes its status file under {@link
 * #statusRoot()} around every run, so no command has to do it itself.
 */
interface Stage {
  /** The run id and other options common to every stage. */
  RunOptions run();

  /**
   * Root whose {@code _status/} holds the stage's status file: output.dir of the config (generate:
   * its --output). Resolving it may load the config; the command then reuses what was loaded.
   */
  String statusRoot();

  /** Hadoop configuration for the status file's file system (the stage's Spark session's). */
  Configuration hadoopConf();

  /**
   * Resolve the config and status root on this machine without Spark (cohort-fusion status): a bare
   * --config name is looked up in {@code shippedFiles} (name to local path, from the --files given
   * to spark-submit), URIs with a plain Hadoop configuration.
   */
  void resolveLocally(java.util.Map<String, String> shippedFiles);

  /**
   * Whether the stage did its work when it returns {@code exitCode}: only 0, except where a stage
   * says otherwise.
   */
  default boolean completed(int exitCode) {
    return exitCode == 0;
  }
}
