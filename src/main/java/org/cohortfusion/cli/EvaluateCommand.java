package org.cohortfusion.cli;

import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.registry.ModelRegistry;
import org.cohortfusion.registry.RegistryException;
import org.cohortfusion.stage.EvaluateOutputs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description = {
      "Evaluate every trained model of <output.dir>/train/summary.json on the test split: AUROC, AUPRC,",
      "accuracy, balanced accuracy, Brier, ECE; per missingness pattern; robustness curves (modalities removed at",
      "test time, MCAR 0-0.9) and ablations; the Bayes-optimal AUROC for generated cohorts. Writes",
      "<output.dir>/evaluate/predictions (Parquet) and metrics.json atomically."
    })
final class EvaluateCommand extends StageCommand {
  @Option(
      names = "--model",
      paramLabel = "NAME@ALIAS|NAME@N",
      description = "Evaluate only this registry model, e.g. attention@champion or attention@3.")
  String model;

  @Option(
      names = "--registry",
      paramLabel = "DIR|URI",
      description = "Registry of --model (default registry.dir).")
  String registry;

  @Override
  public Integer call() {
    PipelineConfig config = config();
    SparkSession spark = spark();
    EvaluateAction action = EvaluateAction.of(spark, config).progress(System.out::println);
    if (model != null) {
      action = fromRegistry(action, config);
    }
    if (action.survival()) {
      org.cohortfusion.evaluate.SurvivalEvaluation.Result survival = action.executeSurvival();
      System.out.print(survival.summary());
      System.out.println(
          "Metrics written to " + config.evaluateOutputDir() + "/" + EvaluateOutputs.METRICS);
      return 0;
    }
    EvaluateResult result = action.execute();
    System.out.print(result.summary());
    System.out.println("Metrics written to " + result.metricsPath());
    return 0;
  }

  private EvaluateAction fromRegistry(EvaluateAction action, PipelineConfig config) {
    int at = model.lastIndexOf('@');
    if (at <= 0 || at == model.length() - 1) {
      throw new UserInputException(
          "Cannot evaluate --model " + model + ": expected NAME@ALIAS or NAME@VERSION");
    }
    String name = model.substring(0, at);
    try {
      ModelRegistry r =
          ModelRegistry.at(
              spark().sparkContext().hadoopConfiguration(),
              registry != null ? registry : config.registryDir());
      int version = r.select(name, model.substring(at + 1));
      return action.model(name + "@v" + version, r.modelPath(name, version));
    } catch (RegistryException e) {
      throw new UserInputException(e.getMessage(), e);
    }
  }
}
