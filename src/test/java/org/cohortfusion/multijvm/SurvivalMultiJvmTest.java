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
    TrainResult trained =
        TrainAction.of(spark, config)
            .models(List.of("concat", "unimodal:a", "unimodal:b", "late"))
            .execute();
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

    // Late fusion of survival models scored on the executors (a broadcast PortableModel carrying
    // the survival flag) equals the same late fusion loaded and run on the driver, subject by
    // subject: the risk 1 - S(last cut) of the mean survival curve.
    org.cohortfusion.evaluate.EvaluateAction.of(spark, config).executeSurvival();
    org.cohortfusion.stage.EmbeddingsSpec emb =
        org.cohortfusion.stage.EmbeddingsSpec.read(
            spark.sparkContext().hadoopConfiguration(), config.embeddingsDir());
    org.cohortfusion.train.Metrics.Predictor driver =
        org.cohortfusion.train.TrainedModels.load(
            spark.sparkContext().hadoopConfiguration(), config.trainOutputDir(), "late", emb);
    java.util.Map<String, Double> expected = new java.util.HashMap<>();
    for (org.cohortfusion.train.EmbeddingsData.Identified b :
        org.cohortfusion.train.EmbeddingsData.bySubject(
                org.cohortfusion.train.EmbeddingsData.table(spark, config.embeddingsDir()),
                emb,
                "test",
                64)
            .collect()) {
      double[][] h =
          driver
              .predict(b.batch())
              .castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
              .toDoubleMatrix();
      for (int r = 0; r < h.length; r++) {
        double[] curve = org.cohortfusion.cohort.survival.DiscreteTimeHazard.survival(h[r]);
        expected.put(b.subjectIds()[r], 1 - curve[curve.length - 1]);
      }
    }
    List<org.apache.spark.sql.Row> scored =
        spark
            .read()
            .parquet(config.evaluateOutputDir() + "/predictions")
            .where("model = 'late'")
            .select("subject_id", "risk")
            .collectAsList();
    assertEquals(expected.size(), scored.size());
    for (org.apache.spark.sql.Row r : scored) {
      assertEquals(expected.get(r.getString(0)), r.getDouble(1), 1e-6, "late fusion risk");
    }
  }
}
