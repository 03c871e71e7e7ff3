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

/**
 * Two evaluated runs on the same cohort and test split (two configurations, e.g. two averaging
 * modes or two seeds) compared model by model on the test subjects both scored: each run's test
 * AUROC and their paired difference by DeLong's method ({@link PairedAuroc}), so that the
 * difference is judged on the same subjects rather than from two unpaired intervals. Binary
 * outcomes only; subjects are matched by id, never by row order.
 */
public final class RunsComparison {
  private static final String MODEL = "model";
  private static final String PROBABILITY = "probability";

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
    List<ModelComparison> out = new ArrayList<>();
    for (String m : names) {
      Dataset<Row> ma = a.where(col(MODEL).equalTo(m));
      Dataset<Row> mb = b.where(col(MODEL).equalTo(m));
      Dataset<Row> both =
          ma.select(col(Columns.SUBJECT_ID), col(PROBABILITY).as("pa"), col(Columns.LABEL).as("la"))
              .join(
                  mb.select(
                      col(Columns.SUBJECT_ID),
                      col(PROBABILITY).as("pb"),
                      col(Columns.LABEL).as("lb")),
                  Columns.SUBJECT_ID);
      long disagree = both.where(col("la").notEqual(col("lb"))).count();
      if (disagree > 0) {
        throw new IllegalArgumentException(
            "Cannot compare runs: "
                + disagree
                + " test subjects of model "
                + m
                + " have different labels in the two runs (not the same cohort)");
      }
      List<Row> rows = both.select("pa", "pb", "la").collectAsList();
      double[] pa = new double[rows.size()];
      double[] pb = new double[rows.size()];
      int[] labels = new int[rows.size()];
      for (int i = 0; i < rows.size(); i++) {
        pa[i] = rows.get(i).getDouble(0);
        pb[i] = rows.get(i).getDouble(1);
        labels[i] = rows.get(i).getInt(2);
      }
      long onlyInOne = ma.count() + mb.count() - 2L * rows.size();
      out.add(new ModelComparison(m, PairedAuroc.of(pb, pa, labels, 0.95), onlyInOne));
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
