package org.cohortfusion.bench;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.cohortfusion.evaluate.PairedAuroc;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EvaluateOutputs;

/**
 * Two evaluated runs on the same cohort and test split (two configurations, e.g. two averaging
 * modes or two seeds) compared model by model on the test subjects both scored: each run's test
 * AUROC and their paired difference by DeLong's method ({@link PairedAuroc}), so that the
 * difference is judged on the same subjects rather than from two unpaired intervals. Binary
 * outcomes only; subjects are matched by id, never by row order.
 */
public final class RunsComparison {
  private static final String MODEL = EvaluateOutputs.MODEL;
  private static final String PROBABILITY = EvaluateOutputs.PROBABILITY;

  private RunsComparison() {}

  /**
   * One model's comparison.
   *
   * @param paired run B's scores as A and run A's as B: {@code difference} is B minus A
   * @param onlyInOneRun labeled test subjects one run scored and the other did not
   */
  public record ModelComparison(String model, PairedAuroc paired, long onlyInOneRun) {}

  /**
   * Compares the models both prediction tables hold (or only {@code models}, when not empty), in
   * the order of the first table's model names.
   *
   * @param predictionsA evaluate's {@code predictions} table of run A
   * @param predictionsB that of run B
   */
  public static List<ModelComparison> compare(
      SparkSession spark, String predictionsA, String predictionsB, List<String> models) {
    Dataset<Row> a = read(spark, predictionsA);
    Dataset<Row> b = read(spark, predictionsB);
    List<String> names = new ArrayList<>();
    for (Row r :
        a.select(MODEL)
            .distinct()
            .join(b.select(MODEL).distinct(), MODEL)
            .orderBy(MODEL)
            .collectAsList()) {
      if (models.isEmpty() || models.contains(r.getString(0))) {
        names.add(r.getString(0));
      }
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException(
          "Cannot compare runs: no model "
              + (models.isEmpty() ? "" : "of " + models + " ")
              + "was evaluated in both runs");
    }
    // One full outer join of both runs, one pass: rows of a subject one run did not score have a
    // null
    // on the other side and are counted, not paired.
    Dataset<Row> both =
        a.where(col(MODEL).isin(names.toArray()))
            .select(
                col(Columns.SUBJECT_ID),
                col(MODEL),
                col(PROBABILITY).as("pa"),
                col(Columns.LABEL).as("la"))
            .join(
                b.select(
                    col(Columns.SUBJECT_ID),
                    col(MODEL),
                    col(PROBABILITY).as("pb"),
                    col(Columns.LABEL).as("lb")),
                scala.collection.JavaConverters.asScalaBuffer(List.of(Columns.SUBJECT_ID, MODEL))
                    .toSeq(),
                "full_outer")
            .where(col(MODEL).isin(names.toArray()))
            .select(MODEL, "pa", "pb", "la", "lb");
    java.util.Map<String, List<Row>> byModel = new java.util.HashMap<>();
    for (Row r : both.collectAsList()) {
      byModel.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(r);
    }
    List<ModelComparison> out = new ArrayList<>();
    for (String m : names) {
      List<Row> rows = byModel.get(m);
      List<Row> paired = rows.stream().filter(r -> !r.isNullAt(1) && !r.isNullAt(2)).toList();
      long disagree = paired.stream().filter(r -> r.getInt(3) != r.getInt(4)).count();
      if (disagree > 0) {
        throw new IllegalArgumentException(
            "Cannot compare runs: "
                + disagree
                + " test subjects of model "
                + m
                + " have different labels in the two runs (not the same cohort)");
      }
      double[] pa = new double[paired.size()];
      double[] pb = new double[paired.size()];
      int[] labels = new int[paired.size()];
      for (int i = 0; i < paired.size(); i++) {
        pa[i] = paired.get(i).getDouble(1);
        pb[i] = paired.get(i).getDouble(2);
        labels[i] = paired.get(i).getInt(3);
      }
      out.add(
          new ModelComparison(
              m, PairedAuroc.of(pb, pa, labels, 0.95), rows.size() - (long) paired.size()));
    }
    return out;
  }

  private static Dataset<Row> read(SparkSession spark, String path) {
    Dataset<Row> t = spark.read().parquet(path);
    if (!List.of(t.columns()).contains(PROBABILITY)
        || !t.schema().apply(PROBABILITY).dataType().equals(DataTypes.DoubleType)) {
      throw new IllegalArgumentException(
          "Cannot compare runs: "
              + path
              + " has no probability column of one number per subject (binary outcomes only)");
    }
    return t.where(col(Columns.LABEL).isNotNull());
  }
}
