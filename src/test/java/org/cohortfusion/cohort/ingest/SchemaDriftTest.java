package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.config.SchemaMerge;
import org.cohortfusion.config.TableFormat;
import org.cohortfusion.stage.QcReport;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files of one table disagree: a column only in a later file, a column missing from one file, a
 * type that differs, or data pages that are corrupt behind a readable footer. Each test plants the
 * defect in a second file of the fixture's clinical table (S01..S{n} in the first file).
 */
class SchemaDriftTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  /**
   * Writes a second clinical file of {@code rows} with {@code schema}, named
   * part-99999-second.parquet; returns its path.
   */
  private Path addClinicalFile(List<Row> rows, StructType schema) throws Exception {
    Path tmp = dir.resolve("second-tmp");
    spark
        .createDataFrame(rows, schema)
        .coalesce(1)
        .write()
        .mode(SaveMode.Overwrite)
        .parquet(tmp.toString());
    Path part;
    try (var files = Files.list(tmp)) {
      part =
          files
              .filter(p -> p.getFileName().toString().endsWith(".parquet"))
              .findFirst()
              .orElseThrow();
    }
    Path target = dir.resolve("clinical").resolve("part-99999-second.parquet");
    Files.move(part, target);
    return target;
  }

  private String config(CohortFixture f, String extra) {
    return f.write(spark, dir, extra);
  }

  private IngestResult ingest(String config) {
    return IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute();
  }

  /** Jobs Spark started while {@code run} ran. */
  private int jobsDuring(Runnable run) {
    AtomicInteger jobs = new AtomicInteger();
    SparkListener listener =
        new SparkListener() {
          @Override
          public void onJobStart(SparkListenerJobStart jobStart) {
            jobs.incrementAndGet();
          }
        };
    spark.sparkContext().addSparkListener(listener);
    try {
      run.run();
    } finally {
      try {
        spark.sparkContext().listenerBus().waitUntilEmpty();
      } catch (java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException(e);
      }
      spark.sparkContext().removeSparkListener(listener);
    }
    return jobs.get();
  }

  private static final StructType WITH_BMI =
      CohortFixture.CLINICAL.add("bmi", DataTypes.DoubleType);

  @Test
  void aColumnOnlyInALaterFileIsAnErrorBeforeAnyJobNamingTheFileThatLacksIt() throws Exception {
    String config = config(CohortFixture.valid(6), "");
    addClinicalFile(List.of(RowFactory.create("S07", 50.0, "f", 22.5)), WITH_BMI);
    List<IngestException> thrown = new ArrayList<>();
    int jobs =
        jobsDuring(() -> thrown.add(assertThrows(IngestException.class, () -> ingest(config))));
    String m = thrown.get(0).getMessage();
    assertTrue(m.startsWith("Cannot read table 'clinical': file "), m);
    assertTrue(
        m.contains("lacks column 'bmi' of type double")
            && m.contains("part-99999-second.parquet")
            && m.contains("part-00000"),
        m);
    assertEquals(0, jobs, "the schema check needs no Spark job");
    assertFalse(Files.exists(dir.resolve("out").resolve("cohort")));
  }

  @Test
  void aColumnMissingFromOneFileIsAnErrorNamingThatFile() throws Exception {
    String config = config(CohortFixture.valid(6), "");
    StructType noSex =
        new StructType().add("subject_id", DataTypes.StringType).add("age", DataTypes.DoubleType);
    Path second = addClinicalFile(List.of(RowFactory.create("S07", 50.0)), noSex);
    IngestException e = assertThrows(IngestException.class, () -> ingest(config));
    assertTrue(
        e.getMessage().contains("file " + second.toUri().getPath().replaceAll("/$", ""))
            || e.getMessage().contains(second.getFileName().toString()),
        e.getMessage());
    assertTrue(e.getMessage().contains("lacks column 'sex' of type string"), e.getMessage());
  }

  @Test
  void unionReadsAMissingColumnAsNullAndWarnsWithTheFileCount() throws Exception {
    CohortFixture f = CohortFixture.valid(6);
    f.subjects.add(RowFactory.create("S07", 1, 100.0, "site-a"));
    String config = config(f, "modalities.clinical.schema-merge = union\n");
    addClinicalFile(List.of(RowFactory.create("S07", 50.0, "f", 22.5)), WITH_BMI);
    IngestResult result = ingest(config);
    QcReport.TableQc clinical = result.qc().tables().get("clinical");
    // 6 rows in the fixture's file, 1 in the second.
    assertEquals(7, clinical.rowsIn());
    assertEquals(clinical.rowsIn(), clinical.accepted() + clinical.rejectedTotal());
    List<QcReport.Warning> union =
        result.qc().warnings().stream().filter(w -> w.code().equals("SCHEMA_UNION")).toList();
    assertEquals(1, union.size(), result.qc().warnings().toString());
    assertTrue(
        union.get(0).message().contains("'bmi' is missing from 1 of 2 files"),
        union.get(0).message());
    Dataset<Row> aligned = spark.read().parquet(result.cohortDir() + "/aligned");
    // Only S07's row has a bmi; the first file's six rows read it as null.
    assertEquals(1, aligned.filter(col("clinical.bmi").isNotNull()).count());
    assertEquals(
        22.5,
        aligned
            .filter(col("subject_id").equalTo("S07"))
            .select("clinical.bmi")
            .first()
            .getDouble(0));
  }

  @Test
  void aTypeThatDiffersBetweenFilesIsAnErrorEvenWithUnion() throws Exception {
    String config = config(CohortFixture.valid(6), "modalities.clinical.schema-merge = union\n");
    StructType ageAsText =
        new StructType()
            .add("subject_id", DataTypes.StringType)
            .add("age", DataTypes.StringType)
            .add("sex", DataTypes.StringType);
    addClinicalFile(List.of(RowFactory.create("S07", "fifty", "f")), ageAsText);
    IngestException e = assertThrows(IngestException.class, () -> ingest(config));
    String m = e.getMessage();
    assertTrue(
        m.contains("Cannot read table 'clinical': file ")
            && m.contains("part-99999-second.parquet has column 'age' of type string")
            && m.contains("has double"),
        m);
    assertFalse(m.contains("fifty"), "never a cell value: " + m);
  }

  /**
   * Overwrites everything between the magic number and the footer: the footer reads, no page does.
   */
  private static void corruptDataPages(Path parquet) throws Exception {
    byte[] bytes = Files.readAllBytes(parquet);
    int footerLength =
        java.nio.ByteBuffer.wrap(bytes, bytes.length - 8, 4)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN)
            .getInt();
    int footerStart = bytes.length - 8 - footerLength;
    for (int i = 4; i < footerStart; i++) {
      bytes[i] = (byte) 0xEE;
    }
    Files.write(parquet, bytes);
  }

  @Test
  void corruptDataPagesAreAnUnreadableFileErrorNamingTableAndFileAndKeepTheOldCohort()
      throws Exception {
    String config = config(CohortFixture.valid(6), "");
    IngestResult before = ingest(config);
    String qcBefore = Files.readString(Path.of(before.cohortDir(), "qc.json"));
    Path second =
        addClinicalFile(List.of(RowFactory.create("S07", 50.0, "f")), CohortFixture.CLINICAL);
    corruptDataPages(second);
    IngestException e = assertThrows(IngestException.class, () -> ingest(config));
    String m = e.getMessage();
    assertTrue(
        m.startsWith("Cannot read table 'clinical': file ")
            && m.contains("part-99999-second.parquet is unreadable")
            && m.contains("modalities.clinical.checks.unreadable-file = reject"),
        m);
    assertEquals(
        qcBefore,
        Files.readString(Path.of(before.cohortDir(), "qc.json")),
        "the published cohort is left as it was");
  }

  @Test
  void corruptDataPagesAreRejectedAsAnUnreadableFileWhenConfiguredSo() throws Exception {
    CohortFixture f = CohortFixture.valid(6);
    String config = config(f, "modalities.clinical.checks { unreadable-file = reject }\n");
    Path second =
        addClinicalFile(List.of(RowFactory.create("S01", 50.0, "f")), CohortFixture.CLINICAL);
    corruptDataPages(second);
    IngestResult result = ingest(config);
    QcReport.TableQc clinical = result.qc().tables().get("clinical");
    assertEquals(1, clinical.unreadableFiles());
    // The fixture's six rows; the corrupt file's row cannot be counted.
    assertEquals(6, clinical.rowsIn());
    assertEquals(6, clinical.accepted());
    Dataset<Row> rejects = spark.read().parquet(result.cohortDir() + "/rejects");
    List<Row> unreadable = rejects.filter(col("reason").equalTo("UNREADABLE_FILE")).collectAsList();
    assertEquals(1, unreadable.size());
    assertTrue(
        unreadable.get(0).<String>getAs("source_file").endsWith("part-99999-second.parquet"));
  }

  /** Footers are read by a pool of threads; prints the time beside reading them one by one. */
  @Test
  void twoHundredFilesListWithEveryFooterCompared() throws Exception {
    Path one = dir.resolve("one");
    StructType schema =
        new StructType().add("subject_id", DataTypes.StringType).add("x", DataTypes.DoubleType);
    spark
        .createDataFrame(List.of(RowFactory.create("S01", 1.0)), schema)
        .coalesce(1)
        .write()
        .parquet(one.toString());
    Path part;
    try (var files = Files.list(one)) {
      part =
          files
              .filter(p -> p.getFileName().toString().endsWith(".parquet"))
              .findFirst()
              .orElseThrow();
    }
    Path table = Files.createDirectories(dir.resolve("many"));
    for (int i = 0; i < 200; i++) {
      Files.copy(part, table.resolve(String.format("part-%05d.parquet", i)));
    }
    org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
    TableSource.list(conf, "many", table.toString(), TableFormat.PARQUET); // warm up
    long start = System.nanoTime();
    TableSource.Files files =
        TableSource.list(
            conf,
            "many",
            table.toString(),
            TableFormat.PARQUET,
            SchemaMerge.STRICT,
            java.util.Set.of());
    double parallelMs = (System.nanoTime() - start) / 1e6;
    start = System.nanoTime();
    for (String f : files.readable()) {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(f);
      try (var reader =
          org.apache.parquet.hadoop.ParquetFileReader.open(
              org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(p, conf))) {
        reader.getFooter();
      }
    }
    double oneByOneMs = (System.nanoTime() - start) / 1e6;
    System.out.printf(
        "200 footers: listed and compared in %.0f ms; read one by one (no comparison) in %.0f ms%n",
        parallelMs, oneByOneMs);
    assertEquals(200, files.readable().size());
    assertEquals(List.of("subject_id", "x"), List.of(files.schema().fieldNames()));

    // One file of the 200 with a column more: found, and named.
    spark
        .createDataFrame(
            List.of(RowFactory.create("S01", 1.0, 2.0)), schema.add("y", DataTypes.DoubleType))
        .coalesce(1)
        .write()
        .parquet(dir.resolve("other").toString());
    try (var other = Files.list(dir.resolve("other"))) {
      Files.copy(
          other
              .filter(p -> p.getFileName().toString().endsWith(".parquet"))
              .findFirst()
              .orElseThrow(),
          table.resolve("part-00123x.parquet"));
    }
    IngestException e =
        assertThrows(
            IngestException.class,
            () -> TableSource.list(conf, "many", table.toString(), TableFormat.PARQUET));
    assertTrue(
        e.getMessage().contains("lacks column 'y'")
            && e.getMessage().contains("part-00123x.parquet")
            && e.getMessage().contains("(200 of 201 files lack it)"),
        e.getMessage());
  }
}
