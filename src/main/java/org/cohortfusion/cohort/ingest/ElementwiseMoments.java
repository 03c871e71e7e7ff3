package org.cohortfusion.cohort.ingest;

import java.io.Serializable;
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

  /** {@code df} has the value array in column 0 and, optionally, the weight array in column 1. */
  static ElementwiseMoments compute(Dataset<Row> df, int length, int bucketSize) {
    if (length % bucketSize != 0) {
      throw new IllegalArgumentException("Cannot compute moments: length " + length + " is not a multiple of bucket size " + bucketSize);
    }
    int buckets = length / bucketSize;
    boolean weighted = df.columns().length > 1;
    return df.queryExecution().toRdd().toJavaRDD().treeAggregate(
        new ElementwiseMoments(buckets),
        (m, row) -> m.add(row, weighted, bucketSize),
        ElementwiseMoments::merge);
  }

  private ElementwiseMoments add(InternalRow row, boolean weighted, int bucketSize) {
    if (row.isNullAt(0)) {
      return this;
    }
    float[] values = row.getArray(0).toFloatArray();
    float[] weights = weighted && !row.isNullAt(1) ? row.getArray(1).toFloatArray() : null;
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
