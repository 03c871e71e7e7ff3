package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.fusion.spec.EmbeddingsSpec;
import org.cohortfusion.fusion.spec.FusionSpecException;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.testing.SparkTestSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fusion models trained on a survival outcome from embeddings: two modalities whose latents set each subject's
 * hazard (exponential event times, rate exp(z_0 + z_1)), uniform censoring. The trained graphs output one hazard per
 * follow-up interval, and their validation concordance is compared with an oracle computed here: Harrell's C of the
 * true risk z_0 + z_1 on the same subjects at the same interval resolution, which no model can beat by much.
 */
class SurvivalTrainTest {
  private static final double[] CUTS = {0.25, 0.5, 1, 2};
  @TempDir Path dir;

  @Test
  void fusionModelsLearnTheHazardAndEndToEndModelsAreRefused() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String out = dir.resolve("out").toString();
    double[] trueRisk = write(spark, out + "/embeddings", 1200, 11);
    Path conf = Files.writeString(dir.resolve("s.conf"), """
        name = survival-test
        subjects { path = s.csv, outcome { kind = survival, intervals = [0.25, 0.5, 1, 2] } }
        modalities { a { kind = tabular, path = a.csv }, b { kind = tabular, path = b.csv } }
        output { dir = "%s" }
        fusion { default = concat, models { concat { what = [a, b], how = concat, projection = 8, head = [16] } } }
        train { mode = local, epochs = 15, batch-size = 32, learning-rate = 0.01, seed = 3 }
        """.formatted(out));
    PipelineConfig config = PipelineConfigLoader.load(conf.toFile(), List.of());
    TrainResult trained = TrainAction.of(spark, config).execute();
    List<String> names = trained.models().stream().map(TrainResult.ModelResult::name).toList();
    assertTrue(names.contains("concat") && names.contains("unimodal:a") && names.contains("early"), names.toString());
    assertTrue(!names.contains("late"), names.toString());

    // The oracle: the true risk's concordance on the validation subjects, at interval resolution.
    EmbeddingsSpec spec = EmbeddingsSpec.read(spark.sparkContext().hadoopConfiguration(), out + "/embeddings");
    List<Row> val = spark.read().parquet(out + "/embeddings/table").where("split = 'validation'")
        .select(new DiscreteTimeHazard(CUTS).codeColumn().as("code"), org.apache.spark.sql.functions.col("subject_id"))
        .collectAsList();
    int[] codes = val.stream().mapToInt(r -> r.getInt(0)).toArray();
    double[] risk = val.stream().mapToDouble(r -> trueRisk[Integer.parseInt(r.getString(1).substring(1))]).toArray();
    double oracle = Metrics.intervalConcordance(risk, codes);
    System.out.printf("true-risk concordance %.3f%n", oracle);
    for (TrainResult.ModelResult m : trained.models()) {
      ComputationGraph g = ModelArtifact.loadGraph(spark.sparkContext().hadoopConfiguration(), m.modelDir()).model();
      assertEquals(CUTS.length, g.getOutputLayer(0).getParam("W").size(1), m.name());
      double c = m.validation().auroc();
      System.out.printf("%s validation concordance %.3f%n", m.name(), c);
      // Fusion sees both latents; a unimodal model half of the signal; none beats the truth beyond noise.
      assertTrue(c <= oracle + 0.05, m.name() + " " + c + " > oracle " + oracle);
    }
    double fused = trained.models().stream().filter(m -> m.name().equals("concat")).findFirst().orElseThrow()
        .validation().auroc();
    double unimodal = trained.models().stream().filter(m -> m.name().equals("unimodal:a")).findFirst().orElseThrow()
        .validation().auroc();
    assertTrue(fused > unimodal, "concat " + fused + " vs unimodal:a " + unimodal);
    assertTrue(fused > 0.5 + (oracle - 0.5) / 2, "concat " + fused + " recovers less than half the oracle's margin " + oracle);

    Path e2e = Files.writeString(dir.resolve("e2e.conf"), Files.readString(conf)
        + "fusion.models.raw { what = [a, b], how = concat, when = raw, projection = 8, head = [8] }\n");
    FusionSpecException refused = assertThrows(FusionSpecException.class, () -> TrainAction.of(spark,
        PipelineConfigLoader.load(e2e.toFile(), List.of())).models(List.of("raw")).execute());
    assertTrue(refused.getMessage().startsWith("Cannot train model 'raw' on a survival outcome"), refused.getMessage());
  }

  /** Writes the table and embeddings.json; returns each subject's true risk z_0 + z_1 (subject i is "s<i>"). */
  private static double[] write(SparkSession spark, String dir, int n, long seed) {
    Random rng = new Random(seed);
    StructType schema = new StructType().add("subject_id", "string").add("split", "string").add("label", "int")
        .add("duration", "double").add("has_a", "boolean").add("has_b", "boolean")
        .add("a", DataTypes.createArrayType(DataTypes.FloatType, false))
        .add("b", DataTypes.createArrayType(DataTypes.FloatType, false));
    double[] risk = new double[n];
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double z0 = rng.nextGaussian();
      double z1 = rng.nextGaussian();
      risk[i] = z0 + z1;
      double event = -Math.log(1 - rng.nextDouble()) / Math.exp(risk[i]);
      double censor = rng.nextDouble() * 3;
      boolean hasB = rng.nextDouble() > 0.2;
      rows.add(RowFactory.create("s" + i, i % 5 < 3 ? "train" : i % 5 == 3 ? "validation" : "test",
          event <= censor ? 1 : 0, Math.min(event, censor), true, hasB, embed(z0, rng), hasB ? embed(z1, rng) : null));
    }
    spark.createDataFrame(rows, schema).write().parquet(dir + "/table");
    new EmbeddingsSpec(List.of(new EmbeddingsSpec.Modality("a", 4, "x"), new EmbeddingsSpec.Modality("b", 4, "y")),
        List.of("0", "1"), "h", List.of(0.25, 0.5, 1.0, 2.0)).write(spark.sparkContext().hadoopConfiguration(), dir);
    return risk;
  }

  private static float[] embed(double z, Random rng) {
    float[] v = new float[4];
    for (int k = 0; k < 4; k++) {
      v[k] = (float) (z * (k + 1) / 4.0 + 0.3 * rng.nextGaussian());
    }
    return v;
  }
}
