package org.cohortfusion.evaluate.report;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.percentile_approx;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EvaluateOutputs;

/**
 * ROC curves of bounded size, computed on the executors: only per-model score quantiles and per-bin
 * class counts reach the driver, never a row per test subject. Each model's scores are cut at
 * {@link #MAX_POINTS}{@code - 2} approximate quantiles; the curve runs from (0, 0) through one
 * point per non-empty bin, from the highest scores down, to (1, 1). Equal-count bins put the points
 * where the subjects are, so the drawn curve keeps the shape of the exact one wherever it has mass,
 * whatever the size of the test split.
 *
 * <p>Within a bin the curve is replaced by its chord, so the trapezoid area of the drawn curve
 * differs from the exact AUROC (ties counted one half) by at most the sum over bins of {@code pos_j
 * * neg_j / (2 P N)} ({@link Curve#maxAurocError()}; nothing for a bin of one tied score, whose
 * chord is exact): at most {@code (1/B + 2/ACCURACY) / (8 π (1 − π))} with B bins and prevalence π,
 * about 0.003 at π = 0.3. The legend still shows the exact AUROC of metrics.json.
 */
public final class RocPoints {
  /**
   * Most points drawn per ROC curve. An 800-pixel chart cannot show more; more would only make the
   * report grow with the cohort (the curve of 150,000 test subjects has up to 150,000 steps). With
   * 199 equal-count bins the drawn curve's area is within about 0.003 of the exact AUROC (see the
   * class comment).
   */
  public static final int MAX_POINTS = 200;

  /** Bins per curve: one point per bin plus (0, 0). */
  static final int BINS = MAX_POINTS - 1;

  /**
   * percentile_approx accuracy: a quantile's rank is off by at most n / ACCURACY (Spark's default).
   */
  static final int ACCURACY = 10_000;

  private RocPoints() {}

  /**
   * One downsampled ROC curve.
   *
   * @param fpr false positive rates, non-decreasing from 0 to 1
   * @param tpr true positive rates, non-decreasing from 0 to 1
   * @param maxAurocError bound on |trapezoid area of this curve − exact AUROC|
   */
  public record Curve(double[] fpr, double[] tpr, double maxAurocError) {
    /** Trapezoid area under the drawn points. */
    public double trapezoidAuroc() {
      return trapezoid(fpr, tpr);
    }
  }

  /** Area under the polyline through (x[i], y[i]), x non-decreasing. */
  public static double trapezoid(double[] x, double[] y) {
    double area = 0.0;
    for (int i = 1; i < x.length; i++) {
      area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0;
    }
    return area;
  }

  /**
   * The downsampled ROC curve of every model in {@code predictions} (evaluate's Parquet: model,
   * probability, label) with both classes among its non-NaN scores, in model-name order. Binary
   * cohorts: the positive-class probability against label 1; multiclass: one-vs-rest of the last
   * class ({@code probability[numClasses - 1]}).
   */
  public static Map<String, Curve> of(Dataset<Row> predictions, int numClasses) {
    Column score =
        numClasses == 2
            ? col(EvaluateOutputs.PROBABILITY)
            : element_at(col(EvaluateOutputs.PROBABILITY), numClasses);
    Dataset<Row> scored =
        predictions
            .select(
                col(EvaluateOutputs.MODEL),
                score.cast(DataTypes.DoubleType).as("score"),
                when(col(Columns.LABEL).equalTo(numClasses - 1), 1L).otherwise(0L).as("positive"))
            .where(not(isnan(col("score"))));

    Column[] quantiles = new Column[BINS - 1];
    for (int i = 1; i < BINS; i++) {
      quantiles[i - 1] = lit((double) i / BINS);
    }
    HashMap<String, double[]> thresholds = new HashMap<>();
    for (Row r :
        scored
            .groupBy(EvaluateOutputs.MODEL)
            .agg(percentile_approx(col("score"), array(quantiles), lit(ACCURACY)))
            .collectAsList()) {
      // percentile_approx returns scores of the data: distinct ones bound non-empty bins [t_j,
      // t_j+1).
      TreeSet<Double> distinct = new TreeSet<>(r.<Double>getList(1));
      thresholds.put(r.getString(0), distinct.stream().mapToDouble(Double::doubleValue).toArray());
    }
    UserDefinedFunction bin =
        functions.udf(
            (UDF2<String, Double, Integer>)
                (model, s) -> {
                  int i = Arrays.binarySearch(thresholds.get(model), s);
                  return i >= 0 ? i + 1 : -i - 1; // how many thresholds are <= s
                },
            DataTypes.IntegerType);

    Map<String, long[][]> counts = new HashMap<>();
    for (Row r :
        scored
            .groupBy(
                col(EvaluateOutputs.MODEL),
                bin.apply(col(EvaluateOutputs.MODEL), col("score")).as("bin"))
            .agg(sum("positive"), count(lit(1)), min("score"), max("score"))
            .collectAsList()) {
      // counts[0]: positives per bin, [1]: negatives, [2]: 1 when every score of the bin is the
      // same
      long[][] c =
          counts.computeIfAbsent(r.getString(0), m -> new long[3][thresholds.get(m).length + 1]);
      long positives = r.getLong(2);
      c[0][r.getInt(1)] = positives;
      c[1][r.getInt(1)] = r.getLong(3) - positives;
      c[2][r.getInt(1)] = r.getDouble(4) == r.getDouble(5) ? 1 : 0;
    }
    Map<String, Curve> curves = new LinkedHashMap<>();
    counts.keySet().stream()
        .sorted()
        .forEach(
            m -> {
              Curve c = curve(counts.get(m)[0], counts.get(m)[1], counts.get(m)[2]);
              if (c != null) {
                curves.put(m, c);
              }
            });
    return curves;
  }

  /**
   * The curve of per-bin positive and negative counts (bin 0 holds the lowest scores), or null
   * without both classes. A bin whose scores are all equal ({@code tied[j] == 1}) is drawn exactly:
   * the exact AUROC counts its pairs one half, which is its chord.
   */
  static Curve curve(long[] pos, long[] neg, long[] tied) {
    long p = Arrays.stream(pos).sum();
    long n = Arrays.stream(neg).sum();
    if (p == 0 || n == 0) {
      return null;
    }
    List<double[]> points = new ArrayList<>();
    points.add(new double[] {0.0, 0.0});
    long tp = 0, fp = 0;
    double error = 0.0;
    for (int j = pos.length - 1; j >= 0; j--) {
      if (pos[j] + neg[j] == 0) {
        continue;
      }
      tp += pos[j];
      fp += neg[j];
      error += tied[j] == 1 ? 0.0 : (double) pos[j] * neg[j] / (2.0 * p * n);
      points.add(new double[] {(double) fp / n, (double) tp / p});
    }
    return new Curve(
        points.stream().mapToDouble(x -> x[0]).toArray(),
        points.stream().mapToDouble(x -> x[1]).toArray(),
        error);
  }
}
