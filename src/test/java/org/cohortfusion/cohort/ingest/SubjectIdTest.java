package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.spark.internal.Utf8Ids;
import org.cohortfusion.stage.QcReport;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ids as data engineers deliver them: bytes that are not UTF-8, stray whitespace. */
class SubjectIdTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  /**
   * Appends one Parquet file to a table whose subject_id holds these raw bytes (a string column, as
   * Spark writes it).
   */
  private void appendWithRawIds(Path table, StructType schema, List<Row> rows) {
    StructType raw = new StructType().add("raw_id", DataTypes.BinaryType);
    for (var f : schema.fields()) {
      if (!f.name().equals("subject_id")) {
        raw = raw.add(f);
      }
    }
    List<org.apache.spark.sql.Column> columns = new java.util.ArrayList<>();
    for (var f : schema.fields()) {
      columns.add(
          f.name().equals("subject_id")
              ? col("raw_id").cast("string").as("subject_id")
              : col(f.name()));
    }
    spark
        .createDataFrame(rows, raw)
        .select(columns.toArray(new org.apache.spark.sql.Column[0]))
        .coalesce(1)
        .write()
        .mode(SaveMode.Append)
        .parquet(table.toString());
  }

  @Test
  void idsThatAreNotUtf8AreRejectedAsMalformedAndNeverCollide() throws Exception {
    CohortFixture f = CohortFixture.valid(8);
    String config = f.write(spark, dir, "");
    // Two ids that differ only in an invalid byte: decoded, both become "X0\uFFFD1".
    byte[] first = {'X', '0', (byte) 0xFF, '1'};
    byte[] second = {'X', '0', (byte) 0xFE, '1'};
    byte[] overlong = {'X', (byte) 0xC0, (byte) 0xAF};
    appendWithRawIds(
        dir.resolve("subjects"),
        CohortFixture.SUBJECTS,
        List.of(
            RowFactory.create(first, 1, 100.0, "site-a"),
            RowFactory.create(second, 0, 100.0, "site-a"),
            RowFactory.create(overlong, 0, 100.0, "site-b")));
    appendWithRawIds(
        dir.resolve("clinical"),
        CohortFixture.CLINICAL,
        List.of(RowFactory.create(first, 50.0, "f"), RowFactory.create(second, 51.0, "m")));
    appendWithRawIds(
        dir.resolve("notes"), CohortFixture.NOTES, List.of(RowFactory.create(overlong, "a note")));

    IngestResult result =
        IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute();
    QcReport qc = result.qc();
    assertEquals(Map.of("MALFORMED_ID", 3L), qc.tables().get("subjects").rejected());
    assertEquals(Map.of("MALFORMED_ID", 2L), qc.tables().get("clinical").rejected());
    assertEquals(Map.of("MALFORMED_ID", 1L), qc.tables().get("notes").rejected());
    assertEquals(11, qc.tables().get("subjects").rowsIn());
    assertEquals(8, qc.tables().get("subjects").accepted());
    assertEquals(8, qc.subjectsAligned());

    Dataset<Row> aligned = spark.read().parquet(result.cohortDir() + "/aligned");
    assertEquals(8, aligned.count());
    assertEquals(0, aligned.filter(col("subject_id").startsWith("X")).count());
    Dataset<Row> rejects = spark.read().parquet(result.cohortDir() + "/rejects");
    List<Row> malformed = rejects.filter(col("reason").equalTo("MALFORMED_ID")).collectAsList();
    assertEquals(6, malformed.size());
    for (Row r : malformed) {
      String message = r.getAs("message");
      assertTrue(message.contains("'subject_id'") && message.contains("not valid UTF-8"), message);
      assertTrue(
          r.<String>getAs("source_file").contains(r.<String>getAs("source_table")),
          r.<String>getAs("source_file"));
    }
  }

  /**
   * A CSV file is decoded as it is read, invalid bytes to U+FFFD: two ids that differ only there
   * would collide, so an id holding U+FFFD is malformed (without the rule: UNKNOWN_SUBJECT here).
   */
  @Test
  void csvIdsThatWereNotUtf8AreRejectedAsMalformed() throws Exception {
    String base = CohortFixture.valid(6).write(spark, dir, "");
    Path clinical = dir.resolve("clinical-csv");
    java.nio.file.Files.createDirectories(clinical);
    java.io.ByteArrayOutputStream csv = new java.io.ByteArrayOutputStream();
    csv.writeBytes("subject_id,age,sex\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    for (int i = 1; i <= 6; i++) {
      csv.writeBytes(
          ("S0" + i + "," + (40 + i) + ",m\n")
              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
    csv.writeBytes(
        new byte[] {
          'S',
          '0',
          (byte) 0xFF,
          ',',
          '5',
          '0',
          ',',
          'f',
          '\n',
          'S',
          '0',
          (byte) 0xFE,
          ',',
          '5',
          '1',
          ',',
          'm',
          '\n'
        });
    java.nio.file.Files.write(clinical.resolve("a.csv"), csv.toByteArray());
    IngestResult result =
        IngestAction.of(
                spark,
                PipelineConfigLoader.parse(
                    base + "modalities.clinical { path = clinical-csv, format = csv }\n",
                    List.of()))
            .execute();
    assertEquals(Map.of("MALFORMED_ID", 2L), result.qc().tables().get("clinical").rejected());
    assertEquals(6, result.qc().tables().get("clinical").accepted());
  }

  /**
   * Ids with stray whitespace in three tables: a space, a no-break space, a byte-order mark, an
   * ideographic space alone.
   */
  private static CohortFixture withStrayWhitespace() {
    CohortFixture f = CohortFixture.valid(8);
    f.subjects.set(4, RowFactory.create("\uFEFFS05", 1, 100.0, "site-a"));
    f.clinical.set(2, RowFactory.create(" S03", 43.0, "m"));
    f.labs.set(13, RowFactory.create("S04\u00A0", 50.0, 9.0, 9.0));
    f.notes.add(RowFactory.create("\u3000", "a note"));
    return f;
  }

  @Test
  void idsWithStrayWhitespaceAreRejectedSayingSoByDefault() {
    CohortFixture f = withStrayWhitespace();
    IngestResult result =
        IngestAction.of(spark, PipelineConfigLoader.parse(f.write(spark, dir, ""), List.of()))
            .execute();
    QcReport qc = result.qc();
    assertEquals(Map.of("MALFORMED_ID", 1L), qc.tables().get("subjects").rejected());
    // S05's rows in the modalities have no accepted subject: that is UNKNOWN_SUBJECT, as before.
    assertEquals(
        Map.of("MALFORMED_ID", 1L, "UNKNOWN_SUBJECT", 1L), qc.tables().get("clinical").rejected());
    assertEquals(
        Map.of("MALFORMED_ID", 1L, "UNKNOWN_SUBJECT", 4L), qc.tables().get("labs").rejected());
    assertEquals(
        Map.of("MALFORMED_ID", 1L, "UNKNOWN_SUBJECT", 1L), qc.tables().get("notes").rejected());
    qc.tables().values().forEach(t -> assertEquals(0, t.idsTrimmed()));
    assertEquals(7, qc.subjectsAligned());

    Dataset<Row> rejects =
        spark
            .read()
            .parquet(result.cohortDir() + "/rejects")
            .filter(col("reason").equalTo("MALFORMED_ID"));
    Map<String, String> messages = new java.util.HashMap<>();
    rejects.collectAsList().forEach(r -> messages.put(r.getString(0), r.getAs("message")));
    assertEquals(java.util.Set.of("subjects", "clinical", "labs", "notes"), messages.keySet());
    assertEquals(
        "column 'subject_id' starts or ends with whitespace (modalities.clinical.id-whitespace = reject; set it to trim to trim such ids)",
        messages.get("clinical"));
    assertTrue(
        messages.get("subjects").contains("whitespace (subjects.id-whitespace = reject"),
        messages.get("subjects"));
    assertTrue(messages.get("notes").contains("whitespace"), messages.get("notes"));
    Dataset<Row> aligned = spark.read().parquet(result.cohortDir() + "/aligned");
    assertEquals(
        false,
        aligned
            .filter(col("subject_id").equalTo("S03"))
            .select("has_clinical")
            .first()
            .getBoolean(0));
  }

  @Test
  void idsWithStrayWhitespaceAreTrimmedByPolicyAndCounted() {
    CohortFixture f = withStrayWhitespace();
    String extra =
        "subjects.id-whitespace = trim\n"
            + "modalities.clinical.id-whitespace = trim\nmodalities.labs.id-whitespace = trim\nmodalities.notes.id-whitespace = trim\n";
    IngestResult result =
        IngestAction.of(spark, PipelineConfigLoader.parse(f.write(spark, dir, extra), List.of()))
            .execute();
    QcReport qc = result.qc();
    assertEquals(Map.of(), qc.tables().get("subjects").rejected());
    assertEquals(Map.of(), qc.tables().get("clinical").rejected());
    assertEquals(Map.of(), qc.tables().get("labs").rejected());
    // An id of whitespace alone is empty once trimmed: malformed.
    assertEquals(Map.of("MALFORMED_ID", 1L), qc.tables().get("notes").rejected());
    assertEquals(1, qc.tables().get("subjects").idsTrimmed());
    assertEquals(1, qc.tables().get("clinical").idsTrimmed());
    assertEquals(1, qc.tables().get("labs").idsTrimmed());
    assertEquals(1, qc.tables().get("notes").idsTrimmed());
    assertEquals(0, qc.tables().get("omics").idsTrimmed());
    assertEquals(8, qc.subjectsAligned());
    assertTrue(
        result.summary().contains("subject_id values trimmed of whitespace"), result.summary());

    Dataset<Row> aligned = spark.read().parquet(result.cohortDir() + "/aligned");
    assertEquals(
        8,
        aligned
            .filter(col("subject_id").isin("S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08"))
            .count());
    assertEquals(
        43.0,
        aligned
            .filter(col("subject_id").equalTo("S03"))
            .select("clinical.age")
            .first()
            .getDouble(0));
    assertTrue(
        aligned.filter(col("subject_id").equalTo("S05")).select("has_labs").first().getBoolean(0));
  }

  @Test
  void edgeSpaceLooksAtTheEndCharactersOnly() {
    for (String id :
        List.of(" a", "a ", "\u00A0a", "a\u2009", "\u3000", "\uFEFFa", "a\u202F", "日本 ")) {
      assertTrue(Utf8Ids.hasEdgeSpace(org.apache.spark.unsafe.types.UTF8String.fromString(id)), id);
    }
    for (String id : List.of("a b", "a", "", "日本", "a\u00A0b", "\uD83D\uDE00", "é")) {
      assertEquals(
          false, Utf8Ids.hasEdgeSpace(org.apache.spark.unsafe.types.UTF8String.fromString(id)), id);
    }
    assertEquals(
        false,
        Utf8Ids.hasEdgeSpace(
            org.apache.spark.unsafe.types.UTF8String.fromBytes(new byte[] {'a', (byte) 0xC2})));
  }
}
