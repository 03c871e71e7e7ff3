package org.cohortfusion.features.batch;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;
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

  /**
   * Lazily converts a partition batch by batch: the next batch of {@code batchSize} rows is read
   * only once every output of the previous one was taken, so a per-partition function holds one
   * batch of rows and its outputs, never the whole partition (executor memory does not grow with
   * partition size). Outputs keep the input order.
   *
   * @param convert the outputs of one batch of copied rows, in order (may be empty)
   */
  public static <T> Iterator<T> flatMapBatches(
      Iterator<InternalRow> rows, int batchSize, Function<List<InternalRow>, List<T>> convert) {
    Iterator<List<InternalRow>> batches = batches(rows, batchSize);
    return new Iterator<>() {
      private Iterator<T> current = java.util.Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        // A batch may convert to no output: keep reading batches until one does or the partition
        // ends.
        while (!current.hasNext() && batches.hasNext()) {
          current = convert.apply(batches.next()).iterator();
        }
        return current.hasNext();
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }
}
