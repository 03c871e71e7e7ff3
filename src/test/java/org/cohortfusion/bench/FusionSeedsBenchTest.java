package org.cohortfusion.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class FusionSeedsBenchTest {

  /**
   * The table's differences, means and extremes, against values worked out by hand for two seeds:
   * the bench asserts nothing, so a wrong sign or a wrong column would otherwise go unseen.
   */
  @Test
  void theTablePrintsEachSeedsDifferencesAndTheirMeanMinAndMax() {
    FusionSeedsBench.Condition c =
        new FusionSeedsBench.Condition(
            "c",
            "d",
            100,
            new double[] {0.5, 0.5, 0.5},
            1.0,
            SyntheticEmbeddings.Scenario.MCAR,
            "",
            List.of(new FusionSeedsBench.Difference(List.of("mean", "attention"), "concat")));
    Map<Long, Map<String, Double>> aurocs = new LinkedHashMap<>();
    aurocs.put(2L, new TreeMap<>(Map.of("mean", 0.70, "attention", 0.72, "concat", 0.71)));
    aurocs.put(1L, new TreeMap<>(Map.of("mean", 0.75, "attention", 0.74, "concat", 0.78)));
    List<List<String>> rows =
        new FusionSeedsBench.ConditionResult(c, aurocs)
            .table()
            .lines()
            .map(l -> Arrays.asList(l.split(" {2,}")))
            .toList();
    assertEquals(
        List.of(
            List.of("seed", "attention", "concat", "mean", "max(mean,attention) - concat"),
            List.of("2", "0.7200", "0.7100", "0.7000", "+0.0100"),
            List.of("1", "0.7400", "0.7800", "0.7500", "-0.0300"),
            List.of("mean", "0.7300", "0.7450", "0.7250", "-0.0100"),
            List.of("min", "0.7200", "0.7100", "0.7000", "-0.0300"),
            List.of("max", "0.7400", "0.7800", "0.7500", "+0.0100")),
        rows);
  }
}
