package org.cohortfusion.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.Path;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.Locations;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Reads a stage's status file without running the stage and without Spark: the stage's own
 * arguments are parsed by the stage's own options, so the status file found is the one that run
 * writes (same --config, --set overrides, --run-id). jobs/submit.sh --wait runs it on the
 * submitting machine after spark-submit returns.
 */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Print <output.dir>/_status/<stage>.json of a stage run given by the stage's own arguments, e.g.",
      "  cohort-fusion status ingest --config hdfs://nn:8020/conf/demo.conf --run-id 42",
      "Exit code: 0 the stage SUCCEEDED (retrain: 0 promoted, 3 not promoted); its exit code (1, or 2 for bad",
      "input or config) if it FAILED;",
      "4 if there is no final status for the run (no file, still RUNNING, or the file is of another --run-id)."
    })
final class StatusCommand implements Callable<Integer> {
  @Option(
      names = "--files",
      split = ",",
      paramLabel = "FILE",
      description =
          "The files given to spark-submit --files: a bare --config name is read from the one of that name.")
  List<String> files = new ArrayList<>();

  @Parameters(
      arity = "1..*",
      paramLabel = "STAGE [STAGE OPTIONS]",
      description = "The stage and the options it was (or will be) run with.")
  List<String> stageArgs = new ArrayList<>();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    CommandLine stages = new CommandLine(new CohortFusion());
    CommandLine.ParseResult parsed = stages.parseArgs(stageArgs.toArray(String[]::new));
    CommandLine.ParseResult leaf = parsed;
    while (leaf.hasSubcommand()) {
      leaf = leaf.subcommand();
    }
    String name = leaf.commandSpec().name();
    if (!(leaf.commandSpec().userObject() instanceof Stage stage)) {
      throw new UserInputException(
          "Cannot report status of '"
              + String.join(" ", stageArgs)
              + "': not a stage ("
              + String.join(", ", CohortFusion.stageNames())
              + ")");
    }
    stage.resolveLocally(shippedFiles());
    String wantedRun = stage.run().runId; // as given; null: whichever run wrote last
    String root;
    Optional<StageStatus> found;
    try {
      root = stage.statusRoot();
      found = StageStatus.read(stage.hadoopConf(), root, name);
    } catch (RuntimeException e) {
      // A config or status file this machine cannot read is no verdict on the stage: unknown.
      spec.commandLine().getErr().println("error: " + ExitCodes.oneLine(e));
      return ExitCodes.UNKNOWN;
    }
    String where = StageStatus.path(root, name);
    if (found.isEmpty()) {
      spec.commandLine().getErr().println("status: no status file at " + where);
      return ExitCodes.UNKNOWN;
    }
    StageStatus s = found.get();
    System.out.println(json(s));
    if (wantedRun != null && !wantedRun.equals(s.runId())) {
      spec.commandLine()
          .getErr()
          .println("status: " + where + " is of run " + s.runId() + ", not " + wantedRun);
      return ExitCodes.UNKNOWN;
    }
    return switch (s.state()) {
      case SUCCEEDED ->
          s.exitCode() != null ? s.exitCode() : ExitCodes.OK; // retrain: 3, not promoted
      case FAILED -> s.exitCode() != null && s.exitCode() != 0 ? s.exitCode() : ExitCodes.FAILED;
      case RUNNING -> ExitCodes.UNKNOWN;
    };
  }

  /**
   * Name to local path of each local file in --files (remote ones need no lookup: pass their URI).
   */
  private Map<String, String> shippedFiles() {
    Map<String, String> byName = new LinkedHashMap<>();
    for (String f : files) {
      String file = f.strip();
      if (!file.isEmpty() && (!Locations.hasScheme(file) || file.startsWith("file:"))) {
        byName.put(
            new Path(file).getName(),
            file.startsWith("file:") ? new Path(file).toUri().getPath() : file);
      }
    }
    return byName;
  }

  private static String json(StageStatus s) {
    try {
      return Json.MAPPER.writeValueAsString(s);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("Cannot render stage status: " + e.getMessage(), e);
    }
  }
}
