package org.cohortfusion.evaluate;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.fusion.spec.EmbeddingsSpec;
import org.cohortfusion.train.Batch;

/**
 * The labeled subjects of one split of the embeddings table (data-schemas/embeddings.json) on the
 * driver, in a stable order (by subject_id), with their presence patterns and, for generated
 * cohorts, the true probability.
 *
 * @param subjectIds subject identifiers, row order of every array here
 * @param labels class index per subject
 * @param trueProbability true positive-class probability per subject, or null when the table has no
 *     such column
 * @param batches the same rows as {@link Batch}es of every modality in the embeddings' order,
 *     consecutive
 * @param modalities modality names in the embeddings' order
 * @param observableProbability for generated cohorts, P(label | the subject's modality rows and
 *     presence pattern) under the generator's model (subjects.observable_probability), or null when
 *     the table has no such column
 * @param durations for a survival outcome, the follow-up from the index time to the event or
 *     censoring (the table's duration column; the label is the event), else null
 */
public record TestSplit(
    List<String> subjectIds,
    int[] labels,
    double[] trueProbability,
    List<Batch> batches,
    List<String> modalities,
    double[] observableProbability,
    double[] durations) {
  /** Pattern name of a subject without any modality. */
  public static final String NO_MODALITY = "none";

  public TestSplit {
    subjectIds = List.copyOf(subjectIds);
    batches = List.copyOf(batches);
    modalities = List.copyOf(modalities);
  }

  /** A split without follow-up times (class labels). */
  public TestSplit(
      List<String> subjectIds,
      int[] labels,
      double[] trueProbability,
      List<Batch> batches,
      List<String> modalities,
      double[] observableProbability) {
    this(subjectIds, labels, trueProbability, batches, modalities, observableProbability, null);
  }

  /** A split without an observable-optimal probability. */
  public TestSplit(
      List<String> subjectIds,
      int[] labels,
      double[] trueProbability,
      List<Batch> batches,
      List<String> modalities) {
    this(subjectIds, labels, trueProbability, batches, modalities, null);
  }

  /** Reads the labeled rows of {@code split}. */
  public static TestSplit read(
      Dataset<Row> table, EmbeddingsSpec spec, String split, int batchSize) {
    List<String> names = spec.modalityNames();
    boolean hasTruth = List.of(table.columns()).contains("true_probability");
    List<Column> cols = new ArrayList<>(List.of(col("subject_id"), col("label")));
    cols.add(
        hasTruth
            ? col("true_probability")
            : org.apache.spark.sql.functions.lit(null).cast("double"));
    boolean hasObservable = List.of(table.columns()).contains("observable_probability");
    for (String m : names) {
      cols.add(col("has_" + m));
    }
    for (String m : names) {
      cols.add(col(m));
    }
    // Last, so the positions of the columns above do not move.
    cols.add(
        hasObservable
            ? col("observable_probability")
            : org.apache.spark.sql.functions.lit(null).cast("double"));
    boolean hasDuration = List.of(table.columns()).contains("duration");
    cols.add(
        hasDuration ? col("duration") : org.apache.spark.sql.functions.lit(null).cast("double"));
    List<Row> rows =
        table
            .where(col("split").equalTo(split).and(col("label").isNotNull()))
            .select(cols.toArray(new Column[0]))
            .orderBy("subject_id")
            .collectAsList();
    int n = rows.size();
    int m = names.size();
    int[] dims = spec.modalities().stream().mapToInt(EmbeddingsSpec.Modality::dim).toArray();
    List<String> ids = new ArrayList<>(n);
    int[] labels = new int[n];
    double[] truth = hasTruth ? new double[n] : null;
    double[] observable = hasObservable ? new double[n] : null;
    double[] durations = hasDuration ? new double[n] : null;
    int observableAt = 3 + 2 * m;
    List<Batch> batches = new ArrayList<>();
    for (int start = 0; start < n; start += batchSize) {
      int size = Math.min(batchSize, n - start);
      float[][] features = new float[m][];
      for (int i = 0; i < m; i++) {
        features[i] = new float[size * dims[i]];
      }
      float[] presence = new float[size * m];
      int[] y = new int[size];
      for (int r = 0; r < size; r++) {
        Row row = rows.get(start + r);
        ids.add(row.getString(0));
        int label = row.getInt(1);
        if (label < 0 || label >= spec.numClasses()) {
          throw new IllegalArgumentException(
              "Cannot evaluate: label "
                  + label
                  + " is not a class index in [0, "
                  + spec.numClasses()
                  + ")");
        }
        labels[start + r] = label;
        y[r] = label;
        if (truth != null) {
          truth[start + r] = row.isNullAt(2) ? Double.NaN : row.getDouble(2);
        }
        if (observable != null) {
          observable[start + r] =
              row.isNullAt(observableAt) ? Double.NaN : row.getDouble(observableAt);
        }
        if (durations != null) {
          durations[start + r] =
              row.isNullAt(observableAt + 1) ? Double.NaN : row.getDouble(observableAt + 1);
        }
        for (int i = 0; i < m; i++) {
          boolean has = !row.isNullAt(3 + i) && row.getBoolean(3 + i) && !row.isNullAt(3 + m + i);
          if (!has) {
            continue;
          }
          List<Float> v = row.getList(3 + m + i);
          if (v.size() != dims[i]) {
            throw new IllegalArgumentException(
                "Cannot evaluate: modality '"
                    + names.get(i)
                    + "' has length "
                    + v.size()
                    + ", embeddings.json declares "
                    + dims[i]);
          }
          for (int d = 0; d < dims[i]; d++) {
            Float x = v.get(d);
            features[i][r * dims[i] + d] = x == null ? 0f : x;
          }
          presence[r * m + i] = 1f;
        }
      }
      batches.add(new Batch(dims.clone(), features, presence, y, spec.numClasses()));
    }
    if (truth != null && java.util.Arrays.stream(truth).anyMatch(Double::isNaN)) {
      truth = null; // a partial truth column cannot give a Bayes-optimal AUROC
    }
    if (observable != null && java.util.Arrays.stream(observable).anyMatch(Double::isNaN)) {
      observable = null;
    }
    return new TestSplit(ids, labels, truth, batches, names, observable, durations);
  }

  public int size() {
    return labels.length;
  }

  /**
   * Missingness pattern of every subject: the modalities present joined by '+', in the embeddings'
   * order.
   */
  public String[] patterns() {
    return patterns(batches, modalities);
  }

  /** Missingness patterns of the rows of consecutive batches. */
  public static String[] patterns(List<Batch> batches, List<String> modalities) {
    int n = batches.stream().mapToInt(Batch::size).sum();
    String[] out = new String[n];
    int m = modalities.size();
    int row = 0;
    for (Batch b : batches) {
      for (int r = 0; r < b.size(); r++) {
        List<String> present = new ArrayList<>();
        for (int i = 0; i < m; i++) {
          if (b.presence()[r * m + i] != 0f) {
            present.add(modalities.get(i));
          }
        }
        out[row++] = present.isEmpty() ? NO_MODALITY : String.join("+", present);
      }
    }
    return out;
  }

  /** The same subjects with other batches (e.g. modalities removed at test time). */
  public TestSplit withBatches(List<Batch> replaced) {
    return new TestSplit(
        subjectIds,
        labels,
        trueProbability,
        replaced,
        modalities,
        observableProbability,
        durations);
  }
}
