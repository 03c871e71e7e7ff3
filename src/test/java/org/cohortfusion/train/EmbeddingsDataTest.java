package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.cohortfusion.spark.internal.FieldRow;
import org.cohortfusion.spark.internal.TestFieldRows;
import org.cohortfusion.testing.CountingIterator;
import org.junit.jupiter.api.Test;

class EmbeddingsDataTest {

  /**
   * The first batch comes after reading at most one batch of the partition, and the batches hold,
   * in order, each row's label, presence and embeddings (zeros where absent) as written in the
   * rows.
   */
  @Test
  void toBatchesReadsOneBatchAtATimeAndKeepsRowsInOrder() {
    int[] dims = {2, 3};
    int n = 11;
    int batchSize = 4;
    List<FieldRow> partition = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      float[] a = {r, r + 0.5f};
      float[] b = {-r, 2 * r, 3 * r};
      boolean absentB = r % 3 == 0;
      // (label, has_a, has_b, a, b): b is absent every third row, as has_b false (even rows) or as
      // a null array
      // under has_b true (odd rows)
      partition.add(
          TestFieldRows.of(
              new GenericInternalRow(
                  new Object[] {
                    r % 2,
                    true,
                    !absentB || r % 2 == 1,
                    ArrayData.toArrayData(a),
                    !absentB || r % 2 == 0 ? ArrayData.toArrayData(b) : null
                  })));
    }
    CountingIterator<FieldRow> input = new CountingIterator<>(partition);
    Iterator<Batch> out =
        new EmbeddingsData.ToBatches(dims, List.of("a", "b"), 2, false, batchSize).call(input);
    List<Batch> batches = new ArrayList<>();
    batches.add(out.next());
    assertTrue(
        input.consumed() <= batchSize, "read " + input.consumed() + " rows before the first batch");
    out.forEachRemaining(batches::add);
    assertEquals(3, batches.size());

    int r = 0;
    for (Batch batch : batches) {
      for (int k = 0; k < batch.size(); k++, r++) {
        boolean hasB = r % 3 != 0;
        assertEquals(r % 2, batch.labels()[k], "label of row " + r);
        assertArrayEquals(
            new float[] {1f, hasB ? 1f : 0f},
            new float[] {batch.presence()[2 * k], batch.presence()[2 * k + 1]});
        assertArrayEquals(
            new float[] {r, r + 0.5f}, slice(batch.features()[0], k, 2), "a of row " + r);
        assertArrayEquals(
            hasB ? new float[] {-r, 2 * r, 3 * r} : new float[3],
            slice(batch.features()[1], k, 3),
            "b of row " + r);
      }
    }
    assertEquals(n, r);
  }

  private static float[] slice(float[] block, int row, int dim) {
    return java.util.Arrays.copyOfRange(block, row * dim, (row + 1) * dim);
  }
}
