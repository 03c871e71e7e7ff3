package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.stage.QcReport;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every validation rule with a planted bad input: rejected with its reason, or an error naming
 * table, file and column.
 */
class IngestValidationTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private IngestResult ingest(CohortFixture f, String extra) {
    PipelineConfig config = PipelineConfigLoader.parse(f.write(spark, dir, extra), List.of());
    return IngestAction.of(spark, config).execute();
  }

  @Test
  void everyPlantedRowIsRejectedWithItsReasonAndTheAccountingIsExact() throws Exception {
    CohortFixture f = CohortFixture.valid(20);
    // subjects
    f.subjects.add(RowFactory.create(null, 1, 100.0, "site-a"));
    f.subjects.add(RowFactory.create(" ", 0, 100.0, "site-a"));
    f.subjects.add(RowFactory.create("S05", 0, 100.0, "site-a")); // duplicate, first kept
    f.subjects.add(RowFactory.create("S21", 7, 100.0, "site-a")); // bad label
    f.subjects.add(RowFactory.create("S22", 1, 100.0, "site-a")); // no modality at all
    // clinical
    f.clinical.add(RowFactory.create("X99", 50.0, "f")); // unknown subject
    f.clinical.set(2, RowFactory.create("S03", Double.NaN, "m")); // non-finite
    f.clinical.add(RowFactory.create("S04", 99.0, "f")); // duplicate: latest:age keeps this one
    // omics
    f.omics.set(0, RowFactory.create("S01", CohortFixture.floats(1, 3))); // wrong length
    f.omics.set(
        1, RowFactory.create("S02", java.util.Arrays.asList(1f, null, 2f, 3f))); // null element
    f.omics.set(
        2,
        RowFactory.create(
            "S03", java.util.Arrays.asList(1f, Float.POSITIVE_INFINITY, 2f, 3f))); // infinite
    f.omics.add(
        RowFactory.create(
            "S21", CohortFixture.floats(2, 4))); // subject rejected (bad label): unknown
    f.omics.add(
        RowFactory.create(
            "S21", CohortFixture.floats(3, 4))); // unknown, not a duplicate: its subject is unknown
    // imaging
    f.imaging.set(
        0, RowFactory.create("S01", CohortFixture.floats(1, 4), List.of(1, 4, 1))); // bad shape
    f.imaging.set(
        1, RowFactory.create("S02", CohortFixture.floats(1, 5), List.of(1, 2, 2))); // ragged
    // labs
    f.labs.add(RowFactory.create("S06", null, 1.0, 1.0)); // null time
    f.labs.add(RowFactory.create("S06", 20.0, 1.0, Double.NaN)); // non-finite channel
    f.labs.add(RowFactory.create("S07", 10.0, 9.0, 9.0)); // duplicate (subject, time)
    // notes
    f.notes.set(7, RowFactory.create("S08", null)); // null text
    String extra =
        "subjects { duplicates = first, classes = [\"0\", \"1\"] }\n"
            + "modalities.clinical.duplicates = \"latest:age\"\n"
            + "modalities.labs.duplicates = first\n"
            + "modalities.notes.checks { unreadable-file = reject }\n";
    String config = f.write(spark, dir, extra);
    Files.writeString(
        dir.resolve("notes").resolve("part-99999-garbage.parquet"), "this is not parquet");
    IngestResult result =
        IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute();
    QcReport qc = result.qc();

    assertEquals(
        Map.of(
            "NULL_ID", 1L, "MALFORMED_ID", 1L, "DUPLICATE", 1L, "BAD_LABEL", 1L, "NO_MODALITY", 1L),
        qc.tables().get("subjects").rejected());
    assertEquals(
        Map.of("UNKNOWN_SUBJECT", 1L, "NON_FINITE", 1L, "DUPLICATE", 1L),
        qc.tables().get("clinical").rejected());
    assertEquals(
        Map.of("WRONG_LENGTH", 1L, "NULL_VALUE", 1L, "NON_FINITE", 1L, "UNKNOWN_SUBJECT", 2L),
        qc.tables().get("omics").rejected());
    assertEquals(
        Map.of("BAD_SHAPE", 1L, "WRONG_LENGTH", 1L), qc.tables().get("imaging").rejected());
    assertEquals(
        Map.of("NULL_VALUE", 1L, "NON_FINITE", 1L, "DUPLICATE", 1L),
        qc.tables().get("labs").rejected());
    assertEquals(Map.of("NULL_VALUE", 1L), qc.tables().get("notes").rejected());
    assertEquals(1, qc.tables().get("notes").unreadableFiles());
    assertEquals(20, qc.subjectsAligned());

    // rows in = accepted + rejected, and rows in = what is really in the readable input files.
    Map<String, Long> rawCounts =
        Map.of(
            "subjects",
            25L,
            "clinical",
            22L,
            "omics",
            22L,
            "imaging",
            20L,
            "labs",
            83L,
            "notes",
            20L);
    for (Map.Entry<String, QcReport.TableQc> e : qc.tables().entrySet()) {
      QcReport.TableQc t = e.getValue();
      assertEquals(rawCounts.get(e.getKey()), t.rowsIn(), e.getKey());
      assertEquals(t.rowsIn(), t.accepted() + t.rejectedTotal(), e.getKey());
    }
    // 20 accepted subjects with labs at 10, 50, 90 (used) and 150 (after index time, accepted but
    // not used).
    assertEquals(20, qc.tables().get("labs").afterIndexTime());

    // The rejects table holds exactly the counted rows, plus one row for the unreadable file.
    Dataset<Row> rejects = spark.read().parquet(result.cohortDir() + "/rejects");
    Map<String, Long> byTableReason = new HashMap<>();
    rejects
        .groupBy("source_table", "reason")
        .count()
        .collectAsList()
        .forEach(r -> byTableReason.put(r.getString(0) + "/" + r.getString(1), r.getLong(2)));
    long counted = qc.tables().values().stream().mapToLong(QcReport.TableQc::rejectedTotal).sum();
    assertEquals(counted + 1, rejects.count());
    assertEquals(1L, byTableReason.get("notes/UNREADABLE_FILE"));
    assertEquals(1L, byTableReason.get("clinical/NON_FINITE"));
    Row nonFinite =
        rejects
            .filter(
                col("source_table").equalTo("clinical").and(col("reason").equalTo("NON_FINITE")))
            .first();
    assertEquals("S03", nonFinite.getAs("row_key"));
    assertTrue(nonFinite.<String>getAs("message").contains("'age'"));
    assertTrue(nonFinite.<String>getAs("source_file").contains("clinical"));

    // Duplicate policies: latest:age kept S04's age 99; first kept S05's original row.
    Dataset<Row> aligned = spark.read().parquet(result.cohortDir() + "/aligned");
    assertEquals(
        99.0,
        aligned
            .filter(col("subject_id").equalTo("S04"))
            .select("clinical.age")
            .first()
            .getDouble(0));
    assertEquals(
        1, aligned.filter(col("subject_id").equalTo("S05")).select("label").first().getInt(0));
    // A rejected omics row leaves that subject without omics, not without the subject.
    assertFalse(
        aligned.filter(col("subject_id").equalTo("S01")).select("has_omics").first().getBoolean(0));
    assertTrue(
        aligned
            .filter(col("subject_id").equalTo("S01"))
            .select("has_clinical")
            .first()
            .getBoolean(0));
    assertEquals(0, aligned.filter(col("subject_id").isin("S21", "S22", "X99")).count());
  }

  @Test
  void errorPolicyStopsTheRunNamingTableFileAndColumn() {
    CohortFixture f = CohortFixture.valid(6);
    f.clinical.set(2, RowFactory.create("S03", Double.POSITIVE_INFINITY, "m"));
    IngestException e =
        assertThrows(
            IngestException.class,
            () -> ingest(f, "modalities.clinical.checks { non-finite = error }\n"));
    assertTrue(e.getMessage().contains("table 'clinical'"), e.getMessage());
    assertTrue(e.getMessage().contains("'age'"), e.getMessage());
    assertTrue(e.getMessage().contains("clinical/part-"), e.getMessage());
    assertFalse(
        e.getMessage().contains("S03"), "subject ids must not appear in errors: " + e.getMessage());
    assertFalse(Files.exists(dir.resolve("out").resolve("cohort")));
  }

  /**
   * Time series are de-duplicated and matched to their subjects per subject, on grouped
   * observations: the counts and the rejects table must still agree row for row.
   */
  @Test
  void timeSeriesDuplicatesAndUnknownSubjectsAreCountedAndListedRowForRow() {
    CohortFixture f = CohortFixture.valid(6);
    f.labs.add(RowFactory.create("X99", 10.0, 1.0, 1.0)); // unknown subject
    f.labs.add(
        RowFactory.create(
            "X99", 10.0, 2.0, 2.0)); // unknown, not a duplicate: its subject is unknown
    f.labs.add(RowFactory.create("S02", 90.0, 77.0, 5.0)); // latest:crp keeps this one (crp 5 > 2)
    f.labs.add(RowFactory.create("S03", 50.0, 88.0, 0.5)); // duplicate: the original has crp 3
    f.labs.add(
        RowFactory.create(
            "S04", 150.0, 1.0, 1.0)); // duplicate after index time: the original has crp 1000
    f.labs.add(RowFactory.create("S05", 90.0, 66.0, null)); // duplicate: a null crp comes last
    IngestResult result = ingest(f, "modalities.labs.duplicates = \"latest:crp\"\n");

    QcReport.TableQc labs = result.qc().tables().get("labs");
    assertEquals(Map.of("UNKNOWN_SUBJECT", 2L, "DUPLICATE", 4L), labs.rejected());
    assertEquals(24, labs.accepted());
    assertEquals(30, labs.rowsIn());
    assertEquals(6, labs.afterIndexTime());
    Dataset<Row> rejects =
        spark
            .read()
            .parquet(result.cohortDir() + "/rejects")
            .filter(col("source_table").equalTo("labs"));
    Map<String, String> reasonByKey = new HashMap<>();
    rejects
        .collectAsList()
        .forEach(
            r ->
                reasonByKey.merge(
                    r.<String>getAs("row_key"), r.<String>getAs("reason"), (a, b) -> a + "," + b));
    assertEquals(
        Map.of(
            "X99@10.0",
            "UNKNOWN_SUBJECT,UNKNOWN_SUBJECT",
            "S02@90.0",
            "DUPLICATE",
            "S03@50.0",
            "DUPLICATE",
            "S04@150.0",
            "DUPLICATE",
            "S05@90.0",
            "DUPLICATE"),
        reasonByKey);
    assertTrue(
        rejects
            .filter(col("reason").equalTo("DUPLICATE"))
            .first()
            .<String>getAs("message")
            .contains("latest:crp"));
    assertTrue(rejects.first().<String>getAs("source_file").contains("labs"));

    // The kept rows are those the tensors hold (steps = 4, channel-major: alb, then crp).
    Dataset<Row> aligned = spark.read().parquet(result.cohortDir() + "/aligned");
    assertEquals(List.of(0f, 3f, 7f, 77f), albSteps(aligned, "S02"));
    assertEquals(List.of(0f, 4f, 8f, 12f), albSteps(aligned, "S03"));
    assertEquals(List.of(0f, 6f, 10f, 14f), albSteps(aligned, "S05"));
  }

  @Test
  void timeSeriesDuplicatesAreAnErrorByDefault() {
    CohortFixture g = CohortFixture.valid(3);
    g.labs.add(RowFactory.create("S02", 50.0, 1.0, 1.0));
    IngestException e = assertThrows(IngestException.class, () -> ingest(g, ""));
    assertTrue(
        e.getMessage().contains("table 'labs'")
            && e.getMessage().contains("modalities.labs.duplicates"),
        e.getMessage());
    assertTrue(e.getMessage().contains("labs/part-"), e.getMessage());
  }

  private static List<Float> albSteps(Dataset<Row> aligned, String subject) {
    return aligned
        .filter(col("subject_id").equalTo(subject))
        .selectExpr("slice(labs.values, 1, 4)")
        .first()
        .getList(0);
  }

  @Test
  void duplicatesAreAnErrorByDefault() {
    CohortFixture f = CohortFixture.valid(6);
    f.notes.add(RowFactory.create("S02", "second note"));
    IngestException e = assertThrows(IngestException.class, () -> ingest(f, ""));
    assertTrue(
        e.getMessage().contains("table 'notes'") && e.getMessage().contains("duplicate"),
        e.getMessage());
    assertTrue(e.getMessage().contains("modalities.notes.duplicates"), e.getMessage());
  }

  @Test
  void unreadableFileIsAnErrorByDefault() throws Exception {
    CohortFixture f = CohortFixture.valid(4);
    String config = f.write(spark, dir, "");
    Files.writeString(dir.resolve("omics").resolve("part-00042-broken.parquet"), "PAR1 truncated");
    IngestException e =
        assertThrows(
            IngestException.class,
            () -> IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute());
    assertTrue(
        e.getMessage().contains("table 'omics'")
            && e.getMessage().contains("part-00042-broken.parquet"),
        e.getMessage());
  }

  @Test
  void schemaProblemsAreErrorsNamingTheColumn() {
    CohortFixture missing = CohortFixture.valid(3);
    IngestException e1 =
        assertThrows(
            IngestException.class,
            () -> ingest(missing, "modalities.notes.sql = \"SELECT subject_id FROM source\"\n"));
    assertTrue(e1.getMessage().contains("missing required column 'text'"), e1.getMessage());

    IngestException e2 =
        assertThrows(
            IngestException.class,
            () ->
                ingest(
                    CohortFixture.valid(3),
                    "modalities.imaging.sql = \"SELECT subject_id, CAST(pixels AS STRING) AS pixels FROM source\"\n"));
    assertTrue(e2.getMessage().contains("column 'pixels' has type string"), e2.getMessage());

    IngestException e3 =
        assertThrows(
            IngestException.class,
            () ->
                ingest(
                    CohortFixture.valid(3),
                    "modalities.imaging.sql = \"SELECT *, 1 AS extra FROM source\"\n"));
    assertTrue(e3.getMessage().contains("unexpected column 'extra'"), e3.getMessage());

    IngestException e4 =
        assertThrows(
            IngestException.class,
            () ->
                ingest(
                    CohortFixture.valid(3),
                    "modalities.omics.length = 5\nmodalities.omics.checks { wrong-length = error }\n"));
    assertTrue(e4.getMessage().contains("has 4 elements, expected 5"), e4.getMessage());
  }

  @Test
  void unknownCheckNameIsAnErrorNamingTheKey() {
    IngestException e =
        assertThrows(
            IngestException.class,
            () ->
                ingest(
                    CohortFixture.valid(3), "modalities.labs.checks { not-a-check = reject }\n"));
    assertTrue(e.getMessage().contains("modalities.labs.checks.not-a-check"), e.getMessage());
  }

  /**
   * A label column with more distinct values than classes allowed stops the run naming the column;
   * the one job that counts subjects and finds classes cuts its rows just above that limit, which
   * must still be caught.
   */
  @Test
  void aLabelWithTooManyDistinctValuesIsAnError() {
    int max = org.cohortfusion.config.SubjectsConfig.DEFAULT_MAX_CLASSES;
    int n = max + 20;
    IngestException e =
        assertThrows(
            IngestException.class,
            () ->
                ingest(
                    CohortFixture.valid(n),
                    "subjects.sql = \"SELECT subject_id, subject_id AS label, index_time, `group` FROM source\"\n"));
    assertTrue(
        e.getMessage().contains("table 'subjects'")
            && e.getMessage().contains("column 'label'")
            && e.getMessage().contains("more than subjects.max-classes = " + max),
        e.getMessage());
    assertFalse(Files.exists(dir.resolve("out").resolve("cohort")));
  }

  /**
   * The bound is configurable: 7 distinct labels pass a bound of 7 and fail a bound of 6, with the
   * count named.
   */
  @Test
  void theClassBoundIsConfigurable() {
    String idAsLabel =
        "subjects.sql = \"SELECT subject_id, subject_id AS label, index_time, `group` FROM source\"\n";
    IngestException e =
        assertThrows(
            IngestException.class,
            () -> ingest(CohortFixture.valid(7), idAsLabel + "subjects.max-classes = 6\n"));
    assertTrue(
        e.getMessage().contains("at least 7 distinct values, more than subjects.max-classes = 6"),
        e.getMessage());
    IngestResult ok = ingest(CohortFixture.valid(7), idAsLabel + "subjects.max-classes = 7\n");
    assertEquals(7, ok.manifest().classes().size());
  }
}
