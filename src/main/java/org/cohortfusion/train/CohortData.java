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
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.features.batch.FeatureBatch;
import org.cohortfusion.features.batch.FeatureBatches;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.features.batch.Payloads;
import org.cohortfusion.spark.internal.FieldRow;
import org.cohortfusion.spark.internal.FieldRows;
import org.cohortfusion.stage.Columns;

/**
 * Reads the aligned cohort into {@link Batch}es of preprocessed modality features for end-to-end
 * models: per modality the features {@link FeatureBatches} makes with the preprocessing pretrain
 * fitted on the train split (never refitted here), of the modality's own rank, with the time-series
 * step mask; an absent modality ({@code has_<m>} false or a null payload) is zeros and presence 0
 * (a time series' mask then holds its last step only: {@link Batch#absentMask}). Unlabeled rows are
 * skipped. The same Batch as the embeddings training, so the same shards, codecs and loops carry
 * it.
 */
public final class CohortData {
  private CohortData() {}

  /**
   * Labeled rows of one split as batches of at most {@code batchSize}, in a deterministic shuffle
   * (a hash of the subject id), or by subject id when {@code bySubject}; only rows where {@code
   * requirePresent} is present (null: all). With a {@code hazard} model the labels are its codes of
   * (duration, event), as in {@link EmbeddingsData#batches}, and rows without a duration are
   * skipped; without one, the class labels (a survival outcome's event indicator).
   */
  public static JavaRDD<Batch> batches(
      Dataset<Row> aligned,
      List<ModalityPreprocessing> preps,
      int numClasses,
      DiscreteTimeHazard hazard,
      String split,
      String requirePresent,
      int batchSize,
      boolean bySubject) {
    return FieldRows.of(rows(aligned, preps, hazard, split, requirePresent, bySubject))
        .mapPartitions(
            new ToBatches(
                new ArrayList<>(preps),
                hazard == null ? numClasses : hazard.codes(),
                hazard != null,
                batchSize));
  }

  /**
   * The batches of one split on the driver, by subject id (evaluation) or shuffled (validation,
   * local training).
   */
  public static List<Batch> collect(
      Dataset<Row> aligned,
      List<ModalityPreprocessing> preps,
      int numClasses,
      DiscreteTimeHazard hazard,
      String split,
      int batchSize,
      boolean bySubject) {
    return new ArrayList<>(
        batches(aligned, preps, numClasses, hazard, split, null, batchSize, bySubject).collect());
  }

  /**
   * Subject ids of the labeled rows of a split, by subject id: the row order of {@code collect(...,
   * true)}.
   */
  public static List<String> subjectIds(Dataset<Row> aligned, String split) {
    return aligned
        .where(col(Columns.SPLIT).equalTo(split).and(col(Columns.LABEL).isNotNull()))
        .orderBy(Columns.SUBJECT_ID)
        .select(Columns.SUBJECT_ID)
        .as(org.apache.spark.sql.Encoders.STRING())
        .collectAsList();
  }

  private static Dataset<Row> rows(
      Dataset<Row> aligned,
      List<ModalityPreprocessing> preps,
      DiscreteTimeHazard hazard,
      String split,
      String requirePresent,
      boolean bySubject) {
    List<Column> cols = new ArrayList<>();
    cols.add(hazard == null ? col(Columns.LABEL) : hazard.codeColumn().as(Columns.LABEL));
    for (ModalityPreprocessing p : preps) {
      cols.add(col(Columns.presence(p.modality())));
    }
    for (ModalityPreprocessing p : preps) {
      cols.add(Payloads.column(p));
    }
    Column where = col(Columns.SPLIT).equalTo(split).and(col(Columns.LABEL).isNotNull());
    if (hazard != null) {
      where = where.and(col(Columns.DURATION).isNotNull());
    }
    if (requirePresent != null) {
      where = where.and(col(Columns.presence(requirePresent))).and(col(requirePresent).isNotNull());
    }
    Dataset<Row> selected = aligned.where(where);
    // Label-sorted minibatches make SGD chase the last class seen: a hash of the id is a
    // deterministic shuffle.
    selected =
        bySubject
            ? selected.orderBy(Columns.SUBJECT_ID)
            : selected.orderBy(org.apache.spark.sql.functions.xxhash64(col(Columns.SUBJECT_ID)));
    return selected.select(cols.toArray(new Column[0]));
  }

  /**
   * Converts a partition of internal rows (label, has_m..., payload_m...) to batches, one batch of
   * rows at a time.
   */
  static final class ToBatches implements FlatMapFunction<Iterator<FieldRow>, Batch> {
    private static final long serialVersionUID = 1L;
    private final ArrayList<ModalityPreprocessing> preps;
    private final int numClasses;
    private final boolean survival;
    private final int batchSize;

    /**
     * @param survival the label column holds {@code numClasses} survival codes
     */
    ToBatches(
        ArrayList<ModalityPreprocessing> preps, int numClasses, boolean survival, int batchSize) {
      this.preps = preps;
      this.numClasses = numClasses;
      this.survival = survival;
      this.batchSize = batchSize;
    }

    @Override
    public Iterator<Batch> call(Iterator<FieldRow> rows) {
      int m = preps.size();
      List<FeatureBatches> converters = new ArrayList<>();
      for (int i = 0; i < m; i++) {
        converters.add(new FeatureBatches(preps.get(i), 1 + m + i));
      }
      Iterator<List<FieldRow>> batches = FieldRows.batches(rows, batchSize);
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return batches.hasNext();
        }

        @Override
        public Batch next() {
          return convert(batches.next(), converters);
        }
      };
    }

    private Batch convert(List<FieldRow> rows, List<FeatureBatches> converters) {
      int m = preps.size();
      int n = rows.size();
      int[] labels = new int[n];
      for (int r = 0; r < n; r++) {
        labels[r] = rows.get(r).getInt(0);
        if (labels[r] < 0 || labels[r] >= numClasses) {
          throw new IllegalArgumentException(
              "Cannot read cohort: label "
                  + labels[r]
                  + " is not a "
                  + (survival ? "survival code" : "class index")
                  + " in [0, "
                  + numClasses
                  + ")");
        }
      }
      float[] presence = new float[n * m];
      int[] dims = new int[m];
      long[][] shapes = new long[m][];
      float[][] features = new float[m][];
      float[][] masks = new float[m][];
      boolean anyMask = false;
      for (int i = 0; i < m; i++) {
        List<FieldRow> present = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        for (int r = 0; r < n; r++) {
          FieldRow row = rows.get(r);
          if (!row.isNullAt(1 + i) && row.getBoolean(1 + i) && !row.isNullAt(1 + m + i)) {
            present.add(row);
            at.add(r);
            presence[r * m + i] = 1f;
          }
        }
        ModalityPreprocessing p = preps.get(i);
        shapes[i] = exampleShape(p);
        dims[i] = (int) java.util.Arrays.stream(shapes[i]).reduce(1, Math::multiplyExact);
        features[i] = new float[n * dims[i]];
        int steps = p.kind() == org.cohortfusion.stage.ModalityKind.TIMESERIES ? p.steps() : 0;
        if (steps > 0) {
          masks[i] = new float[n * steps];
          anyMask = true;
          for (int r = 0; r < n; r++) {
            if (presence[r * m + i] == 0f) {
              Batch.absentMask(masks[i], r, steps);
            }
          }
        }
        if (present.isEmpty()) {
          continue;
        }
        FeatureBatch fb = converters.get(i).convert(present);
        float[] f =
            fb.features()
                .castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)
                .dup('c')
                .data()
                .asFloat();
        float[] k =
            fb.featureMask() == null
                ? null
                : fb.featureMask()
                    .castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)
                    .dup('c')
                    .data()
                    .asFloat();
        for (int j = 0; j < at.size(); j++) {
          System.arraycopy(f, j * dims[i], features[i], at.get(j) * dims[i], dims[i]);
          if (k != null && masks[i] != null) {
            System.arraycopy(k, j * steps, masks[i], at.get(j) * steps, steps);
          }
        }
      }
      return new Batch(
          dims, features, presence, labels, numClasses, shapes, anyMask ? masks : null, survival);
    }
  }

  /**
   * The shape of one example of a modality's preprocessed features (what {@link FeatureBatches}
   * makes).
   */
  public static long[] exampleShape(ModalityPreprocessing p) {
    return switch (p.kind()) {
      case TABULAR, VECTOR, TEXT -> new long[] {p.inputSize()};
      case IMAGE -> p.shape().stream().mapToLong(Integer::longValue).toArray();
      case TIMESERIES -> new long[] {2L * p.channels(), p.steps()};
    };
  }
}
