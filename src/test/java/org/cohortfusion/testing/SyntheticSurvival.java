package org.cohortfusion.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.stage.EmbeddingsSpec;

/**
 * A synthetic embeddings table with a survival outcome and a known truth: two modalities a and b (4
 * floats each) whose latents z_0, z_1 ~ N(0, 1) set each subject's hazard — exponential event times
 * with rate exp(z_0 + z_1) — censored uniformly on [0, 3]; b is missing for a fifth of the
 * subjects. Splits 60/20/20 by index. Subject i is "s&lt;i&gt;".
 */
public final class SyntheticSurvival {
  /** The follow-up intervals' upper bounds. */
  public static final double[] CUTS = {0.25, 0.5, 1, 2};

  private SyntheticSurvival() {}

  /**
   * Writes {@code <dir>/table} and {@code <dir>/embeddings.json}; returns every subject's true risk
   * z_0 + z_1.
   */
  public static double[] write(SparkSession spark, String dir, int n, long seed) {
    Random rng = new Random(seed);
    StructType schema =
        new StructType()
            .add("subject_id", "string")
            .add("split", "string")
            .add("label", "int")
            .add("duration", "double")
            .add("has_a", "boolean")
            .add("has_b", "boolean")
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
      rows.add(
          RowFactory.create(
              "s" + i,
              i % 5 < 3 ? "train" : i % 5 == 3 ? "validation" : "test",
              event <= censor ? 1 : 0,
              Math.min(event, censor),
              true,
              hasB,
              embed(z0, rng),
              hasB ? embed(z1, rng) : null));
    }
    spark.createDataFrame(rows, schema).write().parquet(dir + "/table");
    List<Double> cuts = new ArrayList<>();
    for (double c : CUTS) {
      cuts.add(c);
    }
    new EmbeddingsSpec(
            List.of(
                new EmbeddingsSpec.Modality("a", 4, "x"), new EmbeddingsSpec.Modality("b", 4, "y")),
            List.of("0", "1"),
            "h",
            cuts)
        .write(spark.sparkContext().hadoopConfiguration(), dir);
    return risk;
  }

  /**
   * The config of a survival cohort with these embeddings under {@code outputDir} and one concat
   * fusion model.
   */
  public static String config(String outputDir, String trainMode) {
    return """
        name = survival-test
        subjects { path = s.csv, outcome { kind = survival, intervals = [0.25, 0.5, 1, 2], horizons = [0.5, 1] } }
        modalities { a { kind = tabular, path = a.csv }, b { kind = tabular, path = b.csv } }
        output { dir = "%s" }
        fusion { default = concat, models { concat { what = [a, b], how = concat, projection = 8, head = [16] } } }
        train { mode = %s, workers = 2, validation = driver, epochs = 15, batch-size = 32, learning-rate = 0.01, seed = 3 }
        """
        .formatted(outputDir, trainMode);
  }

  private static float[] embed(double z, Random rng) {
    float[] v = new float[4];
    for (int k = 0; k < 4; k++) {
      v[k] = (float) (z * (k + 1) / 4.0 + 0.3 * rng.nextGaussian());
    }
    return v;
  }
}
