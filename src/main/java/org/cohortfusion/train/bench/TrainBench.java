package org.cohortfusion.train.bench;

import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.TrainConfig;
import org.cohortfusion.train.TrainAction;
import org.cohortfusion.train.TrainResult;

/**
 * Training throughput of one model in the same run: single process ({@code ComputationGraph.fit}) and Spark
 * parameter averaging with 1 and 2 workers (ParameterAveragingTrainingMaster's worker count; data repartitioned to
 * it). Reports training samples/s of the last epoch (excluding data loading and validation) and the ratios. The
 * lead wires it to {@code bench train}.
 */
public final class TrainBench {
  private TrainBench() {}

  /**
   * Throughputs in samples/s.
   *
   * @param local single process
   * @param spark1 Spark, 1 worker
   * @param spark2 Spark, 2 workers
   */
  public record Result(double local, double spark1, double spark2) {
    public String describe() {
      return String.format(Locale.ROOT,
          "train samples/s: local %.0f | spark 1 worker %.0f (%.2fx local) | spark 2 workers %.0f (%.2fx local, %.2fx 1 worker)",
          local, spark1, spark1 / local, spark2, spark2 / local, spark2 / spark1);
    }
  }

  /**
   * Trains {@code model} (a fusion.models key or a baseline name) for {@code epochs} epochs three times into
   * {@code workDir}, early stopping disabled.
   */
  public static Result run(SparkSession spark, PipelineConfig config, String model, int epochs, String workDir,
                           Consumer<String> out) {
    TrainConfig base = config.train().withEpochs(epochs);
    base = base.withPatience(epochs + 1);
    double local = once(spark, config, model, base.withMode(TrainConfig.Mode.LOCAL), workDir + "/local");
    double s1 = once(spark, config, model, base.withMode(TrainConfig.Mode.SPARK).withWorkers(1), workDir + "/spark1");
    double s2 = once(spark, config, model, base.withMode(TrainConfig.Mode.SPARK).withWorkers(2), workDir + "/spark2");
    Result r = new Result(local, s1, s2);
    out.accept(r.describe());
    return r;
  }

  private static double once(SparkSession spark, PipelineConfig config, String model, TrainConfig train, String dir) {
    TrainResult r = TrainAction.of(spark, config).train(train).models(List.of(model)).outputDir(dir).progress(l -> { })
        .execute();
    return r.get(model).samplesPerSecond();
  }
}
