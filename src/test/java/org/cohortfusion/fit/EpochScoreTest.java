package org.cohortfusion.fit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EpochScoreTest {
  private static final Map<String, Double> NONE = Map.of();

  @Test
  void theFirstEpochAlwaysImproves() {
    assertTrue(EpochScore.byLoss(Double.NaN, Double.NaN, NONE).improves(null));
  }

  @Test
  void aLowerLossImprovesAndAnEqualOrHigherOneDoesNot() {
    List<Double> best = EpochScore.byLoss(0.50, 0.7, NONE).key();
    assertTrue(EpochScore.byLoss(0.49, 0.6, NONE).improves(best));
    assertFalse(EpochScore.byLoss(0.50, 0.9, NONE).improves(best));
    assertFalse(EpochScore.byLoss(0.51, 0.9, NONE).improves(best));
  }

  @Test
  void aHigherRankImprovesByMoreThanRounding() {
    List<Double> best = EpochScore.byRank(0.80, 0.5, NONE).key();
    assertTrue(EpochScore.byRank(0.81, 0.6, NONE).improves(best));
    // Two evaluations of one network differ by rounding: not an improvement.
    assertFalse(EpochScore.byRank(0.80 + 1e-12, 0.4, NONE).improves(best));
    assertFalse(EpochScore.byRank(0.79, 0.4, NONE).improves(best));
  }

  @Test
  void theSecondValueBreaksTiesOfTheFirst() {
    List<Double> best = EpochScore.byRankThen(0.80, 0.70, Double.NaN, NONE).key();
    assertTrue(EpochScore.byRankThen(0.80, 0.75, Double.NaN, NONE).improves(best));
    assertFalse(EpochScore.byRankThen(0.80, 0.65, Double.NaN, NONE).improves(best));
    // The first value decides whenever it differs, whatever the second.
    assertFalse(EpochScore.byRankThen(0.79, 0.99, Double.NaN, NONE).improves(best));
  }

  @Test
  void anUndefinedValueRanksBelowEveryNumber() {
    // AUROC on a validation split of one class is undefined: accuracy decides between two such
    // epochs, and a defined AUROC beats it.
    List<Double> undefined = EpochScore.byRankThen(Double.NaN, 0.60, Double.NaN, NONE).key();
    assertTrue(EpochScore.byRankThen(0.51, 0.10, Double.NaN, NONE).improves(undefined));
    assertTrue(EpochScore.byRankThen(Double.NaN, 0.61, Double.NaN, NONE).improves(undefined));
    assertFalse(EpochScore.byRankThen(Double.NaN, 0.59, Double.NaN, NONE).improves(undefined));
    List<Double> defined = EpochScore.byRankThen(0.51, 0.10, Double.NaN, NONE).key();
    assertFalse(EpochScore.byRankThen(Double.NaN, 0.99, Double.NaN, NONE).improves(defined));
    // A NaN loss never beats a number.
    assertFalse(
        EpochScore.byLoss(Double.NaN, 0.9, NONE).improves(EpochScore.byLoss(5.0, 0.5, NONE).key()));
  }

  @Test
  void keysOfDifferentLengthsAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> EpochScore.byRank(0.8, 0.5, NONE).improves(Arrays.asList(0.7, 0.6)));
  }

  @Test
  void metricsKeepTheCallersOrder() {
    // A checkpoint's provenance lists them in this order; an unordered copy would differ per JVM.
    Map<String, Double> m = new java.util.LinkedHashMap<>();
    m.put("validation_z", 1.0);
    m.put("validation_a", 2.0);
    m.put("validation_m", 3.0);
    assertEquals(
        List.of("validation_z", "validation_a", "validation_m"),
        List.copyOf(EpochScore.byLoss(0.5, 0.7, m).metrics().keySet()));
  }
}
