package org.cohortfusion.multijvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.testing.SyntheticSurvival;
import org.cohortfusion.train.TrainAction;
import org.cohortfusion.train.TrainResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A survival model trained by parameter averaging on two executor JVMs: the shards must tell the
 * executors that their labels are survival codes (else the loader builds one-hot class labels that
 * do not fit the hazard output and training fails), and the averaged model must learn the hazard.
 */
class SurvivalMultiJvmTest {
  private final SparkSession spark = LocalClusterSession.get();
  @TempDir Path dir;

  @Test
  void survivalShardsTrainOnExecutorJvms() throws Exception {
    String out = dir.resolve("out").toString();
    double[] trueRisk = SyntheticSurvival.write(spark, out + "/embeddings", 1200, 11);
    Path conf = Files.writeString(dir.resolve("s.conf"), SyntheticSurvival.config(out, "spark"));
    PipelineConfig config = PipelineConfigLoader.load(conf.toFile(), List.of());
    TrainResult trained = TrainAction.of(spark, config).models(List.of("concat")).execute();
    TrainResult.ModelResult concat = trained.get("concat");
    assertTrue(concat.completed());
    assertEquals(
        SyntheticSurvival.CUTS.length,
        ModelArtifact.loadGraph(spark.sparkContext().hadoopConfiguration(), concat.modelDir())
            .model()
            .getOutputLayer(0)
            .getParam("W")
            .size(1));
    // The true risk's concordance on this validation split is 0.835 (SurvivalTrainTest prints it);
    // a model that
    // learned nothing scores 0.5.
    assertTrue(
        concat.validation().auroc() > 0.7, "validation concordance " + concat.validation().auroc());
  }
}
