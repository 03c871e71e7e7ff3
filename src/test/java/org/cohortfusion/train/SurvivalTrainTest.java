package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.cohort.survival.IntervalConcordance;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.testing.SparkTestSession;
import org.cohortfusion.testing.SyntheticSurvival;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fusion models trained on a survival outcome from embeddings: two modalities whose latents set
 * each subject's hazard (exponential event times, rate exp(z_0 + z_1)), uniform censoring. The
 * trained graphs output one hazard per follow-up interval, and their validation concordance is
 * compared with an oracle computed here: Harrell's C of the true risk z_0 + z_1 on the same
 * subjects at the same interval resolution, which no model can beat by much.
 */
class SurvivalTrainTest {
  private static final double[] CUTS = SyntheticSurvival.CUTS;
  @TempDir Path dir;

  @Test
  void fusionModelsLearnTheHazard() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String out = dir.resolve("out").toString();
    double[] trueRisk = SyntheticSurvival.write(spark, out + "/embeddings", 1200, 11);
    Path conf = Files.writeString(dir.resolve("s.conf"), SyntheticSurvival.config(out, "local"));
    PipelineConfig config = PipelineConfigLoader.load(conf.toFile(), List.of());
    TrainResult trained = TrainAction.of(spark, config).execute();
    List<String> names = trained.models().stream().map(TrainResult.ModelResult::name).toList();
    assertTrue(
        names.contains("concat") && names.contains("unimodal:a") && names.contains("early"),
        names.toString());
    assertTrue(names.contains("late"), names.toString());

    // The oracle: the true risk's concordance on the validation subjects, at interval resolution.
    EmbeddingsSpec spec =
        EmbeddingsSpec.read(spark.sparkContext().hadoopConfiguration(), out + "/embeddings");
    List<Row> val =
        spark
            .read()
            .parquet(out + "/embeddings/table")
            .where("split = 'validation'")
            .select(
                new DiscreteTimeHazard(CUTS).codeColumn().as("code"),
                org.apache.spark.sql.functions.col("subject_id"))
            .collectAsList();
    int[] codes = val.stream().mapToInt(r -> r.getInt(0)).toArray();
    double[] risk =
        val.stream()
            .mapToDouble(r -> trueRisk[Integer.parseInt(r.getString(1).substring(1))])
            .toArray();
    double oracle = IntervalConcordance.of(risk, codes);
    System.out.printf("true-risk concordance %.3f%n", oracle);
    for (TrainResult.ModelResult m : trained.models()) {
      if (!m.name().equals("late")) {
        ComputationGraph g =
            ModelArtifact.loadGraph(spark.sparkContext().hadoopConfiguration(), m.modelDir())
                .model();
        assertEquals(CUTS.length, g.getOutputLayer(0).getParam("W").size(1), m.name());
      }
      double c = m.validation().auroc();
      System.out.printf("%s validation concordance %.3f%n", m.name(), c);
      // Fusion sees both latents; a unimodal model half of the signal; none beats the truth beyond
      // noise.
      assertTrue(c <= oracle + 0.05, m.name() + " " + c + " > oracle " + oracle);
    }
    double fused =
        trained.models().stream()
            .filter(m -> m.name().equals("concat"))
            .findFirst()
            .orElseThrow()
            .validation()
            .auroc();
    double unimodal =
        trained.models().stream()
            .filter(m -> m.name().equals("unimodal:a"))
            .findFirst()
            .orElseThrow()
            .validation()
            .auroc();
    assertTrue(fused > unimodal, "concat " + fused + " vs unimodal:a " + unimodal);
    assertTrue(
        fused > 0.5 + (oracle - 0.5) / 2,
        "concat " + fused + " recovers less than half the oracle's margin " + oracle);

    // evaluate: metrics.json's C-index of every model equals Harrell's C written out here (all
    // pairs, ties in risk one
    // half, an event before any later time or a censoring at the same time) over its own
    // predictions file.
    org.cohortfusion.evaluate.EvaluateAction evaluate =
        org.cohortfusion.evaluate.EvaluateAction.of(spark, config);
    assertTrue(evaluate.survival());
    org.cohortfusion.evaluate.SurvivalEvaluation.Result result = evaluate.executeSurvival();
    System.out.print(result.summary());
    for (org.cohortfusion.evaluate.SurvivalEvaluation.ModelSurvival m : result.models()) {
      List<Row> p =
          spark
              .read()
              .parquet(config.evaluateOutputDir() + "/predictions")
              .where(org.apache.spark.sql.functions.col("model").equalTo(m.name()))
              .select("risk", "duration", "event")
              .collectAsList();
      double concordant = 0;
      long comparable = 0;
      for (Row i : p) {
        for (Row k : p) {
          boolean earlier =
              i.getDouble(1) < k.getDouble(1)
                  || (i.getDouble(1) == k.getDouble(1) && k.getInt(2) == 0);
          if (i.getInt(2) == 1 && earlier && i != k) {
            comparable++;
            concordant +=
                i.getDouble(0) > k.getDouble(0) ? 1 : i.getDouble(0) == k.getDouble(0) ? 0.5 : 0;
          }
        }
      }
      assertEquals(concordant / comparable, m.test().cIndex(), 1e-12, m.name());
      assertTrue(
          m.test().cLower() <= m.test().cIndex() && m.test().cIndex() <= m.test().cUpper(),
          m.name());
      assertEquals(result.removalRates().size(), m.robustness().size());
      assertEquals(m.test().cIndex(), m.robustness().get(0), 1e-12);
    }
    assertEquals(
        spark.read().parquet(out + "/embeddings/table").where("split = 'test'").count(),
        result.subjects());
    org.cohortfusion.evaluate.report.ReportResult report =
        org.cohortfusion.evaluate.report.ReportAction.of(spark, config).execute();
    assertTrue(Files.readString(Path.of(report.indexHtml())).contains("C-index"));
  }
}
