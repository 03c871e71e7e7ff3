package org.cohortfusion.evaluate;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EvaluateOutputs;

/**
 * Evaluate's predictions table ({@link EvaluateOutputs#PREDICTIONS}: one row per model and test
 * subject), made by the executors that write it. The driver broadcasts the test split's columns and
 * every model's scores once, as arrays; each task makes the rows of one slice of one model as it
 * writes them. Rows made on the driver cost several times the arrays they come from, once as {@link
 * Row} objects and again as the internal rows of {@code createDataFrame}'s local relation: at
 * 150,000 test subjects and a dozen models that was two million rows on the driver's heap.
 */
final class PredictionsTable {
  /** Rows per task: tasks short enough to retry cheaply; a task streams its rows, holding none. */
  private static final int ROWS_PER_SLICE = 50_000;

  private PredictionsTable() {}

  /**
   * Writes the class-label predictions: subject_id, model, probability (binary: of class 1; more
   * classes: every class's), label, pattern; models in {@code probabilities}' order, subjects in
   * TestSplit order.
   */
  static void writeClasses(
      SparkSession spark,
      String path,
      TestSplit test,
      String[] patterns,
      Map<String, double[][]> probabilities,
      int numClasses) {
    DataType probabilityType =
        numClasses == 2
            ? DataTypes.DoubleType
            : DataTypes.createArrayType(DataTypes.DoubleType, false);
    StructType schema =
        new StructType()
            .add(Columns.SUBJECT_ID, DataTypes.StringType, false)
            .add(EvaluateOutputs.MODEL, DataTypes.StringType, false)
            .add(EvaluateOutputs.PROBABILITY, probabilityType, false)
            .add(Columns.LABEL, DataTypes.IntegerType, false)
            .add(EvaluateOutputs.PATTERN, DataTypes.StringType, false);
    List<double[]> values = new ArrayList<>();
    for (double[][] p : probabilities.values()) {
      double[] flat = new double[p.length * numClasses];
      for (int i = 0; i < p.length; i++) {
        System.arraycopy(p[i], 0, flat, i * numClasses, numClasses);
      }
      values.add(flat);
    }
    Compact c =
        new Compact(
            test, patterns, probabilities.keySet(), values, numClasses, test.labels(), null, false);
    write(spark, path, c, schema);
  }

  /**
   * Writes the survival predictions: subject_id, model, risk, duration, event, pattern; models in
   * {@code risk}'s order, subjects in TestSplit order.
   */
  static void writeSurvival(
      SparkSession spark,
      String path,
      TestSplit test,
      String[] patterns,
      Map<String, double[]> risk,
      double[] time,
      boolean[] event) {
    StructType schema =
        new StructType()
            .add(Columns.SUBJECT_ID, DataTypes.StringType, false)
            .add(EvaluateOutputs.MODEL, DataTypes.StringType, false)
            .add(EvaluateOutputs.RISK, DataTypes.DoubleType, false)
            .add(Columns.DURATION, DataTypes.DoubleType, false)
            .add(EvaluateOutputs.EVENT, DataTypes.IntegerType, false)
            .add(EvaluateOutputs.PATTERN, DataTypes.StringType, false);
    int[] events = new int[event.length];
    for (int i = 0; i < event.length; i++) {
      events[i] = event[i] ? 1 : 0;
    }
    Compact c =
        new Compact(
            test, patterns, risk.keySet(), new ArrayList<>(risk.values()), 1, events, time, true);
    write(spark, path, c, schema);
  }

  private static void write(SparkSession spark, String path, Compact c, StructType schema) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<int[]> slices = new ArrayList<>();
    for (int m = 0; m < c.models.length; m++) {
      for (int from = 0; from < c.subjectIds.length; from += ROWS_PER_SLICE) {
        slices.add(new int[] {m, from, Math.min(c.subjectIds.length, from + ROWS_PER_SLICE)});
      }
    }
    Broadcast<Compact> shipped = jsc.broadcast(c);
    try {
      JavaRDD<Row> rows =
          jsc.parallelize(slices, Math.max(1, slices.size())).flatMap(new SliceRows(shipped));
      spark.createDataFrame(rows, schema).coalesce(1).write().parquet(path);
    } finally {
      shipped.destroy(false);
    }
  }

  /**
   * The columns of the table as arrays: per model its values, {@code width} per subject. A plain
   * class with a no-argument constructor: Kryo cannot build records.
   */
  static final class Compact implements Serializable {
    private static final long serialVersionUID = 1L;
    private String[] subjectIds;
    private String[] patterns;
    private String[] models;
    private double[][] values;
    private int width;
    private int[] outcome;
    private double[] durations;
    private boolean survival;

    /** For Kryo. */
    private Compact() {}

    Compact(
        TestSplit test,
        String[] patterns,
        java.util.Collection<String> models,
        List<double[]> values,
        int width,
        int[] outcome,
        double[] durations,
        boolean survival) {
      int n = test.size();
      for (double[] v : values) {
        if (v.length != n * width) {
          throw new IllegalArgumentException(
              "Cannot write predictions: " + v.length / width + " scores for " + n + " subjects");
        }
      }
      this.subjectIds = test.subjectIds().toArray(new String[0]);
      this.patterns = patterns;
      this.models = models.toArray(new String[0]);
      this.values = values.toArray(new double[0][]);
      this.width = width;
      this.outcome = outcome;
      this.durations = durations;
      this.survival = survival;
    }

    Row row(int m, int i) {
      double[] v = values[m];
      if (survival) {
        return RowFactory.create(
            subjectIds[i], models[m], v[i], durations[i], outcome[i], patterns[i]);
      }
      Object probability =
          width == 2
              ? (Object) v[i * 2 + 1]
              // A Scala sequence: rows of an RDD go through Spark's row encoder, which takes no
              // java.util.List for an array column.
              : scala.collection.JavaConverters.asScalaBuffer(
                  Arrays.stream(Arrays.copyOfRange(v, i * width, (i + 1) * width))
                      .boxed()
                      .toList());
      return RowFactory.create(subjectIds[i], models[m], probability, outcome[i], patterns[i]);
    }
  }

  /** The rows of one slice {model, from, to}, made one at a time as the writer asks for them. */
  private static final class SliceRows implements FlatMapFunction<int[], Row> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<Compact> columns;

    SliceRows(Broadcast<Compact> columns) {
      this.columns = columns;
    }

    @Override
    public Iterator<Row> call(int[] slice) {
      Compact c = columns.value();
      return new Iterator<>() {
        private int i = slice[1];

        @Override
        public boolean hasNext() {
          return i < slice[2];
        }

        @Override
        public Row next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          return c.row(slice[0], i++);
        }
      };
    }
  }
}
