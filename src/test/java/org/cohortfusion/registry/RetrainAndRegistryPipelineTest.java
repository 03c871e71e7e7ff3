package org.cohortfusion.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.bench.SyntheticEmbeddings;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.TrainOutputs;
import org.cohortfusion.testing.SparkTestSession;
import org.cohortfusion.train.TrainAction;
import org.cohortfusion.train.TrainResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Train, an unfinished retrain, evaluate's SHA-256 check and registration, on a tiny synthetic
 * embeddings table.
 */
class RetrainAndRegistryPipelineTest {
  @TempDir Path root;

  @Test
  void anUnfinishedRetrainKeepsThePublishedModelAndEvaluateChecksItsHash() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    SyntheticEmbeddings.write(
        spark,
        root.resolve("out/embeddings").toString(),
        400,
        new double[] {0.3, 0.3, 0.3},
        1.0,
        5);
    Path conf =
        Files.writeString(
            root.resolve("p.conf"),
            """
        name = registry-test
        subjects { path = s.csv }
        modalities { clinical { kind = tabular, path = c.csv } }
        output { dir = "%s" }
        fusion { models { mean { what = [clinical, labs, imaging], how = mean, projection = 4, head = [8] } }, baselines = [] }
        train { mode = local, epochs = 2, batch-size = 32, seed = 3 }
        """
                .formatted(root.resolve("out")));
    PipelineConfig config = PipelineConfigLoader.load(conf.toFile(), List.of());
    TrainResult first = TrainAction.of(spark, config).execute();
    String modelDir = first.get("mean").modelDir();
    byte[] published = Files.readAllBytes(Path.of(modelDir, ModelArtifact.MODEL));

    // A retrain that stops before it finishes (as a failed one would) leaves the published model in
    // place.
    TrainResult unfinished = TrainAction.of(spark, config).interruptAfter(1).execute();
    assertFalse(unfinished.get("mean").completed());
    assertEquals(Hashing.sha256(published), ModelArtifact.loadGraph(hconf, modelDir).sha256());

    // summary.json of the unfinished run lists no model: put the completed run's back, then tamper
    // its SHA-256.
    String summaryPath = config.trainOutputDir() + "/summary.json";
    TrainOutputs.Summary unfinishedSummary =
        Json.read(hconf, summaryPath, TrainOutputs.Summary.class);
    TrainOutputs.Entry done =
        new TrainOutputs.Entry(
            "mean",
            "fusion",
            "mean",
            modelDir,
            Hashing.sha256(published),
            1,
            2,
            false,
            true,
            java.util.Map.of());
    org.cohortfusion.io.AtomicDirectory.replaceJson(
        hconf,
        summaryPath,
        new TrainOutputs.Summary(
            unfinishedSummary.embeddingsSha256(), unfinishedSummary.codeVersion(), List.of(done)));
    double fromTrainDir = EvaluateAction.of(spark, config).execute().models().get(0).test().auroc();

    TrainOutputs.Entry wrong =
        new TrainOutputs.Entry(
            "mean",
            "fusion",
            "mean",
            modelDir,
            "0".repeat(64),
            1,
            2,
            false,
            true,
            java.util.Map.of());
    org.cohortfusion.io.AtomicDirectory.replaceJson(
        hconf,
        summaryPath,
        new TrainOutputs.Summary(
            unfinishedSummary.embeddingsSha256(), unfinishedSummary.codeVersion(), List.of(wrong)));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> EvaluateAction.of(spark, config).execute());
    assertTrue(
        e.getMessage().startsWith("Cannot evaluate 'mean': ")
            && e.getMessage()
                .contains(
                    "has SHA-256 "
                        + Hashing.sha256(published)
                        + ", "
                        + summaryPath
                        + " says "
                        + "0".repeat(64)),
        e.getMessage());

    // The registry takes the trained model only while summary.json vouches for it.
    ModelRegistry registry = ModelRegistry.at(hconf, config.registryDir());
    assertThrows(
        IllegalStateException.class,
        () -> registry.register("mean", config.trainOutputDir() + "/mean", RunInfo.of("")));
    org.cohortfusion.io.AtomicDirectory.replaceJson(
        hconf,
        summaryPath,
        new TrainOutputs.Summary(
            unfinishedSummary.embeddingsSha256(), unfinishedSummary.codeVersion(), List.of(done)));
    ModelRegistry.Registered v1 =
        registry.register("mean", config.trainOutputDir() + "/mean", RunInfo.of("first"));
    assertEquals(
        Hashing.sha256(published),
        ModelArtifact.loadGraph(hconf, registry.modelPath("mean", v1.version())).sha256());

    // evaluate --model mean@champion scores the registry's copy: the same model, so the same test
    // AUROC.
    registry.promote("mean", v1.version(), ModelRegistry.CHAMPION, RunInfo.of("first"));
    assertEquals(
        0,
        org.cohortfusion.cli.CohortFusion.run(
            "evaluate", "-c", conf.toString(), "--model", "mean@champion"));
    org.cohortfusion.evaluate.EvaluateResult viaRegistry =
        EvaluateAction.read(hconf, config.evaluateOutputDir());
    assertEquals(List.of("mean@v1"), viaRegistry.models().stream().map(m -> m.name()).toList());
    assertEquals(fromTrainDir, viaRegistry.models().get(0).test().auroc(), 0.0);
    assertEquals(
        2,
        org.cohortfusion.cli.CohortFusion.run(
            "evaluate", "-c", conf.toString(), "--model", "mean@challenger"));
  }
}
