package org.cohortfusion.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The default averaging frequency, worked by hand. */
class ParameterAveragingTest {
  @Test
  void aConfiguredFrequencyIsKept() {
    assertEquals(3, ParameterAveraging.averagingFrequency(3, 1000, 1));
    assertEquals(3, ParameterAveraging.averagingFrequency(3, 1000, 4));
  }

  @Test
  void severalWorkersAverageTwiceAnEpochWithAtLeastFiveStepsARound() {
    // 23 shards on 2 workers: 12 per worker, two rounds of 6.
    assertEquals(6, ParameterAveraging.averagingFrequency(null, 23, 2));
    // 137 shards on 2 workers: 69 per worker, rounds of 35.
    assertEquals(35, ParameterAveraging.averagingFrequency(null, 137, 2));
    // 12 shards on 3 workers: 4 per worker, below the minimum round of 5.
    assertEquals(5, ParameterAveraging.averagingFrequency(null, 12, 3));
  }

  @Test
  void oneWorkerFitsTheWholeEpochInOneRound() {
    assertEquals(137, ParameterAveraging.averagingFrequency(null, 137, 1));
    assertEquals(1, ParameterAveraging.averagingFrequency(null, 1, 1));
    assertEquals(1, ParameterAveraging.averagingFrequency(null, 0, 1));
  }
}
