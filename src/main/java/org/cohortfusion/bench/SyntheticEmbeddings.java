package org.cohortfusion.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;

/**
 * A synthetic embeddings cohort with a known truth, written like extract would
 * (data-schemas/embeddings.json): modalities clinical (8), labs (12) and imaging (6). Each subject
 * has latent signals z_0, z_1, z_2 ~ N(0, 1); modality m's embedding is {@code z_m u_m + noise *
 * eps + offset * c_m} (u_m, c_m fixed random unit vectors: the offset mimics non-centred encoder
 * outputs, so a zero vector is NOT a neutral value). The label is Bernoulli with {@code logit = a
 * (z_0 + z_1 + z_2) + b z_0 z_1}: every modality carries signal and clinical x labs interact (b =
 * {@link #B} unless the {@link Scenario} says otherwise). Missingness is MCAR with a rate per
 * modality by default; a {@link Scenario} can correlate the latents through a shared factor, make
 * missingness depend on the label (MNAR) or give the development splits (train, validation) other
 * missing rates than the test split. Splits: 60% train, 20% validation, 20% test. Shared by the
 * train and evaluate tests and by {@link FusionSeedsBench}, whose comparisons need the cohorts
 * those tests train on.
 */
public final class SyntheticEmbeddings {
  public static final String[] NAMES = {"clinical", "labs", "imaging"};
  public static final int[] DIMS = {8, 12, 6};
  static final double A = 1.2;
  static final double B = 1.0;
  static final double NOISE = 0.3;

  private SyntheticEmbeddings() {}

  /**
   * Writes {@code <dir>/table} and {@code <dir>/embeddings.json} of a binary cohort; returns the
   * spec.
   */
  public static EmbeddingsSpec write(
      SparkSession spark, String dir, int n, double[] missing, double offset, long seed) {
    return write(spark, dir, n, missing, offset, seed, 2);
  }

  /**
   * As {@link #write(SparkSession, String, int, double[], double, long)}, with 2 or 3 classes.
   * Three classes are the terciles of the logit (below -0.8, up to 0.8, above), without a true
   * probability; the random stream is the same as for two classes.
   */
  public static EmbeddingsSpec write(
      SparkSession spark,
      String dir,
      int n,
      double[] missing,
      double offset,
      long seed,
      int numClasses) {
    return write(spark, dir, n, missing, offset, seed, numClasses, Scenario.MCAR);
  }

  /**
   * How modalities relate and go missing beyond the MCAR default. {@link #MCAR} reproduces the
   * documented generator exactly (same random stream, same rows).
   *
   * @param shared correlation rho of the modality latents through one shared factor s ~ N(0, 1):
   *     {@code z_m = sqrt(rho) s + sqrt(1 - rho) e_m} (rho = 0: independent, the default; rho > 0
   *     mimics modalities that all reflect one disease severity). The label formula is unchanged.
   * @param mnar label-dependent missingness: a modality's missing rate is {@code missing[m] - mnar}
   *     for positives and {@code missing[m] + mnar} for negatives (tests ordered for sicker
   *     patients); the overall rate stays {@code missing[m]} when prevalence is about 1/2. 0 =
   *     MCAR.
   * @param developmentMissing missing rates of the train and validation splits (the test split
   *     keeps {@code missing}); null = the same as the test split.
   * @param extra number of extra modalities {@code extra0, extra1, ...} (size 8, missing rate and
   *     development rate of the first modality) with latents of their own; with M modalities in all
   *     the logit is {@code A sqrt(3 / M) sum_m z_m + B z_0 z_1}. 0 = the three modalities only.
   * @param interaction the coefficient B of the clinical x labs term {@code z_0 z_1} in the logit
   *     ({@link SyntheticEmbeddings#B} by default; 0 makes the label additive in the latents)
   */
  public record Scenario(
      double shared, double mnar, double[] developmentMissing, int extra, double interaction) {
    public static final Scenario MCAR = new Scenario(0, 0, null);

    public Scenario(double shared, double mnar, double[] developmentMissing) {
      this(shared, mnar, developmentMissing, 0);
    }

    public Scenario(double shared, double mnar, double[] developmentMissing, int extra) {
      this(shared, mnar, developmentMissing, extra, B);
    }

    /** This scenario with the clinical x labs coefficient {@code b}. */
    public Scenario withInteraction(double b) {
      return new Scenario(shared, mnar, developmentMissing, extra, b);
    }

    public Scenario {
      if (shared < 0 || shared > 1) {
        throw new IllegalArgumentException("shared must be in [0, 1], got " + shared);
      }
    }
  }

  /** As above, with the modality relations and missingness of {@code scenario}. */
  public static EmbeddingsSpec write(
      SparkSession spark,
      String dir,
      int n,
      double[] missing,
      double offset,
      long seed,
      int numClasses,
      Scenario scenario) {
    if (numClasses != 2 && numClasses != 3) {
      throw new IllegalArgumentException(
          "Cannot write synthetic embeddings: " + numClasses + " classes (2 or 3)");
    }
    Random rng = new Random(seed);
    Random aux = new Random(seed * 31 + 7); // draws of the non-default scenario options only
    int nm = 3 + scenario.extra();
    String[] names = new String[nm];
    int[] dims = new int[nm];
    double[][] u = new double[nm][];
    double[][] c = new double[nm][];
    for (int m = 0; m < nm; m++) {
      names[m] = m < 3 ? NAMES[m] : "extra" + (m - 3);
      dims[m] = m < 3 ? DIMS[m] : 8;
      Random r = m < 3 ? rng : aux;
      u[m] = unit(r, dims[m]);
      c[m] = unit(r, dims[m]);
    }
    List<StructField> fields =
        new ArrayList<>(
            List.of(
                DataTypes.createStructField(Columns.SUBJECT_ID, DataTypes.StringType, false),
                DataTypes.createStructField(Columns.SPLIT, DataTypes.StringType, false),
                DataTypes.createStructField(Columns.LABEL, DataTypes.IntegerType, true),
                DataTypes.createStructField(Columns.FOLD, DataTypes.IntegerType, true),
                DataTypes.createStructField(Columns.GROUP, DataTypes.StringType, true),
                DataTypes.createStructField("true_probability", DataTypes.DoubleType, true)));
    for (String name : names) {
      fields.add(DataTypes.createStructField(Columns.presence(name), DataTypes.BooleanType, false));
    }
    for (String name : names) {
      fields.add(
          DataTypes.createStructField(
              name, DataTypes.createArrayType(DataTypes.FloatType, false), true));
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double[] z = new double[nm];
      for (int m = 0; m < nm; m++) {
        z[m] = m < 3 ? rng.nextGaussian() : aux.nextGaussian();
      }
      if (scenario.shared() > 0) {
        double s = aux.nextGaussian();
        for (int m = 0; m < nm; m++) {
          z[m] = Math.sqrt(scenario.shared()) * s + Math.sqrt(1 - scenario.shared()) * z[m];
        }
      }
      double b = scenario.interaction();
      double logit = A * (z[0] + z[1] + z[2]) + b * z[0] * z[1];
      if (nm > 3) {
        double sum = 0;
        for (double zm : z) {
          sum += zm;
        }
        logit = A * Math.sqrt(3.0 / nm) * sum + b * z[0] * z[1];
      }
      double p = 1 / (1 + Math.exp(-logit));
      int binary = rng.nextDouble() < p ? 1 : 0;
      int label = numClasses == 2 ? binary : logit < -0.8 ? 0 : logit <= 0.8 ? 1 : 2;
      int bucket = i % 10;
      String split = bucket < 6 ? "train" : bucket < 8 ? "validation" : "test";
      Object[] values = new Object[6 + 2 * nm];
      values[0] = "s" + i;
      values[1] = split;
      values[2] = i % 97 == 5 ? null : label; // a few unlabeled subjects: skipped by training
      values[3] = null;
      values[4] = null;
      values[5] = numClasses == 2 ? p : null;
      for (int m = 0; m < nm; m++) {
        int rm = m < 3 ? m : 0;
        double rate =
            scenario.developmentMissing() != null && !split.equals("test")
                ? scenario.developmentMissing()[rm]
                : missing[rm];
        rate = binary == 1 ? rate - scenario.mnar() : rate + scenario.mnar();
        boolean has = (m < 3 ? rng : aux).nextDouble() >= rate;
        values[6 + m] = has;
        if (has) {
          Random r = m < 3 ? rng : aux;
          List<Float> v = new ArrayList<>();
          for (int d = 0; d < dims[m]; d++) {
            v.add((float) (z[m] * u[m][d] + NOISE * r.nextGaussian() + offset * c[m][d]));
          }
          values[6 + nm + m] = v;
        } else {
          values[6 + nm + m] = null;
        }
      }
      rows.add(RowFactory.create(values));
    }
    spark
        .createDataFrame(rows, new StructType(fields.toArray(new StructField[0])))
        .coalesce(2)
        .write()
        .mode("overwrite")
        .parquet(dir + "/" + EmbeddingsSpec.TABLE);
    List<EmbeddingsSpec.Modality> mods = new ArrayList<>();
    for (int m = 0; m < nm; m++) {
      mods.add(new EmbeddingsSpec.Modality(names[m], dims[m], "synthetic-" + seed));
    }
    List<String> classes =
        numClasses == 2 ? List.of("negative", "positive") : List.of("low", "middle", "high");
    EmbeddingsSpec spec =
        new EmbeddingsSpec(
            mods, classes, "synthetic-" + seed + "-" + n + (numClasses == 2 ? "" : "-k3"));
    spec.write(spark.sparkContext().hadoopConfiguration(), dir);
    return spec;
  }

  private static double[] unit(Random rng, int d) {
    double[] v = new double[d];
    double norm = 0;
    for (int i = 0; i < d; i++) {
      v[i] = rng.nextGaussian();
      norm += v[i] * v[i];
    }
    norm = Math.sqrt(norm);
    for (int i = 0; i < d; i++) {
      v[i] /= norm;
    }
    return v;
  }
}
