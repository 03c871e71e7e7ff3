package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.QcReport;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input that would otherwise change the science quietly: subjects without a finite prediction
 * time, time units mixed up, degenerate cohorts. Each test plants the defect in the fixture and
 * counts its expected outcome by hand.
 */
class IngestGuardsTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private IngestResult ingest(CohortFixture f, String extra) {
    PipelineConfig config = PipelineConfigLoader.parse(f.write(spark, dir, extra), List.of());
    return IngestAction.of(spark, config).execute();
  }

  private static List<String> codes(QcReport qc) {
    return qc.warnings().stream().map(QcReport.Warning::code).toList();
  }

  @Test
  void subjectsWithoutAFiniteIndexTimeAreRejectedAndNoneOfTheirVisitsIsUsed() {
    CohortFixture f = CohortFixture.valid(8);
    f.subjects.set(1, RowFactory.create("S02", 0, null, "site-a"));
    f.subjects.set(2, RowFactory.create("S03", 1, Double.NaN, "site-b"));
    f.subjects.set(3, RowFactory.create("S04", 0, Double.POSITIVE_INFINITY, "site-a"));
    IngestResult result = ingest(f, "");

    // 8 subjects in: 3 planted bad index times, 5 accepted; their 3 x 4 lab rows have no accepted
    // subject.
    QcReport.TableQc subjects = result.qc().tables().get("subjects");
    assertEquals(8, subjects.rowsIn());
    assertEquals(5, subjects.accepted());
    assertEquals(Map.of("BAD_INDEX_TIME", 3L), subjects.rejected());
    QcReport.TableQc labs = result.qc().tables().get("labs");
    assertEquals(Map.of("UNKNOWN_SUBJECT", 12L), labs.rejected());
    assertEquals(labs.rowsIn(), labs.accepted() + labs.rejectedTotal());

    Dataset<Row> rejects =
        spark
            .read()
            .parquet(result.cohortDir() + "/" + CohortManifest.REJECTS)
            .filter(col("reason").equalTo("BAD_INDEX_TIME"));
    assertEquals(
        List.of("S02", "S03", "S04"),
        rejects.orderBy("row_key").collectAsList().stream()
            .map(r -> r.<String>getAs("row_key"))
            .toList());
    Row first = rejects.first();
    assertEquals("subjects", first.getAs("source_table"));
    assertTrue(
        first.<String>getAs("source_file").contains("subjects/part-"),
        first.<String>getAs("source_file"));
    assertTrue(
        first.<String>getAs("message").contains("'index_time'"), first.<String>getAs("message"));

    Dataset<Row> aligned = spark.read().parquet(result.cohortDir() + "/" + CohortManifest.ALIGNED);
    assertEquals(5, aligned.count());
    assertEquals(0, aligned.filter(col("subject_id").isin("S02", "S03", "S04")).count());
    assertEquals(
        0,
        aligned
            .filter("index_time IS NULL OR isnan(index_time) OR abs(index_time) = double('inf')")
            .count());
    // The planted post-index visits (crp 1000 at time 150) never reach a tensor.
    assertEquals(
        0,
        aligned
            .filter(
                "exists(labs.values, v -> v >= 1000) OR exists(labs.delta_time, d -> d < 0 OR isnan(d))")
            .count());
  }

  /**
   * A generated cohort plants lab visits after the index time that leak the label. With every fifth
   * subject's index time nulled by the mapping, those subjects are rejected, and the tensors hold
   * exactly the raw visits at or before their subject's index time, counted here from the raw
   * tables.
   */
  @Test
  void inAGeneratedCohortNullIndexTimesNeverBringBackThePostIndexVisits() {
    Path input = dir.resolve("generated");
    new org.cohortfusion.cohort.generate.SyntheticCohortGenerator()
        .generate(
            spark,
            org.cohortfusion.cohort.generate.GenerateOptions.defaults()
                .withSubjects(200)
                .withSeed(11)
                .withPartitions(2)
                .withMaxLabVisits(6),
            input.toString());
    String nulled = "pmod(hash(subject_id), 5) = 0";
    String config =
        "name = generated\ncohort-dir = \""
            + input
            + "\"\n"
            + "subjects { path = subjects, sql = \"SELECT subject_id, label, CASE WHEN "
            + nulled
            + " THEN CAST(NULL AS DOUBLE) ELSE index_time END AS index_time, `group`, true_probability FROM source\" }\n"
            + "modalities { labs { kind = timeseries, path = labs, steps = 64 } }\n"
            + "output { dir = \""
            + dir.resolve("out")
            + "\" }\n";
    IngestResult result =
        IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute();

    Dataset<Row> subjects = spark.read().parquet(input.resolve("subjects").toString());
    long planted = subjects.filter(nulled).count();
    assertTrue(planted > 0, "the mapping must null some index times");
    assertEquals(planted, result.qc().tables().get("subjects").rejected().get("BAD_INDEX_TIME"));

    Dataset<Row> labs = spark.read().parquet(input.resolve("labs").toString());
    Dataset<Row> kept = subjects.filter("NOT (" + nulled + ")").select("subject_id", "index_time");
    long before = labs.join(kept, "subject_id").filter("time <= index_time").count();
    long after = labs.join(kept, "subject_id").filter("time > index_time").count();
    assertTrue(after > 0, "the generator must plant post-index visits");
    Dataset<Row> aligned = spark.read().parquet(result.cohortDir() + "/" + CohortManifest.ALIGNED);
    assertEquals(0, aligned.filter(nulled).count());
    assertEquals(
        before,
        aligned
            .selectExpr("aggregate(labs.step_mask, 0D, (a, x) -> a + x) AS n")
            .selectExpr("sum(n)")
            .first()
            .getDouble(0),
        1e-9);
    assertEquals(after, result.qc().tables().get("labs").afterIndexTime());
  }

  @Test
  void aBadIndexTimeIsAnErrorWhenConfiguredSo() {
    CohortFixture f = CohortFixture.valid(5);
    f.subjects.set(3, RowFactory.create("S04", 0, Double.NaN, "site-a"));
    IngestException e =
        assertThrows(
            IngestException.class, () -> ingest(f, "subjects.checks { bad-index-time = error }\n"));
    assertTrue(
        e.getMessage().contains("table 'subjects'")
            && e.getMessage().contains("'index_time'")
            && e.getMessage().contains("subjects/part-")
            && e.getMessage().contains("BAD_INDEX_TIME"),
        e.getMessage());
    assertFalse(e.getMessage().contains("S04"), "no subject id in errors: " + e.getMessage());
    assertFalse(Files.exists(dir.resolve("out/cohort")));
  }

  /** The fixture's config without its time-series modality. */
  private IngestResult ingestWithoutTimeSeries(CohortFixture f, String extra) {
    String config =
        f.write(spark, dir, extra)
            .replace("  labs { kind = timeseries, path = labs, steps = 4 }\n", "");
    assertFalse(config.contains("timeseries"), config);
    return IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute();
  }

  @Test
  void withoutTimeSeriesANonFiniteIndexTimeIsRejectedAndANullOneKept() throws Exception {
    CohortFixture f = CohortFixture.valid(8);
    f.subjects.set(1, RowFactory.create("S02", 0, Double.NaN, "site-a"));
    f.subjects.set(2, RowFactory.create("S03", 1, Double.POSITIVE_INFINITY, "site-b"));
    f.subjects.set(3, RowFactory.create("S04", 0, Double.NEGATIVE_INFINITY, "site-a"));
    f.subjects.set(4, RowFactory.create("S05", 1, null, "site-a"));
    IngestResult result = ingestWithoutTimeSeries(f, "");
    QcReport.TableQc subjects = result.qc().tables().get("subjects");
    assertEquals(8, subjects.rowsIn());
    assertEquals(5, subjects.accepted());
    assertEquals(Map.of("BAD_INDEX_TIME", 3L), subjects.rejected());
    assertEquals(Map.of("UNKNOWN_SUBJECT", 3L), result.qc().tables().get("clinical").rejected());

    Dataset<Row> aligned = spark.read().parquet(result.cohortDir() + "/aligned");
    assertEquals(5, aligned.count());
    assertEquals(
        0,
        aligned
            .filter(
                org.apache
                    .spark
                    .sql
                    .functions
                    .isnan(col("index_time"))
                    .or(col("index_time").equalTo(Double.POSITIVE_INFINITY))
                    .or(col("index_time").equalTo(Double.NEGATIVE_INFINITY)))
            .count());
    assertTrue(
        aligned.filter(col("subject_id").equalTo("S05")).select("index_time").first().isNullAt(0));
    List<Row> rejected =
        spark
            .read()
            .parquet(result.cohortDir() + "/rejects")
            .filter(col("reason").equalTo("BAD_INDEX_TIME"))
            .collectAsList();
    assertEquals(3, rejected.size());
    rejected.forEach(
        r ->
            assertTrue(
                r.<String>getAs("message").startsWith("column 'index_time' is NaN or infinite"),
                r.<String>getAs("message")));

    // With the error policy: the run stops naming table, file and column, and nothing is published.
    java.nio.file.Path out = dir.resolve("out/cohort");
    deleteRecursively(out);
    IngestException e =
        assertThrows(
            IngestException.class,
            () -> ingestWithoutTimeSeries(f, "subjects.checks { bad-index-time = error }\n"));
    assertTrue(
        e.getMessage().contains("table 'subjects'")
            && e.getMessage().contains("'index_time'")
            && e.getMessage().contains("subjects/part-")
            && e.getMessage().contains("BAD_INDEX_TIME"),
        e.getMessage());
    assertFalse(Files.exists(out));
  }

  private static void deleteRecursively(Path p) throws Exception {
    if (Files.exists(p)) {
      try (Stream<Path> files = Files.walk(p)) {
        for (Path q : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(q);
        }
      }
    }
  }

  @Test
  void aCohortWithTimeSeriesNeedsAnIndexTimeColumn() {
    IngestException e =
        assertThrows(
            IngestException.class,
            () ->
                ingest(
                    CohortFixture.valid(3),
                    "subjects.sql = \"SELECT subject_id, label, `group` FROM source\"\n"));
    assertTrue(
        e.getMessage().contains("table 'subjects'")
            && e.getMessage().contains("no column 'index_time'")
            && e.getMessage().contains("[labs]"),
        e.getMessage());
  }

  @Test
  void labTimesInMillisecondsAgainstIndexTimesInDaysAreWarnedAbout() {
    CohortFixture f = CohortFixture.valid(6);
    // Every lab time in ms since the epoch of the index time's day count: all 6 x 4 observations
    // after index.
    f.labs.replaceAll(
        r -> RowFactory.create(r.get(0), r.getDouble(1) * 86_400_000.0, r.get(2), r.get(3)));
    IngestResult result = ingest(f, "");
    assertEquals(24, result.qc().tables().get("labs").afterIndexTime());
    assertTrue(
        codes(result.qc())
            .containsAll(List.of("TIME_AFTER_INDEX", "TIME_RANGES_APART", "EMPTY_MODALITY")),
        codes(result.qc()).toString());
    QcReport.Warning after =
        result.qc().warnings().stream()
            .filter(w -> w.code().equals("TIME_AFTER_INDEX"))
            .findFirst()
            .orElseThrow();
    assertEquals("labs", after.table());
    assertTrue(
        after.message().contains("24 of 24 accepted observations (100.0%)"), after.message());
    assertTrue(
        result.summary().contains("WARNINGS") && result.summary().contains("TIME_AFTER_INDEX"),
        result.summary());
    // The warnings are published in qc.json too.
    QcReport published =
        QcReport.read(spark.sparkContext().hadoopConfiguration(), result.cohortDir());
    assertEquals(result.qc().warnings(), published.warnings());
  }

  @Test
  void indexTimesInMillisecondsAgainstLabTimesInDaysAreWarnedAbout() {
    CohortFixture f = CohortFixture.valid(6);
    f.subjects.replaceAll(
        r -> RowFactory.create(r.get(0), r.get(1), r.getDouble(2) * 86_400_000.0, r.get(3)));
    IngestResult result = ingest(f, "");
    // Every visit is before index now: none after, but the ranges lie far apart.
    assertEquals(0, result.qc().tables().get("labs").afterIndexTime());
    assertEquals(List.of("TIME_RANGES_APART"), codes(result.qc()));
  }

  /** The range rule on hand-made ranges: unit mix-ups are apart, ordinary designs are not. */
  @Test
  void timeRangesApartOnlyWhenTheyLookLikeTwoUnits() {
    // Labs in ms since enrolment [10 d, 150 d], index times in days [100, 100].
    assertTrue(
        new ModalityJoin.TimeRanges(10 * 86_400_000.0, 150 * 86_400_000.0, 100, 100).apart());
    // Labs in days [10, 150], index times in ms.
    assertTrue(
        new ModalityJoin.TimeRanges(10, 150, 100 * 86_400_000.0, 300 * 86_400_000.0).apart());
    // Overlapping ranges.
    assertFalse(new ModalityJoin.TimeRanges(10, 150, 100, 100).apart());
    // A landmark design: visits over [0, 300] days, all before one index time of 365.
    assertFalse(new ModalityJoin.TimeRanges(0, 300, 365, 365).apart());
    // Times counted back from an index time of 0.
    assertFalse(new ModalityJoin.TimeRanges(-300, -10, 0, 0).apart());
  }

  @Test
  void aCleanCohortHasNoWarnings() {
    IngestResult result = ingest(CohortFixture.valid(6), "");
    assertEquals(List.of(), result.qc().warnings());
    assertFalse(result.summary().contains("WARNINGS"));
  }

  @Test
  void anEmptySubjectsTableIsAnErrorAndKeepsThePublishedCohort() throws Exception {
    IngestResult good = ingest(CohortFixture.valid(6), "");
    Path cohort = Path.of(good.cohortDir().replaceFirst("^file:", ""));
    Map<String, String> before = digests(cohort);
    assertFalse(before.isEmpty());

    CohortFixture empty = CohortFixture.valid(6);
    empty.subjects.clear();
    IngestException e = assertThrows(IngestException.class, () -> ingest(empty, ""));
    assertTrue(
        e.getMessage().startsWith("Cannot publish cohort: ")
            && e.getMessage().contains("table 'subjects'")
            && e.getMessage().contains("column 'label'")
            && e.getMessage().contains("0 rows in")
            && e.getMessage().contains("--allow-empty"),
        e.getMessage());

    assertEquals(before, digests(cohort));
    assertEquals(6, spark.read().parquet(cohort + "/" + CohortManifest.ALIGNED).count());
    try (Stream<Path> siblings = Files.list(cohort.getParent())) {
      assertEquals(List.of("cohort"), siblings.map(p -> p.getFileName().toString()).toList());
    }
  }

  /**
   * Allowed, an empty cohort is published with every modality row accounted for as of an unknown
   * subject.
   */
  @Test
  void anEmptySubjectsTableIsPublishedWhenAllowedWithExactAccounting() {
    CohortFixture f = CohortFixture.valid(5);
    // 2 non-finite clinical rows keep their own reason; every other row has no accepted subject.
    f.clinical.set(0, RowFactory.create("S01", Double.NaN, "m"));
    f.clinical.set(1, RowFactory.create("S02", Double.NaN, "f"));
    IngestResult result =
        ingest(
            f, "output.allow-empty = true\nsubjects.sql = \"SELECT * FROM source WHERE false\"\n");
    assertEquals(0, result.qc().subjectsAligned());
    assertEquals(0, result.qc().tables().get("subjects").rowsIn());
    assertEquals(
        Map.of("NON_FINITE", 2L, "UNKNOWN_SUBJECT", 3L),
        result.qc().tables().get("clinical").rejected());
    assertEquals(Map.of("UNKNOWN_SUBJECT", 20L), result.qc().tables().get("labs").rejected());
    result
        .qc()
        .tables()
        .forEach((name, t) -> assertEquals(t.rowsIn(), t.accepted() + t.rejectedTotal(), name));
    assertEquals(
        5 + 5 + 5 + 20 + 5,
        spark.read().parquet(result.cohortDir() + "/" + CohortManifest.REJECTS).count());
    assertEquals(5, codes(result.qc()).stream().filter(c -> c.equals("EMPTY_MODALITY")).count());
  }

  @Test
  void subjectsWithoutAnyLabelAreAnErrorUnlessAllowed() {
    CohortFixture f = CohortFixture.valid(5);
    f.subjects.replaceAll(r -> RowFactory.create(r.get(0), null, r.get(2), r.get(3)));
    IngestException e = assertThrows(IngestException.class, () -> ingest(f, ""));
    assertTrue(
        e.getMessage().startsWith("Cannot publish cohort: ")
            && e.getMessage().contains("5 accepted"),
        e.getMessage());
    assertFalse(Files.exists(dir.resolve("out/cohort")));

    IngestResult allowed = ingest(f, "output.allow-empty = true\n");
    assertEquals(5, allowed.qc().subjectsAligned());
  }

  @Test
  void anEmptyOrFullyRejectedModalityAndASingleClassAreWarnedAbout() {
    CohortFixture f = CohortFixture.valid(6);
    f.notes.clear();
    f.clinical.replaceAll(r -> RowFactory.create(r.get(0), Double.NaN, r.get(2)));
    f.subjects.replaceAll(r -> RowFactory.create(r.get(0), 1, r.get(2), r.get(3)));
    IngestResult result = ingest(f, "");
    Map<String, String> byTable = new TreeMap<>();
    result
        .qc()
        .warnings()
        .forEach(
            w -> byTable.merge(w.table(), w.code() + ": " + w.message(), (a, b) -> a + " | " + b));
    assertEquals(
        List.of("clinical", "notes", "subjects"),
        List.copyOf(byTable.keySet()),
        byTable.toString());
    assertTrue(
        byTable.get("notes").contains("EMPTY_MODALITY")
            && byTable.get("notes").contains("the table is empty"),
        byTable.get("notes"));
    assertTrue(
        byTable.get("clinical").contains("all 6 rows were rejected {NON_FINITE=6}"),
        byTable.get("clinical"));
    assertTrue(
        byTable.get("subjects").contains("SINGLE_CLASS")
            && byTable.get("subjects").contains("all 6 labeled subjects"),
        byTable.get("subjects"));
  }

  /** File path (relative to {@code root}) to SHA-256 of its bytes, for every file under root. */
  private static Map<String, String> digests(Path root) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        out.put(
            root.relativize(p).toString(),
            HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
      }
    }
    return out;
  }
}
