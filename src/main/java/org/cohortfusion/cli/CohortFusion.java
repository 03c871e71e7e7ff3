package org.cohortfusion.cli;

import org.cohortfusion.cohort.ingest.IngestException;
import org.cohortfusion.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The cohort-fusion command line: one subcommand per pipeline stage. The same main class runs on
 * embedded local Spark (jobs/cohort-fusion) and under spark-submit (jobs/submit-*.sh).
 */
@Command(
    name = "cohort-fusion",
    mixinStandardHelpOptions = true,
    versionProvider = CohortFusion.Version.class,
    description = "Multimodal biomedical deep learning by intermediate fusion, on Spark.",
    subcommands = {GenerateCommand.class, IngestCommand.class, PretrainCommand.class, ExtractCommand.class,
        TrainCommand.class, EvaluateCommand.class, ReportCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class CohortFusion {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and returns the exit code: 0 ok, 2 bad input or config, 1 anything else. */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new CohortFusion());
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      boolean userError = e instanceof IngestException || e instanceof ConfigException
          || e instanceof org.cohortfusion.fusion.spec.FusionSpecException
          || (e instanceof IllegalArgumentException && e.getMessage() != null && e.getMessage().startsWith("Cannot "));
      if (userError) {
        cmd.getErr().println("error: " + e.getMessage());
        return 2;
      }
      throw e;
    });
    return cli.execute(args);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"cohort-fusion " + org.cohortfusion.io.BuildInfo.version()};
    }
  }
}
