package org.cohortfusion.cohort.ingest;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;

/**
 * Per-bucket count, mean and standard deviation of float-array columns, in one distributed pass
 * (treeAggregate over Spark's internal rows: bulk float copies, no boxing, nothing collected but
 * the moments). Bucket b covers array positions [b*bucketSize, (b+1)*bucketSize): bucket size 1
 * gives per-position statistics (omics), H*W per-channel statistics (images). An optional weight
 * array (0/1) of the same length excludes padded or unobserved positions (time series).
 */
final class ElementwiseMoments implements Serializable {
  private static final long serialVersionUID = 1L;

  final double[] count;
  final double[] sum;
  final double[] sumSquares;

  private ElementwiseMoments(int buckets) {
    count = new double[buckets];
    sum = new double[buckets];
    sumSquares = new double[buckets];
  }

  /**
   * Where one array sits in the input rows: its column ordinal, the ordinal of its 0/1 weight
   * array (-1 for none), its length and the bucket size.
   */
  record Target(int valueOrdinal, int weightOrdinal, int length, int bucketSize) implements Serializable {
    Target {
      if (length % bucketSize != 0) {
        throw new IllegalArgumentException("Cannot compute moments: length " + length + " is not a multiple of bucket size " + bucketSize);
      }
    }
  }

  /** Moments of several array columns in one pass over {@code df}; a null array is skipped. */
  static List<ElementwiseMoments> computeAll(Dataset<Row> df, List<Target> targets) {
    ElementwiseMoments[] zero = targets.stream().map(t -> new ElementwiseMoments(t.length() / t.bucketSize()))
        .toArray(ElementwiseMoments[]::new);
    ElementwiseMoments[] result = df.queryExecution().toRdd().toJavaRDD().treeAggregate(zero,
        (acc, row) -> {
          for (int i = 0; i < acc.length; i++) {
            acc[i].add(row, targets.get(i));
          }
          return acc;
        },
        (a, b) -> {
          for (int i = 0; i < a.length; i++) {
            a[i].merge(b[i]);
          }
          return a;
        });
    return List.of(result);
  }

  private ElementwiseMoments add(InternalRow row, Target target) {
    if (row.isNullAt(target.valueOrdinal())) {
      return this;
    }
    int bucketSize = target.bucketSize();
    float[] values = row.getArray(target.valueOrdinal()).toFloatArray();
    int w = target.weightOrdinal();
    float[] weights = w >= 0 && !row.isNullAt(w) ? row.getArray(w).toFloatArray() : null;
    int n = Math.min(values.length, count.length * bucketSize);
    for (int i = 0; i < n; i++) {
      if (weights != null && weights[i] == 0f) {
        continue;
      }
      int b = i / bucketSize;
      double v = values[i];
      count[b] += 1;
      sum[b] += v;
      sumSquares[b] += v * v;
    }
    return this;
  }

  private ElementwiseMoments merge(ElementwiseMoments other) {
    for (int b = 0; b < count.length; b++) {
      count[b] += other.count[b];
      sum[b] += other.sum[b];
      sumSquares[b] += other.sumSquares[b];
    }
    return this;
  }

  double[] means() {
    double[] m = new double[count.length];
    for (int b = 0; b < m.length; b++) {
      m[b] = count[b] > 0 ? sum[b] / count[b] : 0.0;
    }
    return m;
  }

  /** Sample standard deviation; 1.0 where undefined or zero, so standardising never divides by 0. */
  double[] stds() {
    double[] s = new double[count.length];
    double[] m = means();
    for (int b = 0; b < s.length; b++) {
      double var = count[b] > 1 ? (sumSquares[b] - count[b] * m[b] * m[b]) / (count[b] - 1) : 0.0;
      s[b] = var > 1e-12 ? Math.sqrt(var) : 1.0;
    }
    return s;
  }

}
