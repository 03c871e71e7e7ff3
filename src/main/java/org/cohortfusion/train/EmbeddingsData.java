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
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.spark.internal.FieldRow;
import org.cohortfusion.spark.internal.FieldRows;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;

/**
 * Reads the embeddings table (data-schemas/embeddings.json) into {@link Batch}es with bulk copies:
 * the selected columns are read as {@link FieldRow}s (Spark's internal rows) with {@link
 * FieldRow#getFloats} (no boxed {@code Row.getList}); rows are copied before the iterator advances
 * (Spark reuses them). A null array or a false / null {@code has_<m>} gives zeros and presence 0.
 * Unlabeled rows (label null) are skipped.
 */
public final class EmbeddingsData {
  private EmbeddingsData() {}

  /** The Parquet table under an embeddings directory. */
  public static Dataset<Row> table(SparkSession spark, String embeddingsDir) {
    return spark.read().parquet(embeddingsDir + "/" + EmbeddingsSpec.TABLE);
  }

  /** The labeled rows (label not null) of one split: the rows every reader here starts from. */
  public static Dataset<Row> labeled(Dataset<Row> table, String split) {
    return table.where(col(Columns.SPLIT).equalTo(split).and(col(Columns.LABEL).isNotNull()));
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
    DiscreteTimeHazard hazard = hazardOf(spec);
    // A survival outcome trains on the code of (duration, event), carried where a class label would
    // be.
    cols.add(hazard == null ? col(Columns.LABEL) : hazard.codeColumn().as(Columns.LABEL));
    for (String m : spec.modalityNames()) {
      cols.add(col(Columns.presence(m)));
    }
    for (String m : spec.modalityNames()) {
      cols.add(col(m));
    }
    // Minibatches must mix labels: the table may come sorted by label (stratified splits), and
    // label-sorted minibatches make SGD chase the last class seen. A hash of the id is a
    // deterministic shuffle.
    Column rows = org.apache.spark.sql.functions.lit(true);
    if (hazard != null) {
      rows = rows.and(col(Columns.DURATION).isNotNull());
    }
    if (requirePresent != null) {
      rows = rows.and(col(Columns.presence(requirePresent)).and(col(requirePresent).isNotNull()));
    }
    Dataset<Row> selected =
        labeled(table, split)
            .where(rows)
            .orderBy(org.apache.spark.sql.functions.xxhash64(col(Columns.SUBJECT_ID)))
            .select(cols.toArray(new Column[0]));
    int[] dims = spec.modalities().stream().mapToInt(EmbeddingsSpec.Modality::dim).toArray();
    return FieldRows.of(selected)
        .mapPartitions(
            new ToBatches(
                dims,
                spec.modalityNames(),
                hazard == null ? spec.numClasses() : hazard.codes(),
                hazard != null,
                batchSize));
  }

  /**
   * The labeled rows of one split ({@link #labeled}) sorted by subject_id, as batches of at most
   * {@code batchSize} that carry each row's subject id (evaluation: removals keyed by subject,
   * results in the driver's order). The labels are the table's class labels (a survival outcome's
   * event), unchecked against a hazard code. The batches stream one at a time through the
   * partition: consume them in the same stage (they are not meant to be cached or shuffled).
   */
  public static JavaRDD<Identified> bySubject(
      Dataset<Row> table, EmbeddingsSpec spec, String split, int batchSize) {
    List<Column> cols = new ArrayList<>();
    cols.add(col(Columns.LABEL));
    for (String m : spec.modalityNames()) {
      cols.add(col(Columns.presence(m)));
    }
    for (String m : spec.modalityNames()) {
      cols.add(col(m));
    }
    cols.add(col(Columns.SUBJECT_ID));
    int[] dims = spec.modalities().stream().mapToInt(EmbeddingsSpec.Modality::dim).toArray();
    ToBatches toBatches =
        new ToBatches(dims, spec.modalityNames(), spec.numClasses(), false, batchSize, true);
    return FieldRows.of(
            labeled(table, split).orderBy(Columns.SUBJECT_ID).select(cols.toArray(new Column[0])))
        .mapPartitions(toBatches::identified);
  }

  /** A batch and the subject id of each of its rows. */
  public static final class Identified {
    private final String[] subjectIds;
    private final Batch batch;

    Identified(String[] subjectIds, Batch batch) {
      this.subjectIds = subjectIds;
      this.batch = batch;
    }

    /** Subject id per row of {@link #batch}. */
    public String[] subjectIds() {
      return subjectIds.clone();
    }

    public Batch batch() {
      return batch;
    }
  }

  /** The batches of one split on the driver (single-process mode, validation on the driver). */
  public static List<Batch> collect(
      Dataset<Row> table, EmbeddingsSpec spec, String split, int batchSize) {
    return new ArrayList<>(batches(table, spec, split, batchSize).collect());
  }

  /**
   * Converts a partition of internal rows (label, has_m..., m..., and with ids the subject_id) to
   * batches.
   */
  static final class ToBatches implements FlatMapFunction<Iterator<FieldRow>, Batch> {
    private static final long serialVersionUID = 1L;
    private final int[] dims;
    private final List<String> names;
    private final int numClasses;
    private final boolean survival;
    private final int batchSize;
    private final boolean withIds;

    /**
     * @param survival the label column holds survival codes, {@code numClasses} of them
     * @param withIds the last column is the subject_id (read by {@link #identified})
     */
    ToBatches(
        int[] dims,
        List<String> names,
        int numClasses,
        boolean survival,
        int batchSize,
        boolean withIds) {
      this.dims = dims;
      this.names = List.copyOf(names);
      this.numClasses = numClasses;
      this.survival = survival;
      this.batchSize = batchSize;
      this.withIds = withIds;
    }

    /** Rows without subject_id. */
    ToBatches(int[] dims, List<String> names, int numClasses, boolean survival, int batchSize) {
      this(dims, names, numClasses, survival, batchSize, false);
    }

    /** As {@link #call}, with the subject id of every row. */
    Iterator<Identified> identified(Iterator<FieldRow> rows) {
      if (!withIds) {
        throw new IllegalStateException("Cannot identify rows: no subject_id column was selected");
      }
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return rows.hasNext();
        }

        @Override
        public Identified next() {
          if (!rows.hasNext()) {
            throw new java.util.NoSuchElementException();
          }
          List<String> ids = new ArrayList<>();
          Batch b = nextBatch(rows, ids);
          return new Identified(ids.toArray(new String[0]), b);
        }
      };
    }

    /** Batches one at a time: an executor holds one batch of rows, never the whole partition. */
    @Override
    public Iterator<Batch> call(Iterator<FieldRow> rows) {
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
          return nextBatch(rows, null);
        }
      };
    }

    /** The next batch; with {@code ids}, each row's subject id is added to it. */
    private Batch nextBatch(Iterator<FieldRow> rows, List<String> ids) {
      int m = dims.length;
      List<float[]> feats = new ArrayList<>();
      List<float[]> pres = new ArrayList<>();
      List<Integer> labels = new ArrayList<>();
      while (rows.hasNext() && labels.size() < batchSize) {
        FieldRow r = rows.next();
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
            float[] v = r.getFloats(ai); // a copy: safe after next()
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
        if (ids != null) {
          ids.add(r.getString(1 + 2 * m));
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

  /**
   * The hazard model of a survival outcome's descriptor, or null when {@code spec} holds class
   * labels.
   */
  static DiscreteTimeHazard hazardOf(EmbeddingsSpec spec) {
    return spec.survival()
        ? new DiscreteTimeHazard(
            spec.survivalIntervals().stream().mapToDouble(Double::doubleValue).toArray())
        : null;
  }
}
