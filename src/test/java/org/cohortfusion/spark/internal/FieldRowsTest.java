package org.cohortfusion.spark.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.cohortfusion.testing.CountingIterator;
import org.junit.jupiter.api.Test;

class FieldRowsTest {

  private static List<FieldRow> rows(int n) {
    List<FieldRow> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(new InternalFieldRow(new GenericInternalRow(new Object[] {i})));
    }
    return rows;
  }

  /**
   * Each batch's outputs come before the next batch is read; batches with no output are skipped
   * over.
   */
  @Test
  void flatMapBatchesReadsABatchOnlyWhenThePreviousOutputsAreTaken() {
    CountingIterator<FieldRow> input = new CountingIterator<>(rows(10));
    // Batches of 3: [0,1,2] [3,4,5] [6,7,8] [9]; the second converts to nothing, the others to
    // their even values.
    Iterator<Integer> out =
        FieldRows.flatMapBatches(
            input,
            3,
            batch -> {
              List<Integer> evens = new ArrayList<>();
              for (FieldRow r : batch) {
                if (r.getInt(0) % 2 == 0 && r.getInt(0) != 4) {
                  evens.add(r.getInt(0));
                }
              }
              return evens;
            });
    assertEquals(0, input.consumed(), "nothing is read before the first output is asked for");
    assertEquals(0, out.next());
    assertEquals(3, input.consumed());
    assertEquals(2, out.next());
    assertEquals(3, input.consumed(), "the batch's outputs come from the batch already read");
    assertEquals(6, out.next()); // the second batch gave nothing: the third is read
    assertEquals(9, input.consumed());
    assertEquals(8, out.next());
    assertFalse(out.hasNext());
    assertEquals(10, input.consumed());
    assertThrows(NoSuchElementException.class, out::next);
  }
}
