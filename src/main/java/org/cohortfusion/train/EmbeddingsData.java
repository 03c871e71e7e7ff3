package org.cohortfusion.train;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.cohortfusion.fusion.spec.EmbeddingsSpec;

/**
 * Reads the embeddings table (data-schemas/embeddings.json) into {@link Batch}es with bulk copies:
 * the selected columns go through {@code queryExecution().toRdd()} and {@code
 * InternalRow.getArray(i).toFloatArray()} (no boxed {@code Row.getList}); rows are copied before
 * the iterator advances (Spark reuses them). A null array or a false / null {@code has_<m>} gives
 * zeros and presence 0. Unlabeled rows (label null) are skipped.
 */
public final class EmbeddingsData {
  private EmbeddingsData() {}

  /** The Parquet table under an embeddings directory. */
  public static Dataset<Row> table(SparkSession spark, String embeddingsDir) {
    return spark.read().parquet(embeddingsDir + "/table");
  }

  /**
   * Labeled rows of one split as batches of at most {@code batchSize}, all modalities of {@code
   * spec} in its order.
   */
  public static JavaRDD<Batch> batches(
      Dataset<Row> table, EmbeddingsSpec spec, String split, int batchSize) {
    return batches(table, spec, split, null, batchSize);
  }

  /**
   * As {@link #batches(Dataset, EmbeddingsSpec, String, int)}, keeping only the rows where modality
   * {@code requirePresent} is present (null: all rows), so that a unimodal model's batches are
   * full.
   */
  public static JavaRDD<Batch> batches(
      Dataset<Row> table, EmbeddingsSpec spec, String split, String requirePresent, int batchSize) {
    List<Column> cols = new ArrayList<>();
    DiscreteTimeHazard hazard =
        spec.survival()
            ? new DiscreteTimeHazard(
                spec.survivalIntervals().stream().mapToDouble(Double::doubleValue).toArray())
            : null;
    // A survival outcome trains on the code of (duration, event), carried where a class label would
    // be.
    cols.add(hazard == null ? col("label") : hazard.codeColumn().as("label"));
    for (String m : spec.modalityNames()) {
      cols.add(col("has_" + m));
    }
    for (String m : spec.modalityNames()) {
      cols.add(col(m));
    }
    // Minibatches must mix labels: the table may come sorted by label (stratified splits), and
    // label-sorted minibatches make SGD chase the last class seen. A hash of the id is a
    // deterministic shuffle.
    Column rows = col("split").equalTo(split).and(col("label").isNotNull());
    if (hazard != null) {
      rows = rows.and(col("duration").isNotNull());
    }
    if (requirePresent != null) {
      rows = rows.and(col("has_" + requirePresent).and(col(requirePresent).isNotNull()));
    }
    Dataset<Row> selected =
        table
            .where(rows)
            .orderBy(org.apache.spark.sql.functions.xxhash64(col("subject_id")))
            .select(cols.toArray(new Column[0]));
    int[] dims = spec.modalities().stream().mapToInt(EmbeddingsSpec.Modality::dim).toArray();
    return selected
        .queryExecution()
        .toRdd()
        .toJavaRDD()
        .mapPartitions(
            new ToBatches(
                dims,
                spec.modalityNames(),
                hazard == null ? spec.numClasses() : hazard.codes(),
                hazard != null,
                batchSize));
  }

  /** The batches of one split on the driver (single-process mode and evaluation). */
  public static List<Batch> collect(
      Dataset<Row> table, EmbeddingsSpec spec, String split, int batchSize) {
    return new ArrayList<>(batches(table, spec, split, batchSize).collect());
  }

  /** Converts a partition of internal rows (label, has_m..., m...) to batches. */
  static final class ToBatches implements FlatMapFunction<Iterator<InternalRow>, Batch> {
    private static final long serialVersionUID = 1L;
    private final int[] dims;
    private final List<String> names;
    private final int numClasses;
    private final boolean survival;
    private final int batchSize;

    /**
     * @param survival the label column holds survival codes, {@code numClasses} of them
     */
    ToBatches(int[] dims, List<String> names, int numClasses, boolean survival, int batchSize) {
      this.dims = dims;
      this.names = List.copyOf(names);
      this.numClasses = numClasses;
      this.survival = survival;
      this.batchSize = batchSize;
    }

    /** Batches one at a time: an executor holds one batch of rows, never the whole partition. */
    @Override
    public Iterator<Batch> call(Iterator<InternalRow> rows) {
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return rows.hasNext();
        }

        @Override
        public Batch next() {
          if (!rows.hasNext()) {
            throw new java.util.NoSuchElementException();
          }
          return nextBatch(rows);
        }
      };
    }

    private Batch nextBatch(Iterator<InternalRow> rows) {
      int m = dims.length;
      List<float[]> feats = new ArrayList<>();
      List<float[]> pres = new ArrayList<>();
      List<Integer> labels = new ArrayList<>();
      while (rows.hasNext() && labels.size() < batchSize) {
        InternalRow r = rows.next();
        int label = r.getInt(0);
        if (label < 0 || label >= numClasses) {
          throw new IllegalArgumentException(
              "Cannot read embeddings: label "
                  + label
                  + " is not a class index in [0, "
                  + numClasses
                  + ")");
        }
        float[] p = new float[m];
        float[] f = new float[java.util.Arrays.stream(dims).sum()];
        int offset = 0;
        for (int i = 0; i < m; i++) {
          boolean has = !r.isNullAt(1 + i) && r.getBoolean(1 + i);
          int ai = 1 + m + i;
          if (has && !r.isNullAt(ai)) {
            float[] v = r.getArray(ai).toFloatArray(); // a copy: safe after next()
            if (v.length != dims[i]) {
              throw new IllegalArgumentException(
                  "Cannot read embeddings: modality '"
                      + names.get(i)
                      + "' has length "
                      + v.length
                      + ", embeddings.json declares "
                      + dims[i]);
            }
            System.arraycopy(v, 0, f, offset, dims[i]);
            p[i] = 1f;
          }
          offset += dims[i];
        }
        feats.add(f);
        pres.add(p);
        labels.add(label);
      }
      int n = labels.size();
      float[][] blocks = new float[m][];
      for (int i = 0; i < m; i++) {
        blocks[i] = new float[n * dims[i]];
      }
      float[] presence = new float[n * m];
      int[] y = new int[n];
      for (int k = 0; k < n; k++) {
        float[] f = feats.get(k);
        int offset = 0;
        for (int i = 0; i < m; i++) {
          System.arraycopy(f, offset, blocks[i], k * dims[i], dims[i]);
          offset += dims[i];
        }
        System.arraycopy(pres.get(k), 0, presence, k * m, m);
        y[k] = labels.get(k);
      }
      return new Batch(dims.clone(), blocks, presence, y, numClasses, null, null, survival);
    }
  }
}
