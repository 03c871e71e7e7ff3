package org.cohortfusion.features;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.io.Json;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.ModalityKind;
import org.cohortfusion.stage.ModalitySpec;

/**
 * Tiny aligned cohorts (data-schemas/aligned.json) built directly as DataFrames: one modality of
 * each kind. The vector modality 'vec' carries the label signal; the others are noise. Subject i is
 * in split train (i % 5 in 0..2), validation (3) or test (4); every 7th subject lacks 'ts' and
 * every 11th lacks 'txt'.
 */
public final class FeatureTestCohorts {
  public static final StructType TABULAR =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("age", DataTypes.DoubleType, true),
            DataTypes.createStructField("bili", DataTypes.DoubleType, true),
            DataTypes.createStructField("stage", DataTypes.StringType, true)
          });
  public static final StructType TIMESERIES =
      new StructType(
          new StructField[] {
            DataTypes.createStructField(
                "values", DataTypes.createArrayType(DataTypes.FloatType, false), false),
            DataTypes.createStructField(
                "observed", DataTypes.createArrayType(DataTypes.FloatType, false), false),
            DataTypes.createStructField(
                "step_mask", DataTypes.createArrayType(DataTypes.FloatType, false), false),
            DataTypes.createStructField(
                "delta_time", DataTypes.createArrayType(DataTypes.FloatType, false), false)
          });
  public static final StructType SCHEMA =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("subject_id", DataTypes.StringType, false),
            DataTypes.createStructField("label", DataTypes.IntegerType, true),
            DataTypes.createStructField("index_time", DataTypes.DoubleType, true),
            DataTypes.createStructField("split", DataTypes.StringType, false),
            DataTypes.createStructField("fold", DataTypes.IntegerType, true),
            DataTypes.createStructField("group", DataTypes.StringType, true),
            DataTypes.createStructField("has_img", DataTypes.BooleanType, false),
            DataTypes.createStructField("has_tab", DataTypes.BooleanType, false),
            DataTypes.createStructField("has_ts", DataTypes.BooleanType, false),
            DataTypes.createStructField("has_txt", DataTypes.BooleanType, false),
            DataTypes.createStructField("has_vec", DataTypes.BooleanType, false),
            DataTypes.createStructField(
                "img", DataTypes.createArrayType(DataTypes.FloatType, false), true),
            DataTypes.createStructField("tab", TABULAR, true),
            DataTypes.createStructField("ts", TIMESERIES, true),
            DataTypes.createStructField("txt", DataTypes.StringType, true),
            DataTypes.createStructField(
                "vec", DataTypes.createArrayType(DataTypes.FloatType, false), true)
          });
  public static final int VECTOR_LENGTH = 6;
  public static final int CHANNELS = 2;
  public static final int STEPS = 3;

  private FeatureTestCohorts() {}

  public static List<ModalitySpec> specs() {
    return List.of(
        new ModalitySpec("img", ModalityKind.IMAGE, null, null, 16, List.of(1, 4, 4), null, 0),
        new ModalitySpec(
            "tab",
            ModalityKind.TABULAR,
            List.of("age", "bili"),
            List.of("stage"),
            0,
            null,
            null,
            0),
        new ModalitySpec(
            "ts",
            ModalityKind.TIMESERIES,
            null,
            null,
            CHANNELS * STEPS,
            null,
            List.of("a", "b"),
            STEPS),
        new ModalitySpec("txt", ModalityKind.TEXT, null, null, 0, null, null, 0),
        new ModalitySpec("vec", ModalityKind.VECTOR, null, null, VECTOR_LENGTH, null, null, 0));
  }

  public static ModalitySpec spec(String name) {
    return specs().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
  }

  /** Subjects s0 .. s(n-1) with deterministic payloads from {@code seed}. */
  public static List<Row> rows(int n, long seed) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(row(i, seed));
    }
    return rows;
  }

  public static Row row(int i, long seed) {
    Random r = new Random(seed * 1_000_003L + i);
    int label = i % 2 == 0 ? 1 : 0;
    String split =
        switch (i % 5) {
          case 3 -> "validation";
          case 4 -> "test";
          default -> "train";
        };
    float[] img = new float[16];
    for (int p = 0; p < img.length; p++) {
      img[p] = (float) r.nextGaussian();
    }
    Row tab =
        RowFactory.create(
            i % 9 == 0 ? null : 40 + 10 * r.nextGaussian(), r.nextDouble() * 3, "s" + (i % 3));
    boolean hasTs = i % 7 != 0;
    Row ts = null;
    if (hasTs) {
      float[] values = new float[CHANNELS * STEPS];
      float[] observed = new float[CHANNELS * STEPS];
      float[] stepMask = {i % 2 == 0 ? 0f : 1f, 1f, 1f}; // left padding on every other subject
      float[] delta = new float[STEPS];
      for (int c = 0; c < CHANNELS; c++) {
        for (int t = 0; t < STEPS; t++) {
          if (stepMask[t] > 0) {
            values[c * STEPS + t] = (float) (5 + r.nextGaussian());
            observed[c * STEPS + t] = 1f;
          }
        }
      }
      for (int t = 0; t < STEPS; t++) {
        delta[t] = stepMask[t] > 0 ? (STEPS - t) * 30f : 0f;
      }
      ts = RowFactory.create(values, observed, stepMask, delta);
    }
    boolean hasTxt = i % 11 != 0;
    String txt =
        hasTxt
            ? "Patient note " + (r.nextBoolean() ? "stable, no change" : "mild fever today")
            : null;
    float[] vec = new float[VECTOR_LENGTH];
    for (int p = 0; p < VECTOR_LENGTH; p++) {
      vec[p] = (float) (r.nextGaussian() + (p < 2 ? 2.0 * label : 0.0));
    }
    return RowFactory.create(
        "s" + i,
        label,
        365.0,
        split,
        null,
        "g" + (i % 4),
        true,
        true,
        hasTs,
        hasTxt,
        true,
        img,
        tab,
        ts,
        txt,
        vec);
  }

  public static Dataset<Row> frame(SparkSession spark, List<Row> rows) {
    return spark.createDataFrame(rows, SCHEMA);
  }

  /** Writes an ingest-like cohort directory (aligned/ + cohort.json) and returns it. */
  public static String writeCohort(
      SparkSession spark, List<Row> rows, String dir, String fingerprint) {
    frame(spark, rows)
        .repartition(2)
        .write()
        .mode(SaveMode.Overwrite)
        .parquet(dir + "/" + CohortManifest.ALIGNED);
    CohortManifest manifest =
        new CohortManifest(
            "test",
            specs(),
            List.of("0", "1"),
            rows.size(),
            fingerprint,
            "test",
            "2026-01-01T00:00:00Z",
            Map.of());
    Json.write(new Configuration(), dir + "/" + CohortManifest.FILE, manifest);
    return dir;
  }

  /**
   * A cohort of {@link #rows} with a survival outcome: event times exponential with rate 0.5 *
   * exp(z), z = (vec[0] + vec[1]) / 2 of the subject's 'vec' modality, censored uniformly on (0,
   * 5); the label is the event indicator and {@code duration} the follow-up. Fills {@code risk}
   * (subject id to z, the true risk score) and {@code outcomes} (subject_id, label, duration).
   */
  public static String writeSurvivalCohort(
      SparkSession spark,
      int n,
      long seed,
      String dir,
      Map<String, Double> risk,
      List<Row> outcomes) {
    List<Row> rows = rows(n, seed);
    Random rng = new Random(seed + 16);
    for (Row r : rows) {
      float[] vec = (float[]) r.get(SCHEMA.fieldIndex("vec"));
      double z = (vec[0] + vec[1]) / 2.0;
      double t = -Math.log(1 - rng.nextDouble()) / (0.5 * Math.exp(z));
      double c = 5 * rng.nextDouble() + 1e-6;
      String id = r.getString(0);
      risk.put(id, z);
      outcomes.add(RowFactory.create(id, t <= c ? 1 : 0, Math.min(t, c)));
    }
    String plain = writeCohort(spark, rows, dir + "-plain", "fp");
    Dataset<Row> outcome =
        spark.createDataFrame(
            outcomes,
            new StructType()
                .add("subject_id", DataTypes.StringType)
                .add("label", DataTypes.IntegerType)
                .add("duration", DataTypes.DoubleType));
    spark
        .read()
        .parquet(plain + "/" + CohortManifest.ALIGNED)
        .drop("label")
        .join(outcome, "subject_id")
        .write()
        .parquet(dir + "/" + CohortManifest.ALIGNED);
    try {
      java.nio.file.Files.copy(
          java.nio.file.Path.of(plain, CohortManifest.FILE),
          java.nio.file.Path.of(dir).resolve(CohortManifest.FILE));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return dir;
  }

  /** A pipeline config (HOCON) whose output.dir is {@code outputDir}. */
  public static String config(String outputDir, String extra) {
    return """
        name = test
        subjects { path = "unused.csv", format = csv }
        modalities {
          img { kind = image, path = "unused", shape = [1, 4, 4] }
          tab { kind = tabular, path = "unused" }
          ts { kind = timeseries, path = "unused", steps = 3 }
          txt { kind = text, path = "unused" }
          vec { kind = vector, path = "unused", length = 6 }
        }
        output { dir = "%s" }
        %s
        """
        .formatted(outputDir, extra);
  }
}
