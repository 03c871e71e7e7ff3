package org.cohortfusion.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * Runs the parsed command like picocli's RunLast, and for a {@link Stage} records its status file:
 * RUNNING before the stage's work, SUCCEEDED or FAILED (with the exit code the CLI will return)
 * after. One place for every stage, so no stage can forget it.
 */
final class StatusRecorder implements CommandLine.IExecutionStrategy {
  private static final Logger LOG = LoggerFactory.getLogger(StatusRecorder.class);
  private final CommandLine.IExecutionStrategy delegate = new CommandLine.RunLast();

  @Override
  public int execute(ParseResult parseResult) {
    ParseResult leaf = parseResult;
    boolean help = parseResult.isUsageHelpRequested() || parseResult.isVersionHelpRequested();
    while (leaf.hasSubcommand()) {
      leaf = leaf.subcommand();
      help |= leaf.isUsageHelpRequested() || leaf.isVersionHelpRequested();
    }
    if (help || !(leaf.commandSpec().userObject() instanceof Stage stage)) {
      return delegate.execute(parseResult);
    }
    // Resolving the root may load the config: a config error then ends the run before any status
    // exists, since without output.dir there is nowhere to write one (the exit code still says 2).
    String root;
    StageStatus running = StageStatus.running(leaf.commandSpec().name(), stage.run().runIdOrNew());
    try {
      root = stage.statusRoot();
      running.write(stage.hadoopConf(), root);
    } catch (RuntimeException e) {
      // Handed to the CLI's exception handler like the stage's own exceptions (exit 2 or 1).
      throw new CommandLine.ExecutionException(leaf.commandSpec().commandLine(), e.getMessage(), e);
    }
    LOG.info(
        "Stage {} run {}: status at {}",
        running.stage(),
        running.runId(),
        StageStatus.path(root, running.stage()));
    int code;
    try {
      code = delegate.execute(parseResult);
    } catch (RuntimeException | Error e) {
      Throwable cause =
          e instanceof CommandLine.ExecutionException && e.getCause() != null ? e.getCause() : e;
      finish(stage, root, running, ExitCodes.of(cause), errorLine(cause));
      throw e;
    }
    finish(
        stage,
        root,
        running,
        code,
        stage.completed(code) ? null : running.stage() + " returned exit code " + code);
    return code;
  }

  private static void finish(
      Stage stage, String root, StageStatus running, int code, String error) {
    try {
      running.finished(code, stage.completed(code), error).write(stage.hadoopConf(), root);
    } catch (RuntimeException e) {
      // The stage's own outcome stands; a reader of the status file sees RUNNING and must treat the
      // run as unknown (cohort-fusion status exits 4 after spark-submit returned).
      LOG.error("Cannot record the end of stage {}: {}", running.stage(), e.getMessage());
    }
  }

  /**
   * The error line for the status file: the project's own message (its messages never carry subject
   * values), else only the exception type, since Spark's and the JVM's messages may quote data
   * values. The full message and stack trace go to the driver log.
   */
  static String errorLine(Throwable e) {
    boolean ours =
        ExitCodes.userError(e).isPresent()
            || (e.getStackTrace().length > 0
                && e.getStackTrace()[0].getClassName().startsWith("org.cohortfusion."));
    return ours
        ? ExitCodes.oneLine(e)
        : e.getClass().getName() + " (message withheld; see the driver log)";
  }
}
