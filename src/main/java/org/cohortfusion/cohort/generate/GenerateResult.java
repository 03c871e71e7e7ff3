package org.cohortfusion.cohort.generate;

import java.util.Map;

/**
 * What {@link SyntheticCohortGenerator#generate} wrote.
 *
 * @param outputDir the cohort directory (one sub-directory per table, plus _planted.json)
 * @param rowCounts rows per table (valid plus planted), from the deterministic plan, keyed by table
 *     name
 * @param planted planted bad rows per table and kind (only kinds with a non-zero count)
 * @param labelPrevalence share of positive labels among generated subjects with a valid label
 */
public record GenerateResult(
    String outputDir,
    Map<String, Long> rowCounts,
    Map<String, Map<PlantedKind, Long>> planted,
    double labelPrevalence) {

  public GenerateResult {
    rowCounts = Map.copyOf(rowCounts);
    planted = Map.copyOf(planted);
  }

  /** Planted rows of one (table, kind); 0 when none were planted. */
  public long planted(String table, PlantedKind kind) {
    Map<PlantedKind, Long> byKind = planted.get(table);
    return byKind == null ? 0L : byKind.getOrDefault(kind, 0L);
  }

  /** All planted rows over every table and kind. */
  public long plantedTotal() {
    return planted.values().stream()
        .flatMap(m -> m.values().stream())
        .mapToLong(Long::longValue)
        .sum();
  }
}
