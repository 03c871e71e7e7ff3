package org.cohortfusion.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.bench.SyntheticEmbeddings;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.testing.SparkTestSession;

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

  private List<Batch> testBatches;

  /** The test split's batches, read once: the embeddings do not change after construction. */
  List<Batch> test() {
    if (testBatches == null) {
      testBatches =
          EmbeddingsData.collect(
              EmbeddingsData.table(spark, config.embeddingsDir()), embeddings, "test", 1024);
    }
    return testBatches;
  }

  /** Held-out (test split) AUROC of a published model. */
  double testAuroc(String trainDir, String name) {
    return Metrics.evaluate(predictor(trainDir, name), test(), embeddings.numClasses()).auroc();
  }

  /** Every class probability a published model predicts for the test split, in batch order. */
  double[] testPredictions(String trainDir, String name) {
    Metrics.Predictor p = predictor(trainDir, name);
    return test().stream()
        .filter(b -> b.size() > 0)
        .flatMapToDouble(
            b ->
                java.util.Arrays.stream(
                    p.predict(b)
                        .castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                        .data()
                        .asDouble()))
        .toArray();
  }

  /** Every parameter of the network published in {@code modelDir}, as its flat array holds them. */
  float[] params(String modelDir) {
    return org.cohortfusion.io.ModelArtifact.loadGraph(
            spark.sparkContext().hadoopConfiguration(), modelDir)
        .model()
        .params()
        .toFloatVector();
  }

  private Metrics.Predictor predictor(String trainDir, String name) {
    return TrainedModels.load(
        spark.sparkContext().hadoopConfiguration(),
        trainDir,
        org.cohortfusion.stage.TrainOutputs.dirName(name),
        embeddings);
  }
}
