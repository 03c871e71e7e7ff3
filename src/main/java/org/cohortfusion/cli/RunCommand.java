package org.cohortfusion.cli;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Every stage from ingest to report in one JVM and one Spark session, so a small cohort does not pay a JVM, Spark
 * and DL4J start per stage. Each stage runs exactly as its own command would (same options, same status file
 * {@code <output.dir>/_status/<stage>.json}); the first stage that fails ends the run with its exit code.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Run the stages ingest, pretrain, extract, train, evaluate and report in one JVM and Spark session",
        "(--from / --to for a part); stops at the first stage that fails, with its exit code. Its own status:",
        "<output.dir>/_status/run.json; each stage's: <output.dir>/_status/<stage>.json, all with the same run id."})
final class RunCommand extends StageCommand {
  private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);
  static final List<String> STAGES = List.of("ingest", "pretrain", "extract", "train", "evaluate", "report");

  @Option(names = "--from", paramLabel = "STAGE", defaultValue = "ingest", description = "First stage (default: ${DEFAULT-VALUE}).")
  String from;

  @Option(names = "--to", paramLabel = "STAGE", defaultValue = "report", description = "Last stage (default: ${DEFAULT-VALUE}).")
  String to;

  @Override
  public Integer call() {
    int first = STAGES.indexOf(from);
    int last = STAGES.indexOf(to);
    if (first < 0 || last < 0 || first > last) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
          "Cannot run stages from '" + from + "' to '" + to + "': expected two of " + STAGES + " in that order");
    }
    String id = run().runIdOrNew();
    long start = System.nanoTime();
    for (String stage : STAGES.subList(first, last + 1)) {
      int code = runStage(stage, id);
      if (code != 0) {
        return code;
      }
    }
    LOG.info("run: stages {} to {} done in {} s", from, to, Math.round((System.nanoTime() - start) / 1e9));
    return 0;
  }
}
