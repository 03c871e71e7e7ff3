package org.cohortfusion.spark.internal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The rows of a DataFrame as {@link FieldRow}s over Spark's internal rows, for the executors' batch
 * readers (encoder inputs, embeddings). Kept internal for speed: a public {@code Row} boxes every
 * value and turns an array into a {@code Seq} of boxed floats, where an internal row copies a
 * 256-float payload in one go.
 */
public final class FieldRows {
  private FieldRows() {}

  /** The rows of {@code df} (reused by Spark: copy before keeping one). */
  public static JavaRDD<FieldRow> of(Dataset<Row> df) {
    return df.queryExecution().toRdd().toJavaRDD().map(InternalFieldRow::new);
  }

  /** Groups an iterator of reused rows into batches of copied rows. */
  public static Iterator<List<FieldRow>> batches(Iterator<FieldRow> rows, int batchSize) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public List<FieldRow> next() {
        if (!rows.hasNext()) {
          throw new NoSuchElementException();
        }
        List<FieldRow> batch = new ArrayList<>(batchSize);
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
      Iterator<FieldRow> rows, int batchSize, Function<List<FieldRow>, List<T>> convert) {
    Iterator<List<FieldRow>> batches = batches(rows, batchSize);
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
