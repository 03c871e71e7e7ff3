package org.cohortfusion.cli;

import picocli.CommandLine.Option;

/** Options every stage shares. */
final class RunOptions {
  @Option(
      names = "--run-id",
      paramLabel = "ID",
      description =
          "Id recorded in <output.dir>/_status/<stage>.json, so a scheduler can tell this run's status from an "
              + "older one (default: a random UUID).")
  String runId;

  String runIdOrNew() {
    if (runId == null || runId.isBlank()) {
      runId = StageStatus.newRunId();
    }
    return runId;
  }
}
