package org.cohortfusion.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IngestBenchTest {
  @Test
  void theRatioIsTheMedianOverBlocksOfBothOrders() {
    // Blocks (repetitions 0-1, 2-3, 4-5): 30/30, 40/20, 33/30.
    IngestBench.Result r =
        new IngestBench.Result(
            1000, new double[] {10, 20, 10, 10, 15, 15}, new double[] {12, 18, 30, 10, 11, 22});
    assertEquals(3, r.blocks());
    assertEquals(1.1, r.ratio(), 1e-12);
    // Per repetition the order shows (1.2, 0.9, 3.0, 1.0, 0.73, 1.47): the block ratio is not their
    // median.
    assertEquals(12.5, r.medianBare(), 1e-12);
  }

  @Test
  void anOddNumberOfRepetitionsIsRefusedBeforeAnythingRuns() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> IngestBench.run(null, "unused", 10, 0, 3, false));
    assertTrue(
        e.getMessage().contains("--repetitions must be a positive even number")
            && e.getMessage().contains("got 3"),
        e.getMessage());
  }
}
