package org.cohortfusion.evaluate;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.train.EmbeddingsData;

/**
 * What the metrics need of the labeled subjects of one split of the embeddings table
 * (data-schemas/embeddings.json), on the driver, in a stable order (by subject_id): labels,
 * presence and, for generated cohorts, the true probability. No embedding value: the models that
 * read embeddings are scored on the executors ({@link ExecutorScorer}), so nothing the size of the
 * embeddings reaches the driver.
 *
 * @param subjectIds subject identifiers, row order of every array here
 * @param labels class index per subject
 * @param trueProbability true positive-class probability per subject, or null when the table has no
 *     such column
 * @param presence {@code n * m} floats, row-major, 1 = the modality is present ({@code has_<m>}
 *     true and its embedding not null, as {@link EmbeddingsData} reads it)
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
    float[] presence,
    List<String> modalities,
    double[] observableProbability,
    double[] durations) {
  /** Pattern name of a subject without any modality. */
  public static final String NO_MODALITY = "none";

  public TestSplit {
    subjectIds = List.copyOf(subjectIds);
    modalities = List.copyOf(modalities);
    if (presence.length != subjectIds.size() * modalities.size()
        || labels.length != subjectIds.size()) {
      throw new IllegalArgumentException(
          "Cannot build a test split: "
              + subjectIds.size()
              + " subjects, "
              + labels.length
              + " labels, "
              + presence.length
              + " presence cells for "
              + modalities.size()
              + " modalities");
    }
  }

  /** A split without follow-up times or observable-optimal probability (class labels). */
  public TestSplit(
      List<String> subjectIds,
      int[] labels,
      double[] trueProbability,
      float[] presence,
      List<String> modalities) {
    this(subjectIds, labels, trueProbability, presence, modalities, null, null);
  }

  /**
   * Reads the labeled rows of {@code split} ({@link EmbeddingsData#labeled}): a select of the small
   * columns only, presence computed by Spark.
   */
  public static TestSplit read(Dataset<Row> table, EmbeddingsSpec spec, String split) {
    List<String> names = spec.modalityNames();
    List<String> columns = List.of(table.columns());
    List<Column> cols = new ArrayList<>(List.of(col(Columns.SUBJECT_ID), col(Columns.LABEL)));
    for (String c : List.of("true_probability", "observable_probability", Columns.DURATION)) {
      cols.add(columns.contains(c) ? col(c) : lit(null).cast("double"));
    }
    for (String m : names) {
      cols.add(coalesce(col(Columns.presence(m)).and(col(m).isNotNull()), lit(false)));
    }
    List<Row> rows =
        EmbeddingsData.labeled(table, split)
            .select(cols.toArray(new Column[0]))
            .orderBy(Columns.SUBJECT_ID)
            .collectAsList();
    int n = rows.size();
    int m = names.size();
    List<String> ids = new ArrayList<>(n);
    int[] labels = new int[n];
    double[] truth = columns.contains("true_probability") ? new double[n] : null;
    double[] observable = columns.contains("observable_probability") ? new double[n] : null;
    double[] durations = columns.contains(Columns.DURATION) ? new double[n] : null;
    float[] presence = new float[n * m];
    for (int r = 0; r < n; r++) {
      Row row = rows.get(r);
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
      labels[r] = label;
      if (truth != null) {
        truth[r] = row.isNullAt(2) ? Double.NaN : row.getDouble(2);
      }
      if (observable != null) {
        observable[r] = row.isNullAt(3) ? Double.NaN : row.getDouble(3);
      }
      if (durations != null) {
        durations[r] = row.isNullAt(4) ? Double.NaN : row.getDouble(4);
      }
      for (int i = 0; i < m; i++) {
        presence[r * m + i] = row.getBoolean(5 + i) ? 1f : 0f;
      }
    }
    if (truth != null && java.util.Arrays.stream(truth).anyMatch(Double::isNaN)) {
      truth = null; // a partial truth column cannot give a Bayes-optimal AUROC
    }
    if (observable != null && java.util.Arrays.stream(observable).anyMatch(Double::isNaN)) {
      observable = null;
    }
    return new TestSplit(ids, labels, truth, presence, names, observable, durations);
  }

  public int size() {
    return labels.length;
  }

  /**
   * Missingness pattern of every subject: the modalities present joined by '+', in the embeddings'
   * order. Subjects of one pattern share its name's instance: there are few patterns and many
   * subjects.
   */
  public String[] patterns() {
    String[] out = new String[size()];
    java.util.Map<String, String> names = new java.util.HashMap<>();
    int m = modalities.size();
    for (int r = 0; r < out.length; r++) {
      List<String> present = new ArrayList<>();
      for (int i = 0; i < m; i++) {
        if (presence[r * m + i] != 0f) {
          present.add(modalities.get(i));
        }
      }
      String name = present.isEmpty() ? NO_MODALITY : String.join("+", present);
      out[r] = names.computeIfAbsent(name, n -> n);
    }
    return out;
  }
}
