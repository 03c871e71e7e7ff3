package org.cohortfusion.retrain;

import static org.apache.spark.sql.functions.col;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.stage.Columns;

/**
 * The distribution of every embedding dimension in a training split, as decile edges and the share
 * of subjects in each of the ten bins they cut: what a later snapshot's embeddings (same encoders)
 * are compared with, dimension by dimension, by the population stability index. Only aggregates: no
 * subject-level value.
 *
 * @param edges per modality, per dimension, the nine inner decile edges
 * @param shares per modality, per dimension, the share of the modality's subjects in each of the
 *     ten bins
 */
public record EmbeddingProfile(Map<String, double[][]> edges, Map<String, double[][]> shares) {
  static final int BINS = 10;

  /** Relative error of Spark's approxQuantile for the edges. */
  static final double QUANTILE_ERROR = 0.001;

  /**
   * The profile of the labeled rows of {@code split}, modality by modality over the subjects that
   * have it.
   */
  public static EmbeddingProfile of(Dataset<Row> table, Map<String, Integer> dims, String split) {
    Dataset<Row> rows =
        table.where(col(Columns.SPLIT).equalTo(split).and(col(Columns.LABEL).isNotNull()));
    double[] probabilities = new double[BINS - 1];
    for (int i = 0; i < probabilities.length; i++) {
      probabilities[i] = (i + 1) / (double) BINS;
    }
    Map<String, double[][]> edges = new LinkedHashMap<>();
    for (Map.Entry<String, Integer> m : dims.entrySet()) {
      String[] names = new String[m.getValue()];
      Dataset<Row> present =
          rows.where(col(Columns.presence(m.getKey())).and(col(m.getKey()).isNotNull()));
      List<org.apache.spark.sql.Column> cols = new ArrayList<>();
      for (int j = 0; j < names.length; j++) {
        names[j] = "_d" + j;
        cols.add(col(m.getKey()).getItem(j).cast("double").as(names[j]));
      }
      double[][] e =
          present
              .select(cols.toArray(new org.apache.spark.sql.Column[0]))
              .stat()
              .approxQuantile(names, probabilities, QUANTILE_ERROR);
      edges.put(m.getKey(), e);
    }
    return new EmbeddingProfile(edges, sharesOf(rows, edges));
  }

  /**
   * The shares of {@code rows} in the bins of {@code edges} (one pass over the rows, on the
   * executors).
   */
  static Map<String, double[][]> sharesOf(Dataset<Row> rows, Map<String, double[][]> edges) {
    List<String> modalities = new ArrayList<>(edges.keySet());
    List<org.apache.spark.sql.Column> cols = new ArrayList<>();
    for (String m : modalities) {
      cols.add(col(Columns.presence(m)).and(col(m).isNotNull()).as("_has_" + m));
      cols.add(col(m));
    }
    Counter counter = new Counter(modalities.stream().map(edges::get).toList());
    long[][][] counts =
        rows.select(cols.toArray(new org.apache.spark.sql.Column[0]))
            .javaRDD()
            .aggregate(counter.zero(), counter::add, Counter::merge);
    Map<String, double[][]> shares = new LinkedHashMap<>();
    for (int k = 0; k < modalities.size(); k++) {
      double[][] s = new double[counts[k].length][BINS];
      for (int j = 0; j < counts[k].length; j++) {
        long n = Arrays.stream(counts[k][j]).sum();
        for (int b = 0; b < BINS; b++) {
          s[j][b] = n == 0 ? 0 : counts[k][j][b] / (double) n;
        }
      }
      shares.put(modalities.get(k), s);
    }
    return shares;
  }

  /**
   * Counts per modality, dimension and bin; the row holds (present, embedding) per modality in
   * order.
   */
  private record Counter(List<double[][]> edges) implements Serializable {
    long[][][] zero() {
      long[][][] z = new long[edges.size()][][];
      for (int k = 0; k < z.length; k++) {
        z[k] = new long[edges.get(k).length][BINS];
      }
      return z;
    }

    long[][][] add(long[][][] acc, Row row) {
      for (int k = 0; k < edges.size(); k++) {
        if (row.isNullAt(2 * k) || !row.getBoolean(2 * k)) {
          continue;
        }
        List<Object> values = row.getList(2 * k + 1);
        double[][] e = edges.get(k);
        for (int j = 0; j < e.length && j < values.size(); j++) {
          double v = ((Number) values.get(j)).doubleValue();
          int bin = Arrays.binarySearch(e[j], v);
          acc[k][j][bin >= 0 ? bin + 1 : -bin - 1]++; // a value on an edge goes to the bin above it
        }
      }
      return acc;
    }

    static long[][][] merge(long[][][] a, long[][][] b) {
      for (int k = 0; k < a.length; k++) {
        for (int j = 0; j < a[k].length; j++) {
          for (int bin = 0; bin < BINS; bin++) {
            a[k][j][bin] += b[k][j][bin];
          }
        }
      }
      return a;
    }
  }

  /**
   * Per modality, the population stability index of every dimension of {@code rows} (a new training
   * split, embedded by the same encoders) against this profile.
   */
  public Map<String, double[]> psi(Dataset<Row> rows) {
    Map<String, double[][]> now = sharesOf(rows, edges);
    Map<String, double[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, double[][]> m : shares.entrySet()) {
      double[][] after = now.get(m.getKey());
      double[] psi = new double[m.getValue().length];
      for (int j = 0; j < psi.length; j++) {
        for (int b = 0; b < BINS; b++) {
          double p = Math.max(CohortProfile.PSI_FLOOR, m.getValue()[j][b]);
          double q = Math.max(CohortProfile.PSI_FLOOR, after[j][b]);
          psi[j] += (q - p) * Math.log(q / p);
        }
      }
      out.put(m.getKey(), psi);
    }
    return out;
  }
}
