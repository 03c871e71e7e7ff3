package org.cohortfusion.features.batch;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;

/** Spark's internal rows of a DataFrame, read without conversion to external {@code Row}s. */
public final class InternalRows {
  private InternalRows() {}

  /** The rows of {@code df} as Spark's internal rows (reused by Spark: copy before keeping one). */
  public static JavaRDD<InternalRow> of(Dataset<Row> df) {
    return df.queryExecution().toRdd().toJavaRDD();
  }

  /** Groups an iterator of reused rows into batches of copied rows. */
  public static Iterator<List<InternalRow>> batches(Iterator<InternalRow> rows, int batchSize) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public List<InternalRow> next() {
        if (!rows.hasNext()) {
          throw new NoSuchElementException();
        }
        List<InternalRow> batch = new ArrayList<>(batchSize);
        while (rows.hasNext() && batch.size() < batchSize) {
          batch.add(rows.next().copy());
        }
        return batch;
      }
    };
  }
}
