package org.cohortfusion.cohort.generate;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * subjects.observable_probability on a large generated cohort, against oracles that do not use it:
 *
 * <ul>
 *   <li>calibration: labels are independent Bernoulli draws given what a subject's rows reveal, so
 *       in each decile of the probability the positive count is a Poisson-binomial with mean sum p
 *       and variance sum p (1 - p); it must lie within 3.29 standard deviations (two-sided 0.1% per
 *       decile, at most 1% for the ten, fixed before running);
 *   <li>dominance: the AUROC of true_probability (which sees the latents) is at least the
 *       observable one's, which is at least that of a logistic regression on the same rows'
 *       features, fitted by this test's own Newton iterations on other subjects.
 * </ul>
 *
 * The rows are the generator's own (CohortRows.rows, what Spark writes), without Spark; AUROC is
 * this test's Mann-Whitney with ties counted one half. Run with MCAR (the default) and with label-
 * and feature-dependent missingness, where a wrong conditioning on the presence pattern shows as
 * miscalibration.
 */
class ObservableProbabilityCohortTest {
  private static final int FIT = 12_000;
  private static final int TEST = 12_000;
  private static final double Z = 3.29;

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void isCalibratedAndBetweenTheBayesOptimalAndALogisticRegression(boolean mnar) {
    GenerateOptions o = GenerateOptions.defaults().withSubjects(FIT + TEST).withSeed(mnar ? 11 : 5);
    if (mnar) {
      o =
          o.withMissingness(Modality.OMICS, new Missingness(0.4, Missingness.Mechanism.MNAR_LABEL))
              .withMissingness(
                  Modality.LABS, new Missingness(0.4, Missingness.Mechanism.MNAR_FEATURE))
              .withMissingness(
                  Modality.IMAGING, new Missingness(0.3, Missingness.Mechanism.MNAR_FEATURE));
    }
    CohortPlan plan = new CohortPlan(o);
    CohortRows rows = new CohortRows(plan);
    int n = FIT + TEST;
    int[] y = new int[n];
    double[] truth = new double[n];
    double[] observable = new double[n];
    double[][] x = new double[n][];
    for (int i = 0; i < n; i++) {
      Row s = rows.rows("subjects", i).get(0);
      y[i] = s.getInt(1);
      truth[i] = s.getDouble(4);
      observable[i] = s.getDouble(5);
      x[i] = features(rows, plan, i, s.getDouble(2));
    }
    int[] yTest = Arrays.copyOfRange(y, FIT, n);
    double[] obsTest = Arrays.copyOfRange(observable, FIT, n);

    // Calibration, deciles of the observable probability on the held-out subjects.
    Integer[] order = new Integer[TEST];
    for (int i = 0; i < TEST; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(obsTest[a], obsTest[b]));
    for (int d = 0; d < 10; d++) {
      double expected = 0, variance = 0, observed = 0;
      for (int r = d * TEST / 10; r < (d + 1) * TEST / 10; r++) {
        double p = obsTest[order[r]];
        expected += p;
        variance += p * (1 - p);
        observed += yTest[order[r]];
      }
      double zScore = (observed - expected) / Math.sqrt(variance);
      assertTrue(
          Math.abs(zScore) <= Z,
          "decile "
              + d
              + ": "
              + observed
              + " positives, expected "
              + expected
              + " (z = "
              + zScore
              + ")");
    }

    double[] beta =
        logisticRegression(Arrays.copyOfRange(x, 0, FIT), Arrays.copyOfRange(y, 0, FIT));
    double[] lr = new double[TEST];
    for (int i = 0; i < TEST; i++) {
      lr[i] = dot(beta, x[FIT + i]);
    }
    double bayes = auroc(Arrays.copyOfRange(truth, FIT, n), yTest);
    double obs = auroc(obsTest, yTest);
    double logistic = auroc(lr, yTest);
    assertTrue(bayes >= obs, "Bayes " + bayes + " < observable " + obs);
    assertTrue(obs >= logistic, "observable " + obs + " < logistic regression " + logistic);
    System.out.printf(
        "mnar=%s: AUROC Bayes %.4f, observable-optimal %.4f, logistic regression %.4f%n",
        mnar, bayes, obs, logistic);
  }

  /**
   * Plain per-modality features with presence indicators (zero when absent): clinical numbers and
   * smoker, the omics values, image mean and maximum, the last pre-index lab values, note keyword
   * counts, and the image-maximum times last-albumin product for the interaction.
   */
  private static double[] features(CohortRows rows, CohortPlan plan, long i, double indexTime) {
    List<Double> f = new ArrayList<>();
    f.add(1.0);
    List<Row> clinical = rows.rows("clinical", i);
    f.add(clinical.isEmpty() ? 0.0 : 1.0);
    for (int c : new int[] {1, 3, 4, 6}) {
      f.add(
          clinical.isEmpty() || clinical.get(0).isNullAt(c)
              ? 0.0
              : standard(clinical.get(0).getDouble(c), c));
    }
    String smoker =
        clinical.isEmpty() || clinical.get(0).isNullAt(8) ? "" : clinical.get(0).getString(8);
    f.add(smoker.equals("current") ? 1.0 : 0.0);
    f.add(smoker.equals("former") ? 1.0 : 0.0);
    List<Row> omics = rows.rows("omics", i);
    f.add(omics.isEmpty() ? 0.0 : 1.0);
    for (int p : plan.omicsSignalPositions()) {
      f.add(omics.isEmpty() ? 0.0 : ((float[]) omics.get(0).get(1))[p]);
    }
    List<Row> imaging = rows.rows("imaging", i);
    f.add(imaging.isEmpty() ? 0.0 : 1.0);
    double mean = 0, max = 0;
    if (!imaging.isEmpty()) {
      float[] px = (float[]) imaging.get(0).get(1); // the generator's raw rows hold arrays
      max = Double.NEGATIVE_INFINITY;
      for (float v : px) {
        mean += v / (double) px.length;
        max = Math.max(max, v);
      }
    }
    f.add(mean);
    f.add(max);
    Row last = null;
    for (Row r : rows.rows("labs", i)) {
      if (r.getDouble(1) < indexTime && (last == null || r.getDouble(1) > last.getDouble(1))) {
        last = r;
      }
    }
    f.add(last == null ? 0.0 : 1.0);
    double alb = last == null || last.isNullAt(2) ? 0.0 : last.getDouble(2) - 4.0;
    f.add(alb);
    f.add(last == null || last.isNullAt(3) ? 0.0 : Math.log(last.getDouble(3)) - 1.5);
    f.add(last == null || last.isNullAt(4) ? 0.0 : last.getDouble(4) - 13.5);
    f.add(max * alb);
    List<Row> notes = rows.rows("notes", i);
    f.add(notes.isEmpty() ? 0.0 : 1.0);
    int risk = 0, reassuring = 0;
    if (!notes.isEmpty()) {
      for (String w : notes.get(0).getString(1).split("[ .]+")) {
        if (List.of("fatigue", "dyspnea", "edema", "weight-loss", "fever", "worsening")
            .contains(w)) {
          risk++;
        } else if (List.of("stable", "unremarkable", "improving", "well", "normal").contains(w)) {
          reassuring++;
        }
      }
    }
    f.add(risk / 10.0);
    f.add(reassuring / 10.0);
    return f.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static double standard(double v, int column) {
    return switch (column) {
      case 1 -> (v - 62) / 9;
      case 3 -> (v - 27) / 3.5;
      case 4 -> (v - 130) / 12;
      default -> (v - 85) / 10;
    };
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int k = 0; k < a.length; k++) {
      s += a[k] * b[k];
    }
    return s;
  }

  /** Newton-Raphson for the logistic log-likelihood with a tiny ridge (1e-6) for invertibility. */
  private static double[] logisticRegression(double[][] x, int[] y) {
    int d = x[0].length;
    double[] beta = new double[d];
    for (int iter = 0; iter < 25; iter++) {
      double[] g = new double[d];
      double[][] h = new double[d][d];
      for (int i = 0; i < x.length; i++) {
        double p = 1 / (1 + Math.exp(-dot(beta, x[i])));
        double w = p * (1 - p);
        for (int a = 0; a < d; a++) {
          g[a] += (y[i] - p) * x[i][a];
          for (int b = 0; b <= a; b++) {
            h[a][b] += w * x[i][a] * x[i][b];
          }
        }
      }
      for (int a = 0; a < d; a++) {
        g[a] -= 1e-6 * beta[a];
        h[a][a] += 1e-6;
        for (int b = 0; b < a; b++) {
          h[b][a] = h[a][b];
        }
      }
      double[] step = solve(h, g);
      for (int a = 0; a < d; a++) {
        beta[a] += step[a];
      }
    }
    return beta;
  }

  /** Gaussian elimination with partial pivoting. */
  private static double[] solve(double[][] a0, double[] b0) {
    int n = b0.length;
    double[][] a = new double[n][];
    for (int i = 0; i < n; i++) {
      a[i] = a0[i].clone();
    }
    double[] b = b0.clone();
    for (int c = 0; c < n; c++) {
      int p = c;
      for (int r = c + 1; r < n; r++) {
        if (Math.abs(a[r][c]) > Math.abs(a[p][c])) {
          p = r;
        }
      }
      double[] t = a[c];
      a[c] = a[p];
      a[p] = t;
      double tb = b[c];
      b[c] = b[p];
      b[p] = tb;
      for (int r = c + 1; r < n; r++) {
        double f = a[r][c] / a[c][c];
        for (int k = c; k < n; k++) {
          a[r][k] -= f * a[c][k];
        }
        b[r] -= f * b[c];
      }
    }
    double[] x = new double[n];
    for (int r = n - 1; r >= 0; r--) {
      double s = b[r];
      for (int k = r + 1; k < n; k++) {
        s -= a[r][k] * x[k];
      }
      x[r] = s / a[r][r];
    }
    return x;
  }

  /** Mann-Whitney AUROC with ties counted one half (average ranks). */
  private static double auroc(double[] score, int[] y) {
    int n = score.length;
    Integer[] idx = new Integer[n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (a, b) -> Double.compare(score[a], score[b]));
    double[] rank = new double[n];
    for (int i = 0; i < n; ) {
      int j = i;
      while (j + 1 < n && score[idx[j + 1]] == score[idx[i]]) {
        j++;
      }
      for (int k = i; k <= j; k++) {
        rank[idx[k]] = (i + j) / 2.0 + 1;
      }
      i = j + 1;
    }
    long pos = Arrays.stream(y).filter(v -> v == 1).count();
    long neg = n - pos;
    double sum = 0;
    for (int i = 0; i < n; i++) {
      if (y[i] == 1) {
        sum += rank[i];
      }
    }
    return (sum - pos * (pos + 1) / 2.0) / (pos * (double) neg);
  }
}
