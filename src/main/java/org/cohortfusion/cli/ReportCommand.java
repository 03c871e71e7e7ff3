package org.cohortfusion.cli;

import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.evaluate.report.ReportAction;
import org.cohortfusion.evaluate.report.ReportResult;
import picocli.CommandLine.Command;

@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = {
      "Write <output.dir>/report/index.html (self-contained: ROC curves, training metric, missingness",
      "patterns, robustness curves, ablation and comparison tables) from evaluate's output; prints the comparison",
      "table, the best model's margin over the best unimodal model, its worst missingness pattern and the path of",
      "index.html."
    })
final class ReportCommand extends StageCommand {

  @Override
  public Integer call() {
    PipelineConfig config = config();
    SparkSession spark = spark();
    ReportResult result = ReportAction.of(spark, config).execute();
    System.out.print(result.comparisonTable());
    System.out.print(result.summary());
    result.notes().forEach(n -> System.out.println("Note: " + n));
    System.out.println("Report written to " + result.indexHtml());
    return 0;
  }
}
