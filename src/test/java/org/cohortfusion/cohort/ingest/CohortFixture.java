package org.cohortfusion.cohort.ingest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A small cohort with all five modality kinds, written as Parquet under a directory, whose rows
 * tests extend with planted problems before writing. Subjects S01..S{n}; index_time 100 for all.
 */
final class CohortFixture {
  static final StructType SUBJECTS =
      new StructType()
          .add("subject_id", DataTypes.StringType)
          .add("label", DataTypes.IntegerType)
          .add("index_time", DataTypes.DoubleType)
          .add("group", DataTypes.StringType);
  static final StructType CLINICAL =
      new StructType()
          .add("subject_id", DataTypes.StringType)
          .add("age", DataTypes.DoubleType)
          .add("sex", DataTypes.StringType);
  static final StructType OMICS =
      new StructType()
          .add("subject_id", DataTypes.StringType)
          .add("values", DataTypes.createArrayType(DataTypes.FloatType));
  static final StructType IMAGING =
      new StructType()
          .add("subject_id", DataTypes.StringType)
          .add("pixels", DataTypes.createArrayType(DataTypes.FloatType))
          .add("shape", DataTypes.createArrayType(DataTypes.IntegerType));
  static final StructType LABS =
      new StructType()
          .add("subject_id", DataTypes.StringType)
          .add("time", DataTypes.DoubleType)
          .add("alb", DataTypes.DoubleType)
          .add("crp", DataTypes.DoubleType);
  static final StructType NOTES =
      new StructType().add("subject_id", DataTypes.StringType).add("text", DataTypes.StringType);

  final List<Row> subjects = new ArrayList<>();
  final List<Row> clinical = new ArrayList<>();
  final List<Row> omics = new ArrayList<>();
  final List<Row> imaging = new ArrayList<>();
  final List<Row> labs = new ArrayList<>();
  final List<Row> notes = new ArrayList<>();

  /**
   * n valid subjects; every one has every modality, labs at times 10, 50, 90 and 150 (after index).
   */
  static CohortFixture valid(int n) {
    return valid(java.util.stream.IntStream.rangeClosed(1, n).mapToObj(CohortFixture::id).toList());
  }

  /**
   * As {@link #valid(int)}, with these ids for S01..S{n}: the i-th id's label is i % 2 (i from 1).
   */
  static CohortFixture valid(List<String> ids) {
    CohortFixture f = new CohortFixture();
    for (int i = 1; i <= ids.size(); i++) {
      String id = ids.get(i - 1);
      f.subjects.add(RowFactory.create(id, i % 2, 100.0, i % 3 == 0 ? "site-b" : "site-a"));
      f.clinical.add(RowFactory.create(id, 40.0 + i, i % 2 == 0 ? "f" : "m"));
      f.omics.add(RowFactory.create(id, floats(i, 4)));
      f.imaging.add(RowFactory.create(id, floats(i, 4), List.of(1, 2, 2)));
      for (double t : new double[] {10, 50, 90, 150}) {
        f.labs.add(RowFactory.create(id, t, t / 10.0 + i, t > 100 ? 1000.0 : i * 1.0));
      }
      f.notes.add(RowFactory.create(id, "note of subject number " + (i % 5)));
    }
    return f;
  }

  static String id(int i) {
    return String.format("S%02d", i);
  }

  static List<Float> floats(int seed, int n) {
    Float[] v = new Float[n];
    for (int k = 0; k < n; k++) {
      v[k] = (float) (seed * 0.1 + k);
    }
    return Arrays.asList(v);
  }

  /** Writes every table as Parquet under dir and returns the pipeline config text. */
  String write(SparkSession spark, Path dir, String extraConfig) {
    writeTable(spark, subjects, SUBJECTS, dir.resolve("subjects"));
    writeTable(spark, clinical, CLINICAL, dir.resolve("clinical"));
    writeTable(spark, omics, OMICS, dir.resolve("omics"));
    writeTable(spark, imaging, IMAGING, dir.resolve("imaging"));
    writeTable(spark, labs, LABS, dir.resolve("labs"));
    writeTable(spark, notes, NOTES, dir.resolve("notes"));
    return "name = fixture\n"
        + "cohort-dir = \""
        + dir
        + "\"\n"
        + "subjects { path = subjects }\n"
        + "modalities {\n"
        + "  clinical { kind = tabular, path = clinical }\n"
        + "  omics { kind = vector, path = omics, length = 4 }\n"
        + "  imaging { kind = image, path = imaging, shape = [1, 2, 2] }\n"
        + "  labs { kind = timeseries, path = labs, steps = 4 }\n"
        + "  notes { kind = text, path = notes }\n"
        + "}\n"
        + "splits { seed = 5, train = 0.6, validation = 0.2, test = 0.2 }\n"
        + "output { dir = \""
        + dir.resolve("out")
        + "\" }\n"
        + extraConfig;
  }

  static void writeTable(SparkSession spark, List<Row> rows, StructType schema, Path path) {
    spark
        .createDataFrame(rows, schema)
        .coalesce(1)
        .write()
        .mode(SaveMode.Overwrite)
        .parquet(path.toString());
  }
}
