package org.cohortfusion.evaluate;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.bench.SyntheticEmbeddings;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.testing.SparkTestSession;
import org.cohortfusion.train.TrainAction;
import org.junit.jupiter.api.Test;

/**
 * Evaluate end to end with encoder-head columns in the embeddings table, built so that validation
 * and test disagree: every modality's encoder head is right on validation subjects (probability 0.9
 * for positives, 0.1 for negatives) and exactly wrong on test subjects. Validation must therefore
 * choose every encoder head, although each then scores below 0.5 on test, below train's heads on
 * the frozen embeddings; and the best unimodal model of the comparisons must be one of them.
 */
class HonestUnimodalBaselineTest {

  @Test
  void evaluateChoosesEachBaselineOnValidationEvenWhereTestDisagrees() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path root = Files.createTempDirectory("cf-honest");
    String emb = root.resolve("out/embeddings").toString();
    SyntheticEmbeddings.write(spark, emb, 900, new double[] {0.3, 0.3, 0.3}, 1.0, 9);
    // Add the head columns (the descriptor, and so its SHA-256, is unchanged): read, add, write
    // aside, swap.
    Dataset<Row> table = spark.read().parquet(emb + "/table");
    for (String m : SyntheticEmbeddings.NAMES) {
      Column right = when(col("label").equalTo(1), lit(0.9f)).otherwise(lit(0.1f));
      Column p = when(col("split").equalTo("test"), lit(1.0f).minus(right)).otherwise(right);
      table =
          table.withColumn(
              EncoderHeads.COLUMN_PREFIX + m,
              when(col("has_" + m), array(lit(1.0f).minus(p).cast("float"), p.cast("float"))));
    }
    table.write().parquet(emb + "/table-with-heads");
    org.apache.hadoop.fs.FileSystem fs =
        org.apache.hadoop.fs.FileSystem.getLocal(spark.sparkContext().hadoopConfiguration());
    fs.delete(new org.apache.hadoop.fs.Path(emb + "/table"), true);
    fs.rename(
        new org.apache.hadoop.fs.Path(emb + "/table-with-heads"),
        new org.apache.hadoop.fs.Path(emb + "/table"));

    Path conf = root.resolve("honest.conf");
    Files.writeString(
        conf,
        """
        name = honest-test
        subjects { path = s.csv }
        modalities { clinical { kind = tabular, path = c.csv } }
        output { dir = "%s" }
        fusion { models { mean { what = [clinical, labs, imaging], how = mean, projection = 8, head = [16] } } }
        train { mode = local, epochs = 2, batch-size = 32, learning-rate = 0.01, seed = 3 }
        """
            .formatted(root.resolve("out")));
    PipelineConfig config = PipelineConfigLoader.load(conf.toFile(), List.of());
    TrainAction.of(spark, config).execute();
    EvaluateAction.of(spark, config).execute();
    EvaluateResult result =
        EvaluateAction.read(spark.sparkContext().hadoopConfiguration(), config.evaluateOutputDir());

    assertEquals(
        List.of("clinical", "labs", "imaging"),
        result.unimodalBaselines().stream()
            .map(EvaluateResult.UnimodalBaseline::modality)
            .toList());
    for (EvaluateResult.UnimodalBaseline b : result.unimodalBaselines()) {
      assertEquals("encoder:" + b.modality(), b.chosen(), b.toString());
      assertTrue(b.encoderHeadValidationAuroc() > b.frozenHeadValidationAuroc(), b.toString());
      double encoderTest = result.get(b.encoderHead()).test().auroc();
      double frozenTest = result.get(b.frozenHead()).test().auroc();
      assertTrue(
          encoderTest < 0.5 && encoderTest < frozenTest,
          b + ": test " + encoderTest + " vs " + frozenTest);
    }
    String best = result.bestUnimodal().orElseThrow().name();
    assertTrue(best.startsWith("encoder:"), best);
    // The paired comparisons are against it, and its predictions are in the Parquet output
    // (retrain's gate reads them).
    assertTrue(result.comparison("mean", best).isPresent());
    assertTrue(
        spark.read().parquet(result.predictionsPath()).where(col("model").equalTo(best)).count()
            > 0);
  }
}
