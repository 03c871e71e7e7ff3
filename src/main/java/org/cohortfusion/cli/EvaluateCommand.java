package org.cohortfusion.cli;

import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.evaluate.EvaluateResult;
import picocli.CommandLine.Command;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = {"Evaluate every trained model of <output.dir>/train/summary.json on the test split: AUROC, AUPRC,",
        "accuracy, balanced accuracy, Brier, ECE; per missingness pattern; robustness curves (modalities removed at",
        "test time, MCAR 0-0.9) and ablations; the Bayes-optimal AUROC for generated cohorts. Writes",
        "<output.dir>/evaluate/predictions (Parquet) and metrics.json atomically."})
final class EvaluateCommand extends StageCommand {

  @Override
  public Integer call() {
    PipelineConfig config = config();
    SparkSession spark = spark();
    EvaluateResult result = EvaluateAction.of(spark, config).progress(System.out::println).execute();
    System.out.print(result.summary());
    System.out.println("Metrics written to " + result.metricsPath());
    return 0;
  }
}
