package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.io.Json;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.QcReport;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CSV as it is received: null tokens, a text cell in a numeric column, records with too many or too
 * few fields or an unbalanced quote, ids with leading zeros. The fixture's clinical table is
 * replaced by two CSV files; the planted defects and their lines are counted by hand below.
 */
class CsvIngestTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private static final String HEADER = "subject_id,age,sex,bili\n";

  /** S01..S04, clean but for three null tokens in bili (NA, NaN, empty). */
  private static final String CLEAN =
      HEADER + "S01,41,m,1.5\nS02,42,f,NA\nS03,43,m,NaN\nS04,44,f,\n";

  /**
   * Line 2: text in bili; lines 3, 4, 5: too many fields, too few, an unbalanced quote; lines 6, 7
   * clean.
   */
  private static final String DEFECTS =
      HEADER
          + "S05,45,m,n/a\nS06,46,f,1.1,extra\nS07,47,m\nS08,\"48,m,1.2\nS09,49,m,1.3\nS10,50,f,1.4\n";

  private String config(String extra) throws Exception {
    String base = CohortFixture.valid(10).write(spark, dir, "");
    Path clinical = dir.resolve("clinical-csv");
    Files.createDirectories(clinical);
    Files.writeString(clinical.resolve("a.csv"), CLEAN);
    Files.writeString(clinical.resolve("b.csv"), DEFECTS);
    return base + "modalities.clinical { path = clinical-csv, format = csv }\n" + extra;
  }

  private IngestResult ingest(String config) {
    return IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute();
  }

  @Test
  void badRecordsAndTextCellsAreRejectedWithTheirLinesAndNoCellChangesAColumnsType()
      throws Exception {
    IngestResult result = ingest(config(""));
    QcReport.TableQc clinical = result.qc().tables().get("clinical");
    assertEquals(10, clinical.rowsIn());
    // As published in qc.json: every data line written into the two files, defective or not.
    assertEquals(
        dataLines(CLEAN) + dataLines(DEFECTS),
        qcJson(result).path("tables").path("clinical").path("rowsIn").asLong());
    assertEquals(Map.of("NON_NUMERIC", 1L, "MALFORMED_RECORD", 3L), clinical.rejected());
    assertEquals(6, clinical.accepted());

    Dataset<Row> aligned = spark.read().parquet(result.cohortDir() + "/aligned");
    assertEquals(
        "double",
        aligned.select("clinical.bili").schema().fields()[0].dataType().simpleString(),
        "bili stays numeric");
    // NA, NaN and the empty cell are missing values; S01, S09 and S10 have a bili.
    assertEquals(
        Set.of("S01", "S09", "S10"), ids(aligned.filter(col("clinical.bili").isNotNull())));
    assertEquals(
        Set.of("S02", "S03", "S04"),
        ids(aligned.filter(col("has_clinical").and(col("clinical.bili").isNull()))));

    Dataset<Row> rejects =
        spark
            .read()
            .parquet(result.cohortDir() + "/rejects")
            .filter(col("source_table").equalTo("clinical"));
    Map<String, String> messageByKey = new TreeMap<>();
    for (Row r : rejects.collectAsList()) {
      assertTrue(r.<String>getAs("source_file").endsWith("b.csv"), r.toString());
      messageByKey.put(r.getAs("row_key"), r.getAs("reason") + ": " + r.getAs("message"));
    }
    assertEquals(Set.of("S05", "S06", "S07", "S08"), messageByKey.keySet());
    assertTrue(
        messageByKey.get("S05").startsWith("NON_NUMERIC: column 'bili' is not a number at line 2 "),
        messageByKey.get("S05"));
    assertTrue(
        messageByKey.get("S06").startsWith("MALFORMED_RECORD: malformed csv record at line 3:"),
        messageByKey.get("S06"));
    assertTrue(
        messageByKey.get("S07").startsWith("MALFORMED_RECORD: malformed csv record at line 4:"),
        messageByKey.get("S07"));
    assertTrue(
        messageByKey.get("S08").startsWith("MALFORMED_RECORD: malformed csv record at line 5:"),
        messageByKey.get("S08"));
    for (String m : messageByKey.values()) {
      assertFalse(
          m.contains("n/a") || m.contains("extra") || m.contains("48"),
          "never a cell's content: " + m);
    }
  }

  /** Lines of a CSV file after its header. */
  private static long dataLines(String csv) {
    return csv.lines().count() - 1;
  }

  private static JsonNode qcJson(IngestResult result) throws Exception {
    return Json.MAPPER.readTree(Path.of(result.cohortDir(), CohortManifest.QC_JSON).toFile());
  }

  private static Set<String> ids(Dataset<Row> df) {
    return df.select("subject_id").collectAsList().stream()
        .map(r -> r.getString(0))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void aMalformedRecordIsAnErrorNamingFileAndLineWhenConfiguredSo() throws Exception {
    IngestException e =
        assertThrows(
            IngestException.class,
            () -> ingest(config("modalities.clinical.checks { malformed-record = error }\n")));
    String m = e.getMessage();
    assertTrue(
        m.startsWith("Cannot ingest table 'clinical': 3 row(s) fail check 'malformed-record'"), m);
    assertTrue(m.contains("b.csv at line 3: malformed csv record at line 3"), m);
    assertFalse(m.contains("extra"), m);
    assertFalse(Files.exists(dir.resolve("out").resolve("cohort")));
  }

  @Test
  void declaredNullTokensAndCategoricalColumnsKeepTheirRows() throws Exception {
    // n/a is declared missing, NA no longer is: S02's NA is now text in a numeric column.
    IngestResult result =
        ingest(config("modalities.clinical.null-values = [\"\", \"n/a\", \"NaN\"]\n"));
    assertEquals(
        Map.of("NON_NUMERIC", 1L, "MALFORMED_RECORD", 3L),
        result.qc().tables().get("clinical").rejected());
    Dataset<Row> rejects =
        spark
            .read()
            .parquet(result.cohortDir() + "/rejects")
            .filter(
                col("source_table").equalTo("clinical").and(col("reason").equalTo("NON_NUMERIC")));
    assertEquals("S02", rejects.first().getAs("row_key"));
    assertTrue(
        rejects.first().<String>getAs("message").contains("at line 3 "),
        rejects.first().<String>getAs("message"));

    // Declared categorical, bili keeps every cell as text: no NON_NUMERIC.
    IngestResult categorical = ingest(config("modalities.clinical.categorical = [bili]\n"));
    assertEquals(
        Map.of("MALFORMED_RECORD", 3L), categorical.qc().tables().get("clinical").rejected());
    Dataset<Row> aligned = spark.read().parquet(categorical.cohortDir() + "/aligned");
    assertEquals(
        "string", aligned.select("clinical.bili").schema().fields()[0].dataType().simpleString());
  }

  @Test
  void idsWithLeadingZerosStayText() throws Exception {
    List<String> ids = List.of("01005", "01006", "00007", "1008", "01009", "01010");
    String base = CohortFixture.valid(ids).write(spark, dir, "");
    StringBuilder csv = new StringBuilder("subject_id,label,index_time,group\n");
    for (int i = 1; i <= ids.size(); i++) {
      csv.append(ids.get(i - 1)).append(',').append(i % 2).append(",100.0,site-a\n");
    }
    Files.writeString(dir.resolve("subjects.csv"), csv.toString());
    IngestResult result = ingest(base + "subjects { path = subjects.csv, format = csv }\n");
    assertEquals(
        dataLines(csv.toString()),
        qcJson(result).path("tables").path("subjects").path("rowsIn").asLong());
    assertEquals(ids.size(), result.qc().tables().get("subjects").accepted());
    assertEquals(ids.size(), result.qc().subjectsAligned());
    assertEquals(new TreeSet<>(ids), ids(spark.read().parquet(result.cohortDir() + "/aligned")));
  }

  @Test
  void aCsvHeaderThatDiffersBetweenFilesIsAnErrorNamingFileAndColumn() throws Exception {
    String config = config("");
    Files.writeString(
        dir.resolve("clinical-csv").resolve("c.csv"), "subject_id,sex,age,bili\nS11,m,51,1.0\n");
    IngestException e = assertThrows(IngestException.class, () -> ingest(config));
    assertTrue(
        e.getMessage().startsWith("Cannot read table 'clinical': file ")
            && e.getMessage().contains("c.csv has column 'sex' at position 2"),
        e.getMessage());
  }

  @Test
  void keysForTheOtherFormatAreErrors() throws Exception {
    IngestException nulls =
        assertThrows(
            IngestException.class,
            () -> ingest(config("modalities.notes.null-values = [\"-\"]\n")));
    assertTrue(
        nulls.getMessage().startsWith("Cannot use config key 'modalities.notes.null-values'"),
        nulls.getMessage());
    IngestException union =
        assertThrows(
            IngestException.class,
            () -> ingest(config("modalities.clinical.schema-merge = union\n")));
    assertTrue(
        union
            .getMessage()
            .startsWith("Cannot use config key 'modalities.clinical.schema-merge = union'"),
        union.getMessage());
  }

  @Test
  void aBadSqlMappingIsAConfigErrorNamingTableAndKey() throws Exception {
    String config =
        config("modalities.clinical.sql = \"SELECT subject_id, age FROM source QUALIFY x\"\n");
    IngestException e = assertThrows(IngestException.class, () -> ingest(config));
    assertTrue(
        e.getMessage()
            .startsWith(
                "Cannot apply the sql of table 'clinical' (config key modalities.clinical.sql): "),
        e.getMessage());
    // An IngestException: the CLI exits with 2 (bad input or config), not as a crash.
    assertTrue(
        e.getMessage().contains("PARSE_SYNTAX_ERROR") && !e.getMessage().contains("\n"),
        e.getMessage());

    // Without the bookkeeping columns the rows' CSV verdicts would be lost: an error, not a pass.
    IngestException lost =
        assertThrows(
            IngestException.class,
            () ->
                ingest(
                    config(
                        "modalities.clinical.sql = \"SELECT subject_id, age, sex, bili FROM source\"\n")));
    assertTrue(
        lost.getMessage()
            .startsWith(
                "Cannot apply the sql of table 'clinical' (config key modalities.clinical.sql): a csv table's sql"
                    + " must select _source_file and _row_order"),
        lost.getMessage());
  }
}
