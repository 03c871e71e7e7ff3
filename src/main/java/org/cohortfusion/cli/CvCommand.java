package org.cohortfusion.cli;

import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.evaluate.CrossValidationAction;
import org.cohortfusion.evaluate.CrossValidationResult;
import org.cohortfusion.evaluate.SurvivalCrossValidation;
import org.cohortfusion.evaluate.report.CvReport;
import picocli.CommandLine.Command;

@Command(
    name = "cv",
    mixinStandardHelpOptions = true,
    description = {
      "Pool k-fold cross-validation (splits.folds = k) once every fold's evaluate has run (run does both):",
      "per model the mean ± sd of the fold metrics, and the metrics of the pooled out-of-fold predictions overall",
      "(with DeLong 95% intervals), per missingness pattern, and paired against the best unimodal model. Writes",
      "<output.dir>/cv/metrics.json and the page <output.dir>/cv/report.html. A survival outcome: per model the",
      "pooled out-of-fold Harrell's C (bootstrap 95% interval), the per-fold C mean ± sd, the paired",
      "bootstrap difference in pooled C against the best unimodal model, and the pooled C per missingness pattern.",
      "With splits.repeats, every repeat's pooled AUROC (or C) and their mean ± sd over the repeats."
    })
final class CvCommand extends StageCommand {

  @Override
  public Integer call() {
    PipelineConfig config = config();
    String title = config.name() == null ? "cohort-fusion" : config.name();
    if (config.subjects().outcome().survival()) {
      SurvivalCrossValidation.Result survival =
          SurvivalCrossValidation.of(spark(), config).execute();
      System.out.print(survival.summary());
      System.out.println("Cross-validation metrics written to " + survival.metricsPath());
      System.out.println(
          "Cross-validation report written to "
              + CvReport.writeSurvival(
                  spark().sparkContext().hadoopConfiguration(),
                  config.cvOutputDir(),
                  survival,
                  title));
      return 0;
    }
    CrossValidationResult result = CrossValidationAction.of(spark(), config).execute();
    System.out.print(result.summary());
    System.out.println("Cross-validation metrics written to " + result.metricsPath());
    String page =
        CvReport.write(
            spark().sparkContext().hadoopConfiguration(), config.cvOutputDir(), result, title);
    System.out.println("Cross-validation report written to " + page);
    return 0;
  }
}
