package org.cohortfusion.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CohortProfileTest {
  @Test
  void populationStabilityIndexByHand() {
    // (0.8 - 0.5) ln(0.8 / 0.5) + (0.2 - 0.5) ln(0.2 / 0.5)
    double expected = 0.3 * Math.log(1.6) + (-0.3) * Math.log(0.4);
    assertEquals(
        expected, CohortProfile.psi(Map.of("a", 50L, "b", 50L), Map.of("a", 80L, "b", 20L)), 1e-12);
    assertEquals(
        0, CohortProfile.psi(Map.of("a", 5L, "b", 15L), Map.of("a", 50L, "b", 150L)), 1e-12);
    // A pattern that appears only in the new snapshot: its share before is floored, not zero.
    double onlyAfter = CohortProfile.psi(Map.of("a", 100L), Map.of("a", 90L, "c", 10L));
    assertEquals((0.9 - 1) * Math.log(0.9) + (0.1 - 1e-4) * Math.log(0.1 / 1e-4), onlyAfter, 1e-12);
    assertTrue(onlyAfter > 0.25);
  }

  @Test
  void driftComparesPresenceAndPatterns() {
    CohortProfile before =
        new CohortProfile(
            100,
            Map.of("a+b", 60L, "a", 40L),
            Map.of("0", 50L, "1", 50L),
            Map.of("a", 1.0, "b", 0.6));
    CohortProfile after =
        new CohortProfile(
            200,
            Map.of("a+b", 60L, "a", 140L),
            Map.of("0", 100L, "1", 100L),
            Map.of("a", 1.0, "b", 0.3));
    CohortProfile.Drift d = after.driftFrom(before);
    assertEquals(0, d.labelPsi(), 1e-12);
    assertEquals(
        (0.3 - 0.6) * Math.log(0.5) + (0.7 - 0.4) * Math.log(0.7 / 0.4), d.patternPsi(), 1e-12);
    assertEquals(0.6, d.presence().get("b")[0], 0);
    assertEquals(0.3, d.presence().get("b")[1], 0);
    assertEquals(d.patternPsi(), d.worst(), 0);
  }
}
