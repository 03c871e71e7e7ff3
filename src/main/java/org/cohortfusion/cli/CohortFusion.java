package org.cohortfusion.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The cohort-fusion command line: one subcommand per pipeline stage. The same main class runs on
 * embedded local Spark (jobs/cohort-fusion) and under spark-submit (jobs/submit.sh).
 *
 * <p>Exit codes (see {@link ExitCodes}): 0 ok; 2 bad input or config, one line {@code error: ...}
 * and no stack trace; 1 anything else, the stack trace in the log; 3 only from {@code retrain}: not
 * promoted; 4 only from {@code status}: unknown.
 */
@Command(
    name = "cohort-fusion",
    mixinStandardHelpOptions = true,
    versionProvider = CohortFusion.Version.class,
    description = "Multimodal biomedical deep learning by intermediate fusion, on Spark.",
    subcommands = {
      GenerateCommand.class,
      IngestCommand.class,
      PretrainCommand.class,
      ExtractCommand.class,
      TrainCommand.class,
      EvaluateCommand.class,
      ReportCommand.class,
      CvCommand.class,
      RunCommand.class,
      StudyCommand.class,
      RetrainCommand.class,
      StatusCommand.class,
      ConfigCommand.class,
      RegistryCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class CohortFusion {
  private static final Logger LOG = LoggerFactory.getLogger(CohortFusion.class);

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /**
   * Runs the CLI and returns the exit code: 0 ok, 2 bad input or config, 1 anything else (3:
   * retrain not promoted; 4: status unknown).
   */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new CohortFusion());
    cli.setExecutionStrategy(new StatusRecorder());
    // status takes a stage's whole command line after the stage name: stop parsing its own options
    // there.
    cli.getSubcommands().get("status").setStopAtPositional(true);
    cli.setParameterExceptionHandler(
        (e, args1) -> {
          e.getCommandLine().getErr().println("error: " + ExitCodes.oneLine(e));
          return ExitCodes.USER_ERROR;
        });
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> report(cmd, e));
    try {
      return cli.execute(args);
    } catch (RuntimeException | Error e) {
      // Errors (OutOfMemoryError, IllegalAccessError) are not handed to the handler by picocli.
      return report(cli, e);
    }
  }

  private static int report(CommandLine cmd, Throwable e) {
    int code = ExitCodes.of(e);
    if (code != ExitCodes.USER_ERROR) {
      LOG.error("cohort-fusion {} failed", cmd.getCommandName(), e);
    }
    cmd.getErr().println("error: " + ExitCodes.oneLine(e));
    return code;
  }

  /**
   * The commands that record a status ({@link Stage}: {@code <output.dir>/_status/<name>.json}), in
   * the order of the command line's help.
   */
  static java.util.List<String> stageNames() {
    return new CommandLine(new CohortFusion())
        .getSubcommands().entrySet().stream()
            .filter(e -> e.getValue().getCommandSpec().userObject() instanceof Stage)
            .map(java.util.Map.Entry::getKey)
            .toList();
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"cohort-fusion " + org.cohortfusion.io.BuildInfo.version()};
    }
  }
}
