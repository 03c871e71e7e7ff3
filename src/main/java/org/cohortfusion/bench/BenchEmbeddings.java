package org.cohortfusion.bench;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;

/**
 * An embeddings table (data-schemas/embeddings.json) of any size for the training benchmark,
 * generated on the executors: each subject has one latent factor per modality, revealed by that
 * modality's embedding along a fixed random direction plus noise, and a label drawn from the
 * sigmoid of the factors' sum; each modality is missing at random with probability {@code missing}.
 * Splits 70/15/15 by subject index.
 */
public final class BenchEmbeddings {
  private BenchEmbeddings() {}

  /** The compute-bound case of {@code bench train}: five modalities of very different sizes. */
  public static final int[] LARGE_DIMS = {32, 1024, 256, 128, 64};

  public static EmbeddingsSpec write(
      SparkSession spark, String dir, long subjects, int[] dims, double missing, long seed) {
    double[][] bySite = {new double[dims.length]};
    java.util.Arrays.fill(bySite[0], missing);
    return write(spark, dir, subjects, dims, bySite, seed);
  }

  /**
   * As {@link #write(SparkSession, String, long, int[], double, long)}, each subject at a site
   * drawn uniformly from {@code missingBySite.length} sites (an integer {@code site} column) where
   * modality m is missing at random with probability {@code missingBySite[site][m]}: missingness
   * correlated with site, the label independent of it. With one site the rows are those of the
   * single-rate overload (no site drawn).
   */
  public static EmbeddingsSpec write(
      SparkSession spark,
      String dir,
      long subjects,
      int[] dims,
      double[][] missingBySite,
      long seed) {
    int m = dims.length;
    boolean sites = missingBySite.length > 1;
    List<StructField> fields =
        new ArrayList<>(
            List.of(
                DataTypes.createStructField(Columns.SUBJECT_ID, DataTypes.StringType, false),
                DataTypes.createStructField(Columns.SPLIT, DataTypes.StringType, false),
                DataTypes.createStructField(Columns.LABEL, DataTypes.IntegerType, true)));
    for (int i = 0; i < m; i++) {
      fields.add(
          DataTypes.createStructField(Columns.presence("m" + i), DataTypes.BooleanType, false));
    }
    if (sites) {
      fields.add(DataTypes.createStructField("site", DataTypes.IntegerType, false));
    }
    for (int i = 0; i < m; i++) {
      fields.add(
          DataTypes.createStructField(
              "m" + i, DataTypes.createArrayType(DataTypes.FloatType, false), true));
    }
    int partitions = (int) Math.max(2, Math.min(64, subjects / 5000));
    JavaRDD<Row> rows =
        spark
            .range(0, subjects, 1, partitions)
            .javaRDD()
            .mapPartitions(new Rows(dims, missingBySite, seed));
    spark
        .createDataFrame(rows, new StructType(fields.toArray(new StructField[0])))
        .write()
        .mode("overwrite")
        .parquet(dir + "/" + EmbeddingsSpec.TABLE);
    List<EmbeddingsSpec.Modality> modalities = new ArrayList<>();
    for (int i = 0; i < m; i++) {
      modalities.add(new EmbeddingsSpec.Modality("m" + i, dims[i], "bench-" + seed));
    }
    EmbeddingsSpec spec =
        new EmbeddingsSpec(
            modalities, List.of("negative", "positive"), "bench-" + seed + "-" + subjects);
    spec.write(spark.sparkContext().hadoopConfiguration(), dir);
    return spec;
  }

  private static final class Rows implements FlatMapFunction<Iterator<Long>, Row> {
    private static final long serialVersionUID = 1L;
    private final int[] dims;
    private final double[][] missing;
    private final long seed;

    Rows(int[] dims, double[][] missing, long seed) {
      this.dims = dims.clone();
      this.missing = missing.clone();
      this.seed = seed;
    }

    @Override
    public Iterator<Row> call(Iterator<Long> ids) {
      int m = dims.length;
      float[][] direction = new float[m][];
      Random fixed = new Random(seed);
      for (int i = 0; i < m; i++) {
        direction[i] = new float[dims[i]];
        double norm = 0;
        for (int d = 0; d < dims[i]; d++) {
          direction[i][d] = (float) fixed.nextGaussian();
          norm += direction[i][d] * direction[i][d];
        }
        for (int d = 0; d < dims[i]; d++) {
          direction[i][d] /= (float) Math.sqrt(norm);
        }
      }
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return ids.hasNext();
        }

        @Override
        public Row next() {
          return row(ids.next(), direction);
        }
      };
    }

    private Row row(long id, float[][] direction) {
      int m = dims.length;
      Random rng = new Random(seed * 1_000_003L + id);
      double logit = 0;
      double[] z = new double[m];
      for (int i = 0; i < m; i++) {
        z[i] = rng.nextGaussian();
        logit += z[i] / Math.sqrt(m) * 2.0;
      }
      boolean sites = missing.length > 1;
      Object[] values = new Object[3 + 2 * m + (sites ? 1 : 0)];
      values[0] = "b" + id;
      long bucket = id % 20;
      values[1] =
          bucket < 14
              ? Columns.Splits.TRAIN
              : bucket < 17 ? Columns.Splits.VALIDATION : Columns.Splits.TEST;
      values[2] = rng.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
      // Drawn after the label, so one site gives the same rows as the single-rate overload.
      // SplittableRandom: java.util.Random's first draws of consecutive seeds are correlated.
      int site =
          sites ? new java.util.SplittableRandom(seed * 7_919L + id).nextInt(missing.length) : 0;
      for (int i = 0; i < m; i++) {
        boolean has = rng.nextDouble() >= missing[site][i];
        values[3 + i] = has;
        if (has) {
          float[] v = new float[dims[i]];
          for (int d = 0; d < dims[i]; d++) {
            v[d] = (float) (z[i] * direction[i][d] + 0.5 * rng.nextGaussian() / Math.sqrt(dims[i]));
          }
          values[3 + m + i] = v;
        }
      }
      if (sites) {
        // The schema puts site after the has_ flags; the embeddings come last.
        Object[] ordered = new Object[values.length];
        System.arraycopy(values, 0, ordered, 0, 3 + m);
        ordered[3 + m] = site;
        System.arraycopy(values, 3 + m, ordered, 4 + m, m);
        return RowFactory.create(ordered);
      }
      return RowFactory.create(values);
    }
  }
}
