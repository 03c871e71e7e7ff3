package org.cohortfusion.cli;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.TrainConfig;
import org.cohortfusion.train.TrainAction;
import org.cohortfusion.train.TrainResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Train the fusion models of the config's fusion section and the baselines (unimodal:<m>, early, late;"
          + " linear and gbt of train.classical, on <output.dir>/cohort)",
      "on <output.dir>/embeddings; early stopping on validation loss (train.early-stopping), a checkpoint per epoch, the best model",
      "published atomically at <output.dir>/train/<model>/model and <output.dir>/train/summary.json."
    })
final class TrainCommand extends StageCommand {

  @Option(
      names = "--model",
      paramLabel = "NAME",
      description =
          "Model to train (repeatable): a fusion.models key, unimodal:<modality>, early, late, linear or gbt;"
              + " default: all (linear and gbt: those of train.classical.models).")
  List<String> models = new ArrayList<>();

  @Option(
      names = "--warm-start",
      paramLabel = "MODEL=DIR",
      description =
          "Start fusion model MODEL from the weights of the trained model in DIR (e.g. a registry version) "
              + "instead of a fresh initialisation (repeatable).")
  java.util.Map<String, String> warmStart = new java.util.LinkedHashMap<>();

  @Option(names = "--resume", description = "Continue every model from its last checkpoint.")
  boolean resume;

  // Typed, so that a bad value is a parameter error (exit 2) before any Spark session starts.
  @Option(
      names = "--mode",
      paramLabel = "local|spark",
      converter = ModeConverter.class,
      description =
          "local: one process (ComputationGraph.fit); spark: parameter averaging (default: train.mode).")
  TrainConfig.Mode mode;

  static final class ModeConverter implements CommandLine.ITypeConverter<TrainConfig.Mode> {
    @Override
    public TrainConfig.Mode convert(String value) {
      try {
        return TrainConfig.Mode.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  @Override
  public Integer call() {
    PipelineConfig config = config();
    SparkSession spark = spark();
    TrainAction action = TrainAction.of(spark, config).resume(resume).progress(System.out::println);
    if (!models.isEmpty()) {
      action = action.models(models);
    }
    for (java.util.Map.Entry<String, String> w : warmStart.entrySet()) {
      action = action.warmStart(w.getKey(), w.getValue());
    }
    if (mode != null) {
      action = action.mode(mode);
    }
    TrainResult result = action.execute();
    System.out.println(result.summary());
    System.out.println("Summary written to " + result.summaryPath());
    return result.models().stream().allMatch(TrainResult.ModelResult::completed) ? 0 : 1;
  }
}
