package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
 * Column names that Parquet allows but Spark SQL reads as syntax: dots, spaces, backticks; and
 * names equal but for case.
 */
class ColumnNamesTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  /** Writes the fixture, then rewrites {@code table} with its columns renamed (old -> new), under "<table>-renamed". */
  private IngestResult ingestRenamed(
      CohortFixture f, String table, Map<String, String> renames, String extra) {
    String config =
        f.write(spark, dir, extra + "modalities." + table + ".path = " + table + "-renamed\n");
    Dataset<Row> df = spark.read().parquet(dir.resolve(table).toString());
    for (Map.Entry<String, String> e : renames.entrySet()) {
      df = df.withColumnRenamed(e.getKey(), e.getValue());
    }
    df.coalesce(1).write().parquet(dir.resolve(table + "-renamed").toString());
    return IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute();
  }

  @Test
  void featureNamesWithDotsAndSpacesAreIngested() {
    CohortFixture f = CohortFixture.valid(6);
    // One planted NaN in the dotted feature: its check must resolve the column and name it.
    f.clinical.set(2, RowFactory.create("S03", Double.NaN, "m"));
    IngestResult r =
        ingestRenamed(
            f,
            "clinical",
            Map.of("age", "alk.phos", "sex", "egfr value"),
            "modalities.clinical.categorical = [\"egfr value\"]\n");
    assertEquals(Map.of("NON_FINITE", 1L), r.qc().tables().get("clinical").rejected());
    assertEquals(5, r.qc().tables().get("clinical").accepted());
    Dataset<Row> rejects = spark.read().parquet(r.cohortDir() + "/" + CohortManifest.REJECTS);
    assertTrue(
        rejects.first().<String>getAs("message").contains("'alk.phos'"),
        rejects.first().<String>getAs("message"));
    var clinical =
        r.manifest().modalities().stream()
            .filter(m -> m.name().equals("clinical"))
            .findFirst()
            .orElseThrow();
    assertEquals(List.of("alk.phos"), clinical.numericFeatures());
    assertEquals(List.of("egfr value"), clinical.categoricalFeatures());
    Dataset<Row> aligned = spark.read().parquet(r.cohortDir() + "/" + CohortManifest.ALIGNED);
    assertEquals(
        5,
        aligned
            .filter(org.apache.spark.sql.functions.col("clinical.`alk.phos`").isNotNull())
            .count());
  }

  @Test
  void channelNamesWithDotsAndSpacesAreIngested() {
    CohortFixture f = CohortFixture.valid(4);
    IngestResult r = ingestRenamed(f, "labs", Map.of("alb", "alb.v", "crp", "crp value"), "");
    assertEquals(16, r.qc().tables().get("labs").accepted());
    assertEquals(
        List.of("alb.v", "crp value"),
        r.manifest().modalities().stream()
            .filter(m -> m.name().equals("labs"))
            .findFirst()
            .orElseThrow()
            .channels());
  }

  @Test
  void twoColumnsDifferingOnlyByCaseAreASchemaError() {
    CohortFixture f = CohortFixture.valid(3);
    String config = f.write(spark, dir, "modalities.clinical.path = clinical-cased\n");
    // Only a case-sensitive session can write such a file; ingest reads it as Spark does by
    // default.
    spark.conf().set("spark.sql.caseSensitive", "true");
    try {
      spark
          .read()
          .parquet(dir.resolve("clinical").toString())
          .selectExpr("subject_id", "age", "age + 1 AS AGE", "sex")
          .coalesce(1)
          .write()
          .parquet(dir.resolve("clinical-cased").toString());
    } finally {
      spark.conf().unset("spark.sql.caseSensitive");
    }
    IngestException e =
        assertThrows(
            IngestException.class,
            () -> IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute());
    assertTrue(
        e.getMessage().contains("table 'clinical'")
            && e.getMessage().contains("'age'")
            && e.getMessage().contains("'AGE'")
            && e.getMessage().contains("clinical-cased/part-"),
        e.getMessage());
    assertFalse(Files.exists(dir.resolve("out/cohort")));
  }

  @Test
  void aSubjectsTableWithoutLabelIsASchemaError() {
    IngestException e =
        assertThrows(
            IngestException.class,
            () ->
                ingestRenamed(
                    CohortFixture.valid(3),
                    "clinical",
                    Map.of(),
                    "subjects.sql = \"SELECT subject_id, index_time FROM source\"\n"));
    assertTrue(
        e.getMessage().contains("table 'subjects'")
            && e.getMessage().contains("missing required column 'label'"),
        e.getMessage());
  }
}
