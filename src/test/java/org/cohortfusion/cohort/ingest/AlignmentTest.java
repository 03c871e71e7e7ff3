package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Alignment by subject: the point-in-time rule, the tensor layout, presence and train-only
 * statistics.
 */
class AlignmentTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private Dataset<Row> ingest(CohortFixture f, String extra) {
    IngestResult r =
        IngestAction.of(spark, PipelineConfigLoader.parse(f.write(spark, dir, extra), List.of()))
            .execute();
    return spark.read().parquet(r.cohortDir() + "/" + CohortManifest.ALIGNED);
  }

  private static float[] floats(Row r, String field) {
    List<Float> l =
        r.getStruct(r.fieldIndex("labs"))
            .getList(r.getStruct(r.fieldIndex("labs")).fieldIndex(field));
    float[] out = new float[l.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = l.get(i);
    }
    return out;
  }

  @Test
  void timeSeriesNeverUsesObservationsAfterIndexTime() {
    CohortFixture f = CohortFixture.valid(4);
    // S04 has only observations after its index time: it has no labs at all.
    f.labs.removeIf(r -> r.getString(0).equals("S04") && r.getDouble(1) < 100);
    // S03's index time is 60: only the visits at 10 and 50 count.
    f.subjects.set(2, RowFactory.create("S03", 1, 60.0, "site-b"));
    Dataset<Row> aligned = ingest(f, "");

    Row s1 = aligned.filter(col("subject_id").equalTo("S01")).first();
    // T = 4, 3 observations at or before 100 (10, 50, 90): left-padded, oldest to newest.
    assertArrayEquals(new float[] {0, 1, 1, 1}, floats(s1, "step_mask"));
    assertArrayEquals(new float[] {0, 90, 50, 10}, floats(s1, "delta_time"));
    // values channel-major: alb = t/10 + 1, crp = 1 (the post-index crp of 1000 never appears).
    assertArrayEquals(new float[] {0, 2, 6, 10, 0, 1, 1, 1}, floats(s1, "values"));
    assertArrayEquals(new float[] {0, 1, 1, 1, 0, 1, 1, 1}, floats(s1, "observed"));

    Row s3 = aligned.filter(col("subject_id").equalTo("S03")).first();
    assertArrayEquals(new float[] {0, 0, 1, 1}, floats(s3, "step_mask"));
    assertArrayEquals(new float[] {0, 0, 50, 10}, floats(s3, "delta_time"));

    Row s4 = aligned.filter(col("subject_id").equalTo("S04")).first();
    assertFalse(s4.<Boolean>getAs("has_labs"));
    assertTrue(s4.isNullAt(s4.fieldIndex("labs")));
    // Across the cohort: no step ever looks past the index time.
    assertEquals(0, aligned.filter("exists(labs.delta_time, d -> d < 0)").count());
    assertEquals(0, aligned.filter("exists(labs.values, v -> v >= 1000)").count());
  }

  @Test
  void timeBinsAverageWithinFixedWindowsEndingAtIndexTime() {
    CohortFixture f = CohortFixture.valid(2);
    f.labs.add(
        RowFactory.create("S01", 80.0, 100.0, 3.0)); // shares bin 0 (60, 100] with the visit at 90
    Dataset<Row> aligned = ingest(f, "modalities.labs { steps = 3, bin-width = 40 }\n");
    Row s1 = aligned.filter(col("subject_id").equalTo("S01")).first();
    // bins oldest first: (-20, 20] holds t=10, (20, 60] holds t=50, (60, 100] holds t=80 and t=90.
    assertArrayEquals(new float[] {1, 1, 1}, floats(s1, "step_mask"));
    assertArrayEquals(new float[] {2, 6, (10 + 100) / 2f, 1, 1, 2}, floats(s1, "values"), 1e-5f);
  }

  /**
   * The cohort holds what the README lists and nothing more: no stats.json (pretrain fits the
   * train-split statistics itself, see PreprocessingFitter).
   */
  @Test
  void theCohortHoldsItsDocumentedOutputsAndNoStatistics() throws Exception {
    ingest(CohortFixture.valid(10), "");
    java.util.Set<String> names;
    try (java.util.stream.Stream<Path> files =
        java.nio.file.Files.list(dir.resolve("out/cohort"))) {
      names =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> !n.startsWith(".") && !n.startsWith("_"))
              .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
    }
    assertEquals(
        new java.util.TreeSet<>(
            List.of(
                CohortManifest.ALIGNED,
                CohortManifest.REJECTS,
                CohortManifest.QC_JSON,
                CohortManifest.QC_TEXT,
                CohortManifest.FILE)),
        names);
    assertFalse(names.contains("stats.json"));
  }

  @Test
  void floatArraysAreWrittenWithoutDictionaryEncoding() throws Exception {
    // Enough subjects that every written file holds many rows: a writer keeps a dictionary only
    // where it pays, and the cohort is written in one file per partition.
    ingest(CohortFixture.valid(200), "");
    java.nio.file.Path file;
    try (var files =
        java.nio.file.Files.list(dir.resolve("out/cohort/" + CohortManifest.ALIGNED))) {
      file =
          files
              .filter(p -> p.toString().endsWith(".parquet"))
              .max(java.util.Comparator.comparingLong(p -> p.toFile().length()))
              .orElseThrow();
    }
    java.util.Map<String, java.util.Set<org.apache.parquet.column.Encoding>> encodings =
        new java.util.HashMap<>();
    try (var reader =
        org.apache.parquet.hadoop.ParquetFileReader.open(
            org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(file.toString()),
                spark.sparkContext().hadoopConfiguration()))) {
      reader
          .getFooter()
          .getBlocks()
          .get(0)
          .getColumns()
          .forEach(c -> encodings.put(c.getPath().toDotString(), c.getEncodings()));
    }
    for (String arrayColumn :
        List.of("omics.list.element", "imaging.list.element", "labs.values.list.element")) {
      assertTrue(encodings.containsKey(arrayColumn), arrayColumn + " among " + encodings.keySet());
      assertFalse(
          encodings.get(arrayColumn).stream()
              .anyMatch(org.apache.parquet.column.Encoding::usesDictionary),
          arrayColumn + ": " + encodings.get(arrayColumn));
    }
    // Everything else keeps the writer's default, a dictionary.
    assertTrue(
        encodings.get("split").stream()
            .anyMatch(org.apache.parquet.column.Encoding::usesDictionary),
        "split: " + encodings.get("split"));
  }

  @Test
  void stratifiedSplitsCutEveryClassAndTheUnlabeledByRank() {
    // The fixture's splits: seed 5, 60/20/20, stratified. Every 7th subject is unlabeled, a stratum
    // of its own.
    CohortFixture f = CohortFixture.valid(150);
    f.subjects.replaceAll(
        r ->
            Integer.parseInt(r.getString(0).substring(1)) % 7 == 0
                ? RowFactory.create(r.get(0), null, r.get(2), r.get(3))
                : r);
    Dataset<Row> aligned = ingest(f, "");
    java.util.Map<String, String> actual = splitsOf(aligned);
    assertEquals(150, actual.size());
    assertEquals(21, aligned.filter(col("label").isNull()).count());
    assertEquals(rankRuleSplits(aligned), actual);
  }

  /**
   * A subject's second row is a duplicate with duplicates = first: its label must count nowhere,
   * neither as a class nor in the strata the splits are cut by. Ingest finds duplicate ids with a
   * count per id and otherwise summarises the rows as they are; a miss would show here as a class
   * "5" and splits cut over rows that are not in the cohort.
   */
  @Test
  void aDuplicateSubjectRowGivesNoClassAndNoStratum() {
    CohortFixture f = CohortFixture.valid(150);
    List<Row> duplicates =
        f.subjects.stream()
            .filter(r -> Integer.parseInt(r.getString(0).substring(1)) % 5 == 0)
            .map(r -> RowFactory.create(r.get(0), 5, r.get(2), r.get(3)))
            .toList();
    f.subjects.addAll(duplicates);
    IngestResult result =
        IngestAction.of(
                spark,
                PipelineConfigLoader.parse(
                    f.write(spark, dir, "subjects.duplicates = first\n"), List.of()))
            .execute();
    assertEquals(
        java.util.Map.of("DUPLICATE", (long) duplicates.size()),
        result.qc().tables().get("subjects").rejected());
    assertEquals(List.of("0", "1"), result.manifest().classes());
    Dataset<Row> aligned = spark.read().parquet(result.cohortDir() + "/" + CohortManifest.ALIGNED);
    assertEquals(0, aligned.filter(col("label").isNull()).count());
    java.util.Map<String, String> actual = splitsOf(aligned);
    assertEquals(150, actual.size());
    assertEquals(rankRuleSplits(aligned), actual);
  }

  /**
   * The stratified cuts from the u values the subjects' count job brings along (the buckets near
   * the expected cuts, which large cohorts cut in): subjects are chosen by their u so that in both
   * classes the train and validation cuts fall in those buckets, and the splits must still equal
   * the rank rule.
   */
  @Test
  void stratifiedCutsFromTheValuesNearTheExpectedCutsEqualTheRankRule() {
    Dataset<Row> candidates =
        spark
            .range(40_000)
            .selectExpr("format_string('B%06d', id) AS subject_id")
            .withColumn("u", SplitAssigner.uniform(5, "split"));
    // Per class: 75 subjects below the band of the train cut, 30 in it, 15 between, 30 in the band
    // of the validation cut: of 150, ranks 90 and 120 are the first of validation and of test.
    double bucket = 1.0 / SplitAssigner.SPLIT_BUCKETS;
    int trainCut = (int) Math.floor(0.6 * SplitAssigner.SPLIT_BUCKETS);
    int validationCut = (int) Math.floor(0.8 * SplitAssigner.SPLIT_BUCKETS);
    double[][] ranges = {
      {0, 0.58},
      {(trainCut - SplitAssigner.BAND) * bucket, (trainCut + SplitAssigner.BAND + 1) * bucket},
      {0.62, 0.78},
      {
        (validationCut - SplitAssigner.BAND) * bucket,
        (validationCut + SplitAssigner.BAND + 1) * bucket
      }
    };
    int[] perClass = {75, 30, 15, 30};
    List<String> ids = new java.util.ArrayList<>();
    for (int k = 0; k < ranges.length; k++) {
      candidates
          .filter(col("u").geq(ranges[k][0]).and(col("u").lt(ranges[k][1])))
          .orderBy("subject_id")
          .limit(2 * perClass[k])
          .collectAsList()
          .forEach(r -> ids.add(r.getString(0)));
    }
    assertEquals(300, ids.size());
    Dataset<Row> aligned = ingest(CohortFixture.valid(ids), "");
    java.util.Map<String, String> actual = splitsOf(aligned);
    assertEquals(300, actual.size());
    assertEquals(
        java.util.Map.of("train", 180L, "validation", 60L, "test", 60L),
        actual.values().stream()
            .collect(
                java.util.stream.Collectors.groupingBy(
                    v -> v, java.util.stream.Collectors.counting())));
    assertEquals(rankRuleSplits(aligned), actual);
  }

  private static java.util.Map<String, String> splitsOf(Dataset<Row> aligned) {
    return aligned.select("subject_id", "split").collectAsList().stream()
        .collect(java.util.stream.Collectors.toMap(r -> r.getString(0), r -> r.getString(1)));
  }

  /**
   * The fixture's stratified splits by their definition: rank by (u, subject_id) within each label,
   * (rank + 0.5) / n cut at 0.6 and 0.8.
   */
  private static java.util.Map<String, String> rankRuleSplits(Dataset<Row> aligned) {
    org.apache.spark.sql.expressions.WindowSpec byLabel =
        org.apache.spark.sql.expressions.Window.partitionBy("label");
    return aligned
        .select("subject_id", "label")
        .withColumn("_u", SplitAssigner.uniform(5, "split"))
        .withColumn(
            "_r",
            org.apache
                .spark
                .sql
                .functions
                .row_number()
                .over(byLabel.orderBy("_u", "subject_id"))
                .minus(1))
        .withColumn(
            "_n",
            org.apache
                .spark
                .sql
                .functions
                .count(org.apache.spark.sql.functions.lit(1))
                .over(byLabel))
        .selectExpr(
            "subject_id",
            "CASE WHEN (_r + 0.5) / _n < 0.6 THEN 'train' WHEN (_r + 0.5) / _n < 0.8 THEN 'validation' ELSE 'test' END")
        .collectAsList()
        .stream()
        .collect(java.util.stream.Collectors.toMap(r -> r.getString(0), r -> r.getString(1)));
  }

  @Test
  void presenceMaskAndManifestDescribeTheModalities() {
    CohortFixture f = CohortFixture.valid(5);
    f.notes.removeIf(r -> r.getString(0).equals("S02"));
    Dataset<Row> aligned = ingest(f, "");
    assertEquals(4, aligned.filter(col("has_notes")).count());
    assertEquals(5, aligned.filter(col("has_clinical")).count());
    CohortManifest m =
        CohortManifest.read(
            spark.sparkContext().hadoopConfiguration(), dir.resolve("out/cohort").toString());
    assertEquals(
        List.of("clinical", "imaging", "labs", "notes", "omics"),
        m.modalities().stream().map(s -> s.name()).toList());
    assertEquals(List.of("alb", "crp"), m.modalities().get(2).channels());
    assertEquals(List.of("0", "1"), m.classes());
    assertEquals(64, m.inputFingerprint().length());
  }
}
