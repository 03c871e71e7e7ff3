package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.ConfigException;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A survival outcome (subjects.outcome.kind = survival): label is the event indicator, event_time
 * the time of the event or of censoring on index_time's clock. Ingest keeps the landmark cohort —
 * followed from the index time — and carries duration = event_time - index_time; a labeled subject
 * whose outcome time is missing or not after its index time is rejected as BAD_OUTCOME. Expected
 * values are worked out by hand from the rows below.
 */
class SurvivalIngestTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private static final List<String> IDS = List.of("S01", "S02", "S03", "S04", "S05", "S06");

  /**
   * index_time 100 for all; S03's event at its index time, S04's time missing, S05's label is not
   * 0/1.
   */
  private static final String SUBJECTS =
      """
      subject_id,label,index_time,event_time
      S01,1,100,250
      S02,0,100,500.5
      S03,1,100,100
      S04,1,100,NA
      S05,2,100,300
      S06,,100,NA
      """;

  private String config(String outcome) throws Exception {
    String base = CohortFixture.valid(IDS).write(spark, dir, "");
    Files.writeString(dir.resolve("subjects.csv"), SUBJECTS);
    return base + "subjects { path = subjects.csv, format = csv, " + outcome + " }\n";
  }

  @Test
  void theLandmarkCohortCarriesDurationsAndBadOutcomesAreRejected() throws Exception {
    IngestResult result =
        IngestAction.of(
                spark,
                PipelineConfigLoader.parse(
                    config("outcome { kind = survival, intervals = [200, 400] }"), List.of()))
            .execute();
    Map<String, String> reasons = new TreeMap<>();
    for (Row r :
        spark
            .read()
            .parquet(result.cohortDir() + "/rejects")
            .where(col("source_table").equalTo("subjects"))
            .collectAsList()) {
      reasons.put(r.getAs("row_key"), r.getAs("reason"));
    }
    assertEquals(Map.of("S03", "BAD_OUTCOME", "S04", "BAD_OUTCOME", "S05", "BAD_LABEL"), reasons);
    Map<String, Row> aligned = new TreeMap<>();
    for (Row r :
        spark
            .read()
            .parquet(result.cohortDir() + "/aligned")
            .select("subject_id", "label", "duration")
            .collectAsList()) {
      aligned.put(r.getString(0), r);
    }
    assertEquals(List.of("S01", "S02", "S06"), List.copyOf(aligned.keySet()));
    assertEquals(1, aligned.get("S01").getInt(1));
    assertEquals(150.0, aligned.get("S01").getDouble(2), 0);
    assertEquals(0, aligned.get("S02").getInt(1));
    assertEquals(400.5, aligned.get("S02").getDouble(2), 0);
    // Unlabeled: kept, as every unlabeled subject is, with no outcome.
    assertTrue(aligned.get("S06").isNullAt(1));
    assertTrue(aligned.get("S06").isNullAt(2));
    assertEquals(6, result.qc().tables().get("subjects").rowsIn());
    assertEquals(
        Map.of("BAD_OUTCOME", 2L, "BAD_LABEL", 1L),
        result.qc().tables().get("subjects").rejected());
  }

  @Test
  void aSurvivalOutcomeNeedsIntervalsAndTheEventTimeColumn() throws Exception {
    ConfigException noIntervals =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.parse(config("outcome { kind = survival }"), List.of()));
    assertTrue(
        noIntervals.getMessage().contains("subjects.outcome.intervals"), noIntervals.getMessage());
    assertThrows(
        ConfigException.class,
        () ->
            PipelineConfigLoader.parse(
                config("outcome { kind = survival, intervals = [400, 200] }"), List.of()));
    // Cross-validation of a survival outcome is allowed (the folds are pooled by
    // SurvivalCrossValidation).
    assertEquals(
        5,
        PipelineConfigLoader.parse(
                config("outcome { kind = survival, intervals = [200] }") + "splits.folds = 5\n",
                List.of())
            .splits()
            .folds());
    Files.writeString(dir.resolve("no-time.csv"), "subject_id,label,index_time\nS01,1,100\n");
    String conf =
        config("outcome { kind = survival, intervals = [200] }") + "subjects.path = no-time.csv\n";
    IngestException e =
        assertThrows(
            IngestException.class,
            () -> IngestAction.of(spark, PipelineConfigLoader.parse(conf, List.of())).execute());
    assertTrue(
        e.getMessage().startsWith("Cannot read a survival outcome from table 'subjects'"),
        e.getMessage());
  }
}
