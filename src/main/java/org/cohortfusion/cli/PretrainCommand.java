package org.cohortfusion.cli;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.features.pretrain.PretrainAction;
import org.cohortfusion.features.pretrain.PretrainResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "pretrain",
    mixinStandardHelpOptions = true,
    description = {
      "Pretrain one encoder per modality (encoder + softmax head on the train subjects that have it, dl4j-spark",
      "parameter averaging, early stopping on validation AUROC); publish <output.dir>/pretrain/<modality>/encoder",
      "with per-epoch checkpoints, and the unimodal baselines in <output.dir>/pretrain/metrics.json."
    })
final class PretrainCommand extends StageCommand {

  @Option(
      names = "--cohort",
      paramLabel = "DIR",
      description = "Read the aligned cohort here instead of <output.dir>/cohort.")
  String cohort;

  @Option(
      names = "--output",
      paramLabel = "DIR",
      description = "Write encoders and metrics here instead of <output.dir>/pretrain.")
  String output;

  @Option(
      names = "--modality",
      paramLabel = "NAME",
      description = "Pretrain only this modality (repeatable; default: all).")
  List<String> modalities = new ArrayList<>();

  @Override
  public Integer call() {
    PipelineConfig config = config();
    for (String m : modalities) {
      // Checked here, before Spark starts: an unknown name is the user's to fix (exit 2).
      if (!config.modalities().containsKey(m)) {
        throw new UserInputException(
            "Cannot pretrain modality '" + m + "': the config has " + config.modalities().keySet());
      }
    }
    SparkSession spark = spark();
    PretrainAction action = PretrainAction.of(spark, config).modalities(modalities);
    if (cohort != null) {
      action = action.cohortDir(cohort);
    }
    if (output != null) {
      action = action.outputDir(output);
    }
    PretrainResult result = action.execute();
    System.out.print(result.table());
    System.out.println("Encoders and metrics.json written to " + result.outputDir());
    return 0;
  }
}
