package org.cohortfusion.cli;

import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.evaluate.CrossValidationAction;
import org.cohortfusion.evaluate.CrossValidationResult;
import picocli.CommandLine.Command;

@Command(name = "cv", mixinStandardHelpOptions = true,
    description = {"Pool k-fold cross-validation (splits.folds = k) once every fold's evaluate has run (run does both):",
        "per model the mean ± sd of the fold metrics, and the metrics of the pooled out-of-fold predictions overall",
        "(with DeLong 95% intervals), per missingness pattern, and paired against the best unimodal model. Writes",
        "<output.dir>/cv/metrics.json."})
final class CvCommand extends StageCommand {

  @Override
  public Integer call() {
    PipelineConfig config = config();
    CrossValidationResult result = CrossValidationAction.of(spark(), config).execute();
    System.out.print(result.summary());
    System.out.println("Cross-validation metrics written to " + result.metricsPath());
    return 0;
  }
}
