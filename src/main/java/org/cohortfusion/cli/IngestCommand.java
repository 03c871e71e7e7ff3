package org.cohortfusion.cli;

import org.apache.spark.sql.SparkSession;
import org.cohortfusion.cohort.ingest.IngestAction;
import org.cohortfusion.cohort.ingest.IngestResult;
import org.cohortfusion.config.PipelineConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    description = {
      "Validate the cohort's tables against data-schemas/, align them by subject (time series point-in-time),",
      "assign splits, fit train-split statistics and publish <output.dir>/cohort atomically with rejects and a QC report."
    })
final class IngestCommand extends StageCommand {

  @Option(
      names = "--output",
      paramLabel = "DIR",
      description = "Publish the cohort here instead of <output.dir>/cohort.")
  String output;

  @Option(
      names = "--allow-empty",
      description = {
        "Publish the cohort even when no accepted subject has a label",
        "(default: stop with exit 2 and keep the previous cohort; also output.allow-empty = true)."
      })
  boolean allowEmpty;

  @Override
  public Integer call() {
    PipelineConfig config = config();
    SparkSession spark = spark();
    IngestAction action = IngestAction.of(spark, config).allowEmpty(allowEmpty);
    if (output != null) {
      action = action.outputDir(output);
    }
    IngestResult result = action.execute();
    System.out.println(result.summary());
    System.out.println(
        "Cohort written to "
            + result.cohortDir()
            + " (aligned/, rejects/, qc.json, qc.txt, cohort.json)");
    return 0;
  }
}
