package org.cohortfusion.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.testing.SparkTestSession;
import org.cohortfusion.testing.SyntheticEmbeddings;

/**
 * A temporary output directory with synthetic embeddings and a pipeline config whose fusion section
 * is given.
 */
final class TrainFixture {
  final SparkSession spark = SparkTestSession.get();
  final Path root;
  final EmbeddingsSpec embeddings;
  final PipelineConfig config;

  TrainFixture(int n, double[] missing, double offset, long seed, String fusionAndTrain)
      throws Exception {
    this(n, missing, offset, seed, SyntheticEmbeddings.Scenario.MCAR, fusionAndTrain);
  }

  TrainFixture(
      int n,
      double[] missing,
      double offset,
      long seed,
      SyntheticEmbeddings.Scenario scenario,
      String fusionAndTrain)
      throws Exception {
    root = Files.createTempDirectory("cf-train");
    String embDir = root.resolve("out/embeddings").toString();
    embeddings = SyntheticEmbeddings.write(spark, embDir, n, missing, offset, seed, 2, scenario);
    config =
        PipelineConfigLoader.parse(
            "subjects { path = s.csv }\n"
                + "modalities { clinical { kind = tabular, path = c.csv } }\n"
                + "output { dir = \""
                + root.resolve("out")
                + "\" }\n"
                + fusionAndTrain,
            List.of());
  }

  TrainAction action() {
    return TrainAction.of(spark, config).progress(line -> System.out.println(line));
  }

  List<Batch> test() {
    return EmbeddingsData.collect(
        EmbeddingsData.table(spark, config.embeddingsDir()), embeddings, "test", 1024);
  }

  /** Held-out (test split) AUROC of a published model. */
  /** Test AUROC of every model of a finished train run, by model name. */
  java.util.Map<String, Double> testAurocs(TrainResult result) {
    java.util.Map<String, Double> test = new java.util.TreeMap<>();
    for (TrainResult.ModelResult m : result.models()) {
      test.put(m.name(), testAuroc(config.trainOutputDir(), m.name()));
    }
    return test;
  }

  double testAuroc(String trainDir, String name) {
    String dirName = name.replaceAll("[^A-Za-z0-9_.-]", "-");
    Metrics.Predictor p =
        TrainedModels.load(
            spark.sparkContext().hadoopConfiguration(), trainDir, dirName, embeddings);
    return Metrics.evaluate(p, test(), embeddings.numClasses()).auroc();
  }
}
