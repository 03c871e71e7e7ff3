package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.stage.QcReport;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Omics as it is received: a vector modality of 20,000 wide numeric columns (one per probe), as CSV
 * and as Parquet, with one planted defect per defective row. The oracle is the test's own reading
 * of the values it wrote.
 */
class WideTableTest {
  private final SparkSession spark = session();

  /**
   * The session the tests ingest with: embedded here, executor JVMs in {@link
   * WideTableMultiJvmTest}.
   */
  SparkSession session() {
    return SparkTestSession.get();
  }

  /** The width of the wide tables: 20,000 probes, the width of an omics table as received. */
  int wideProbes() {
    return 20_000;
  }

  @TempDir Path dir;

  /** The fixture's ten subjects' probe values, drawn here; S03..S06 carry the defects below. */
  private final Map<String, String[]> cells = new TreeMap<>();

  private int probes;

  /**
   * The probe whose cell in S03 is not a number: far from the first, to show the name is found, not
   * guessed.
   */
  private int notANumberAt;

  private void draw(int probes) {
    this.probes = probes;
    this.notANumberAt = probes * 13 / 15;
    Random random = new Random(42);
    for (int i = 1; i <= 10; i++) {
      String[] row = new String[probes];
      for (int j = 0; j < probes; j++) {
        row[j] = String.format(java.util.Locale.ROOT, "%.3f", random.nextGaussian());
      }
      cells.put(CohortFixture.id(i), row);
    }
    cells.get("S03")[notANumberAt] = "high"; // not a number
    cells.get("S04")[5] = "NA"; // a null token: a missing probe, which a vector may not have
    cells.get("S05")[probes - 1] = "Infinity"; // not finite
  }

  private String config(String omicsPath, String format) throws Exception {
    return config(omicsPath, format, "");
  }

  private String config(String omicsPath, String format, String extra) throws Exception {
    String base = CohortFixture.valid(10).write(spark, dir, "");
    return base
        + "modalities.omics { path = "
        + omicsPath
        + ", format = "
        + format
        + ", length = "
        + probes
        + extra
        + " }\n";
  }

  private void writeCsv(Path file) throws Exception {
    writeCsv(file, "subject_id");
  }

  private void writeCsv(Path file, String idColumn) throws Exception {
    Files.createDirectories(file.getParent());
    try (BufferedWriter w = Files.newBufferedWriter(file)) {
      StringBuilder header = new StringBuilder(idColumn);
      for (int j = 0; j < probes; j++) {
        header.append(",probe_").append(j);
      }
      w.write(header + "\n");
      for (Map.Entry<String, String[]> e : cells.entrySet()) {
        if (e.getKey().equals("S06")) {
          // One field short: a malformed record.
          w.write(
              e.getKey()
                  + ","
                  + String.join(",", java.util.Arrays.copyOf(e.getValue(), probes - 1))
                  + "\n");
        } else {
          w.write(e.getKey() + "," + String.join(",", e.getValue()) + "\n");
        }
      }
    }
  }

  private IngestResult ingest(String config) {
    return IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute();
  }

  /** The rejected rows by subject, as "REASON: message". */
  private Map<String, String> rejects(IngestResult result) {
    Map<String, String> byKey = new TreeMap<>();
    for (Row r :
        spark
            .read()
            .parquet(result.cohortDir() + "/rejects")
            .filter(col("source_table").equalTo("omics"))
            .collectAsList()) {
      byKey.put(r.getAs("row_key"), r.getAs("reason") + ": " + r.getAs("message"));
    }
    return byKey;
  }

  /** Every accepted subject's aligned vector equals the values written, element for element. */
  private void assertAlignedValues(IngestResult result, List<String> accepted) {
    Dataset<Row> aligned =
        spark.read().parquet(result.cohortDir() + "/aligned").filter(col("has_omics"));
    Map<String, float[]> vectors = new HashMap<>();
    for (Row r : aligned.select(col("subject_id"), col("omics")).collectAsList()) {
      List<Float> v = r.getList(1);
      float[] a = new float[v.size()];
      for (int k = 0; k < a.length; k++) {
        a[k] = v.get(k);
      }
      vectors.put(r.getString(0), a);
    }
    assertEquals(
        new java.util.TreeSet<>(accepted),
        new java.util.TreeSet<>(vectors.keySet()),
        "subjects with omics");
    for (String id : accepted) {
      float[] expected = new float[probes];
      for (int j = 0; j < probes; j++) {
        expected[j] = Float.parseFloat(cells.get(id)[j]);
      }
      assertArrayEquals(expected, vectors.get(id), "omics of " + id);
    }
  }

  @Test
  void aWideCsvIsPackedWithEveryDefectRejectedNamingItsColumn() throws Exception {
    draw(wideProbes());
    writeCsv(dir.resolve("omics-csv/part-0.csv"));
    IngestResult result = ingest(config("omics-csv", "csv"));

    QcReport.TableQc omics = result.qc().tables().get("omics");
    assertEquals(10, omics.rowsIn());
    assertEquals(
        Map.of("NON_NUMERIC", 1L, "NULL_VALUE", 1L, "NON_FINITE", 1L, "MALFORMED_RECORD", 1L),
        omics.rejected());
    assertEquals(6, omics.accepted());
    Map<String, String> rejected = rejects(result);
    assertTrue(
        rejected
            .get("S03")
            .startsWith(
                "NON_NUMERIC: column 'probe_" + notANumberAt + "' is not a number at line 4 "),
        rejected.get("S03"));
    assertEquals("NULL_VALUE: column 'probe_5' is null", rejected.get("S04"));
    assertEquals(
        "NON_FINITE: column 'probe_" + (probes - 1) + "' is NaN or infinite", rejected.get("S05"));
    assertTrue(
        rejected.get("S06").startsWith("MALFORMED_RECORD: malformed csv record at line 7:"),
        rejected.get("S06"));
    for (String message : rejected.values()) {
      assertTrue(
          !message.contains("high") && !message.contains("Infinity"),
          "a cell value in a message: " + message);
    }
    assertAlignedValues(result, List.of("S01", "S02", "S07", "S08", "S09", "S10"));
  }

  /**
   * As received from a public expression cohort: the id column is not named subject_id; id-column
   * reads it as such.
   */
  @Test
  void aWideCsvWithItsOwnIdColumnNameIsReadThroughIdColumn() throws Exception {
    draw(2_000);
    writeCsv(dir.resolve("omics-csv/part-0.csv"), "sample");
    IngestResult result = ingest(config("omics-csv", "csv", ", id-column = sample"));

    assertEquals(
        Map.of("NON_NUMERIC", 1L, "NULL_VALUE", 1L, "NON_FINITE", 1L, "MALFORMED_RECORD", 1L),
        result.qc().tables().get("omics").rejected());
    Map<String, String> rejected = rejects(result);
    assertEquals(List.of("S03", "S04", "S05", "S06"), new ArrayList<>(rejected.keySet()));
    assertEquals("NULL_VALUE: column 'probe_5' is null", rejected.get("S04"));
    assertAlignedValues(result, List.of("S01", "S02", "S07", "S08", "S09", "S10"));

    IngestException missing =
        org.junit.jupiter.api.Assertions.assertThrows(
            IngestException.class,
            () -> ingest(config("omics-csv", "csv", ", id-column = patient")));
    assertTrue(
        missing.getMessage().startsWith("Cannot read table 'omics' (")
            && missing
                .getMessage()
                .endsWith(
                    "): modalities.omics.id-column = 'patient', but the table has no column 'patient'"),
        missing.getMessage());
  }

  @Test
  void aWideParquetTableIsPackedWithEveryDefectRejectedNamingItsColumn() throws Exception {
    draw(wideProbes());
    // The id column under its own name, read through id-column (renamed after the scan: Parquet
    // resolves by name).
    // The fields at once: StructType.add copies the schema, quadratic over 20,000 columns.
    org.apache.spark.sql.types.StructField[] fields =
        new org.apache.spark.sql.types.StructField[probes + 1];
    fields[0] = DataTypes.createStructField("sample", DataTypes.StringType, true);
    for (int j = 0; j < probes; j++) {
      fields[j + 1] = DataTypes.createStructField("probe_" + j, DataTypes.DoubleType, true);
    }
    StructType schema = new StructType(fields);
    List<Row> rows = new ArrayList<>();
    for (Map.Entry<String, String[]> e : cells.entrySet()) {
      Object[] values = new Object[probes + 1];
      values[0] = e.getKey();
      for (int j = 0; j < probes; j++) {
        String c = e.getValue()[j];
        values[j + 1] =
            c.equals("NA") ? null : c.equals("high") ? Double.NaN : Double.parseDouble(c);
      }
      rows.add(RowFactory.create(values));
    }
    CohortFixture.writeTable(spark, rows, schema, dir.resolve("omics-wide"));
    IngestResult result = ingest(config("omics-wide", "parquet", ", id-column = sample"));

    QcReport.TableQc omics = result.qc().tables().get("omics");
    assertEquals(10, omics.rowsIn());
    assertEquals(Map.of("NULL_VALUE", 1L, "NON_FINITE", 2L), omics.rejected());
    Map<String, String> rejected = rejects(result);
    assertEquals(
        "NON_FINITE: column 'probe_" + notANumberAt + "' is NaN or infinite", rejected.get("S03"));
    assertEquals("NULL_VALUE: column 'probe_5' is null", rejected.get("S04"));
    assertEquals(
        "NON_FINITE: column 'probe_" + (probes - 1) + "' is NaN or infinite", rejected.get("S05"));
    assertAlignedValues(result, List.of("S01", "S02", "S06", "S07", "S08", "S09", "S10"));
  }
}
