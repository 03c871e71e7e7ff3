package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PairedAurocTest {
  private static double psi(double x, double y) {
    return x > y ? 1 : x == y ? 0.5 : 0;
  }

  /**
   * DeLong's estimator straight from its definition (O(m n)), as an oracle for the midrank
   * implementation.
   */
  private static double[] byDefinition(double[] a, double[] b, int[] labels) {
    int m = 0;
    for (int y : labels) {
      m += y;
    }
    int n = labels.length - m;
    double[][] v10 = new double[2][m];
    double[][] v01 = new double[2][n];
    double[] auc = new double[2];
    double[][] s = {a, b};
    for (int r = 0; r < 2; r++) {
      int p = 0;
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] != 1) {
          continue;
        }
        int q = 0;
        for (int j = 0; j < labels.length; j++) {
          if (labels[j] == 0) {
            double k = psi(s[r][i], s[r][j]);
            v10[r][p] += k / n;
            v01[r][q] += k / m;
            q++;
          }
        }
        auc[r] += v10[r][p] / m;
        p++;
      }
    }
    double[][] s10 = new double[2][2];
    double[][] s01 = new double[2][2];
    for (int r = 0; r < 2; r++) {
      for (int t = 0; t < 2; t++) {
        for (int i = 0; i < m; i++) {
          s10[r][t] += (v10[r][i] - auc[r]) * (v10[t][i] - auc[t]) / (m - 1);
        }
        for (int j = 0; j < n; j++) {
          s01[r][t] += (v01[r][j] - auc[r]) * (v01[t][j] - auc[t]) / (n - 1);
        }
      }
    }
    double var =
        (s10[0][0] + s10[1][1] - 2 * s10[0][1]) / m + (s01[0][0] + s01[1][1] - 2 * s01[0][1]) / n;
    return new double[] {auc[0], auc[1], Math.sqrt(var)};
  }

  @Test
  void midranksGiveDeLongsDefinitionWithTies() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (int trial = 0; trial < 20; trial++) {
      int size = 20 + rnd.nextInt(200);
      double[] a = new double[size];
      double[] b = new double[size];
      int[] y = new int[size];
      for (int i = 0; i < size; i++) {
        y[i] = i < 3 ? i % 2 : rnd.nextInt(2);
        double z = rnd.nextDouble();
        // Rounded scores: many ties, as a unimodal model gives every subject without its modality
        // one probability.
        a[i] = Math.round((z + y[i] * 0.3 + rnd.nextDouble()) * 10) / 10.0;
        b[i] = Math.round((z + y[i] * 0.1 + rnd.nextDouble()) * 4) / 4.0;
      }
      double[] oracle = byDefinition(a, b, y);
      PairedAuroc p = PairedAuroc.of(a, b, y, 0.95);
      assertEquals(oracle[0], p.aurocA(), 1e-12);
      assertEquals(oracle[1], p.aurocB(), 1e-12);
      assertEquals(oracle[2], p.standardError(), 1e-12);
      assertEquals(ClassificationMetrics.binaryAuroc(a, y), p.aurocA(), 1e-12);
      assertEquals(p.aurocA() - p.aurocB(), p.difference(), 1e-15);
      // 95%: the interval is the difference plus or minus 1.959964 standard errors.
      assertEquals(1.959964 * p.standardError(), p.upper() - p.difference(), 1e-6);
      assertEquals(p.upper() - p.difference(), p.difference() - p.lower(), 1e-12);
    }
  }

  @Test
  void aModelComparedWithItselfDiffersByExactlyZero() {
    double[] a = {0.1, 0.4, 0.35, 0.8, 0.7, 0.2};
    int[] y = {0, 0, 1, 1, 1, 0};
    PairedAuroc p = PairedAuroc.of(a, a.clone(), y, 0.9);
    assertEquals(0, p.difference(), 0);
    assertEquals(0, p.standardError(), 1e-15);
    assertEquals(8.0 / 9, p.aurocA(), 1e-12); // 8 of 9 positive-negative pairs ordered by hand
  }

  @Test
  void tooFewSubjectsOfAClassIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                PairedAuroc.of(
                    new double[] {0.1, 0.2, 0.3},
                    new double[] {0.1, 0.2, 0.3},
                    new int[] {0, 0, 1},
                    0.95));
    assertTrue(e.getMessage().contains("1 positive and 2 negative"), e.getMessage());
  }
}
