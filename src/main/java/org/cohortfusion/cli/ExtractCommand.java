package org.cohortfusion.cli;

import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.features.extract.ExtractAction;
import org.cohortfusion.features.extract.ExtractResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "extract",
    mixinStandardHelpOptions = true,
    description = {
      "Run the pretrained encoders over the aligned cohort and publish <output.dir>/embeddings atomically",
      "(table/, embeddings.json, cache/). Unchanged (subject, modality, encoder, payload) embeddings are reused."
    })
final class ExtractCommand extends StageCommand {

  @Option(
      names = "--cohort",
      paramLabel = "DIR",
      description = "Read the aligned cohort here instead of <output.dir>/cohort.")
  String cohort;

  @Option(
      names = "--encoders",
      paramLabel = "DIR",
      description = "Load encoders from DIR/<modality>/encoder instead of <output.dir>/pretrain.")
  String encoders;

  @Option(
      names = "--output",
      paramLabel = "DIR",
      description = "Publish here instead of <output.dir>/embeddings.")
  String output;

  @Override
  public Integer call() {
    PipelineConfig config = config();
    SparkSession spark = spark();
    ExtractAction action = ExtractAction.of(spark, config);
    if (cohort != null) {
      action = action.cohortDir(cohort);
    }
    if (encoders != null) {
      action = action.encodersDir(encoders);
    }
    if (output != null) {
      action = action.outputDir(output);
    }
    ExtractResult result = action.execute();
    System.out.print(result.table());
    System.out.printf(
        "%d subjects; embeddings written to %s in %.1f s%n",
        result.subjects(), result.outputDir(), result.seconds());
    return 0;
  }
}
