package org.cohortfusion.multijvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.testing.SyntheticSurvival;
import org.cohortfusion.train.Batch;
import org.cohortfusion.train.EmbeddingsData;
import org.cohortfusion.train.ExecutorMetrics;
import org.cohortfusion.train.Metrics;
import org.cohortfusion.train.TrainAction;
import org.cohortfusion.train.TrainResult;
import org.cohortfusion.train.TrainedModels;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Survival validation scored on two executor JVMs (the model broadcast and rebuilt there, the
 * batches read there): its likelihood and Harrell's C equal the driver's {@link Metrics#survival}
 * of the same model on the same batches collected, both for the metrics train publishes with {@code
 * train.validation = executors} and for a direct scoring that both executors take part in.
 */
class SurvivalValidationMultiJvmTest {
  private final SparkSession spark = LocalClusterSession.get();
  @TempDir Path dir;

  @Test
  void survivalValidationOnExecutorJvmsEqualsTheDriver() throws Exception {
    String out = dir.resolve("out").toString();
    String embeddings = out + "/embeddings";
    SyntheticSurvival.write(spark, embeddings, 600, 29);
    Path conf = Files.writeString(dir.resolve("s.conf"), SyntheticSurvival.config(out, "local"));
    PipelineConfig config =
        PipelineConfigLoader.load(
            conf.toFile(), List.of("train.validation=executors", "train.epochs=2"));
    List<String> progress = new ArrayList<>();
    TrainResult trained =
        TrainAction.of(spark, config).models(List.of("concat")).progress(progress::add).execute();
    TrainResult.ModelResult concat = trained.get("concat");
    assertTrue(concat.completed());
    assertTrue(
        progress.stream().anyMatch(l -> l.contains("validation split scored on the executors")),
        "validation on the executors");
    assertFalse(
        progress.stream().anyMatch(l -> l.contains("scored on the driver")),
        "no fallback to the driver");

    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    EmbeddingsSpec emb = EmbeddingsSpec.read(hconf, embeddings);
    Dataset<Row> table = EmbeddingsData.table(spark, embeddings);
    ComputationGraph model = ModelArtifact.loadGraph(hconf, concat.modelDir()).model();
    int[] columns = {0, 1};
    Metrics.Predictor onDriver = TrainedModels.graph(model, columns);

    // What train published: the validation batches as train reads them, scored here.
    assertSame(
        Metrics.evaluate(
            onDriver,
            EmbeddingsData.collect(table, emb, "validation", TrainAction.EVAL_BATCH),
            emb.numClasses()),
        concat.validation());

    // Scored directly on batches spread over both executors.
    JavaRDD<Batch> batches =
        EmbeddingsData.batches(table, emb, "validation", 16).repartition(4).cache();
    try {
      List<Batch> collected = batches.collect();
      LocalClusterSession.executorsSinceLastCall();
      Metrics executors = ExecutorMetrics.survival(batches, model, columns);
      assertEquals(
          LocalClusterSession.EXECUTORS,
          LocalClusterSession.executorsSinceLastCall().size(),
          "scored on both executors");
      assertSame(Metrics.evaluate(onDriver, collected, emb.numClasses()), executors);
    } finally {
      batches.unpersist(false);
    }
  }

  private static void assertSame(Metrics driver, Metrics executors) {
    assertEquals(120, driver.n(), "the validation fifth of 600 subjects");
    assertEquals(driver.n(), executors.n());
    assertFalse(Double.isNaN(driver.auroc()), "comparable pairs exist");
    assertEquals(driver.auroc(), executors.auroc(), 1e-9, "Harrell's C");
    assertEquals(driver.loss(), executors.loss(), 1e-9, "hazard likelihood");
  }
}
