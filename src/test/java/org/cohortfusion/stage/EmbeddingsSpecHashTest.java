package org.cohortfusion.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The embeddings descriptor's hashes identify inputs in provenance and models in the registry
 * (retrain compares a champion's encoder space with the new snapshot's), so a change of the
 * descriptor's Java shape must not change them. The expected values were computed by the release
 * before the descriptor gained extract's fields (commit 93ea0ad).
 */
class EmbeddingsSpecHashTest {
  private static EmbeddingsSpec spec(List<Double> intervals) {
    return new EmbeddingsSpec(
        List.of(
            new EmbeddingsSpec.Modality("clinical", 16, "aa11"),
            new EmbeddingsSpec.Modality("labs", 8, "bb22")),
        List.of("alive", "dead"),
        "cohort-hash",
        intervals);
  }

  @Test
  void hashesOfClassLabelEmbeddingsAreThoseOfEarlierReleases() {
    assertEquals(
        "8c82c9195593fd1e0ae84fe59ac0521716aa551a3ad1049399b96b783b028723", spec(null).sha256());
    assertEquals(
        "6ed9b7e059b645f1a862e02c15fa65e756250f3654b8425f2470c452c9499751",
        spec(null).encodersSha256());
  }

  @Test
  void hashesOfSurvivalEmbeddingsAreThoseOfEarlierReleases() {
    EmbeddingsSpec survival = spec(List.of(365.0, 730.0));
    assertEquals(
        "3aafa3846c31f17ea16e4aea607b496adb36e446c61fd7d7dea0501e10eb8dbc", survival.sha256());
    assertEquals(
        "a4cdcbe491acfddeef1e92bba5d0d7a4dd2369edfed58131fdbb4041c5972c41",
        survival.encodersSha256());
  }

  @Test
  void extractsRunFieldsDoNotChangeTheHashes() {
    EmbeddingsSpec bare = spec(null);
    EmbeddingsSpec described =
        bare.describedBy(
            "demo",
            120,
            List.of(
                new EmbeddingsSpec.Extraction("tabular", "/enc/clinical", 100, 90, 10),
                new EmbeddingsSpec.Extraction("timeseries", "/enc/labs", 80, 0, 80)),
            "1.2.3",
            "2026-12-06T00:00:00Z");
    assertEquals(bare.sha256(), described.sha256());
    assertEquals(bare.encodersSha256(), described.encodersSha256());
  }
}
