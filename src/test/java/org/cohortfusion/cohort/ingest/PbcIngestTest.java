package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.stage.QcReport;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped pbc example ingests with its landmark design, checked against the CSVs read
 * independently.
 */
class PbcIngestTest {
  private static final Path REPO = Path.of(System.getProperty("cohortfusion.repo", "."));
  private static final Path DATA = REPO.resolve("src/main/resources/examples/pbc");

  @TempDir static Path out;
  static IngestResult result;
  static Dataset<Row> aligned;

  /** pbc.csv: id -> [time, status]. */
  static Map<String, double[]> outcomes = new HashMap<>();

  /** pbcseq.csv: id -> visit days. */
  static Map<String, List<Double>> visits = new HashMap<>();

  @BeforeAll
  static void ingest() throws IOException {
    for (String line : Files.readAllLines(DATA.resolve("pbc.csv")).subList(1, 419)) {
      String[] f = line.split(",", -1);
      outcomes.put(
          f[0].replace("\"", ""),
          new double[] {Double.parseDouble(f[1]), Double.parseDouble(f[2])});
    }
    List<String> seq = Files.readAllLines(DATA.resolve("pbcseq.csv"));
    for (String line : seq.subList(1, seq.size())) {
      String[] f = line.split(",", -1);
      visits
          .computeIfAbsent(f[0].replace("\"", ""), k -> new java.util.ArrayList<>())
          .add(Double.parseDouble(f[6]));
    }
    SparkSession spark = SparkTestSession.get();
    PipelineConfig config =
        PipelineConfigLoader.load(
            REPO.resolve("conf/pbc.conf").toFile(),
            List.of("cohort-dir=\"" + REPO + "\"", "output.dir=\"" + out + "\""));
    result = IngestAction.of(spark, config).execute();
    aligned = spark.read().parquet(result.cohortDir() + "/aligned").cache();
  }

  @Test
  void landmarkCohortAndLabelsFollowTheDesign() {
    Set<String> eligible = new HashSet<>();
    long dead = 0;
    long alive = 0;
    for (Map.Entry<String, double[]> e : outcomes.entrySet()) {
      double time = e.getValue()[0];
      double status = e.getValue()[1];
      if (time > 365) {
        eligible.add(e.getKey());
        if (status == 2 && time <= 1826) {
          dead++;
        } else if (time > 1826) {
          alive++;
        }
      }
    }
    assertEquals(418, outcomes.size());
    assertEquals(eligible.size(), aligned.count());
    assertEquals(dead, aligned.filter(col("label").equalTo(1)).count());
    assertEquals(alive, aligned.filter(col("label").equalTo(0)).count());
    assertEquals(eligible.size() - dead - alive, aligned.filter(col("label").isNull()).count());
    assertEquals(0, aligned.filter(col("index_time").notEqual(365.0)).count());
  }

  @Test
  void labsUseOnlyVisitsAtOrBeforeDay365AndMissingnessIsReal() {
    Set<String> eligible = new HashSet<>();
    outcomes.forEach(
        (id, o) -> {
          if (o[0] > 365) {
            eligible.add(id);
          }
        });
    long withLabs =
        eligible.stream()
            .filter(id -> visits.getOrDefault(id, List.of()).stream().anyMatch(d -> d <= 365))
            .count();
    long withoutAnyVisit = eligible.stream().filter(id -> !visits.containsKey(id)).count();
    assertEquals(withLabs, aligned.filter(col("has_labs")).count());
    assertTrue(
        withoutAnyVisit >= 90,
        "most of the 106 non-randomised patients are in the landmark cohort: " + withoutAnyVisit);
    assertEquals(0, aligned.filter("exists(labs.delta_time, d -> d < 0)").count());

    QcReport.TableQc labs = result.qc().tables().get("labs");
    long afterDay365 =
        visits.entrySet().stream()
            .filter(e -> eligible.contains(e.getKey()))
            .mapToLong(e -> e.getValue().stream().filter(d -> d > 365).count())
            .sum();
    long outsideCohort =
        visits.entrySet().stream()
            .filter(e -> !eligible.contains(e.getKey()))
            .mapToLong(e -> e.getValue().size())
            .sum();
    assertEquals(1945, labs.rowsIn());
    assertEquals(afterDay365, labs.afterIndexTime());
    assertEquals(Map.of("UNKNOWN_SUBJECT", outsideCohort), labs.rejected());
    assertEquals(labs.rowsIn(), labs.accepted() + labs.rejectedTotal());
  }

  @Test
  void clinicalHasNoOutcomeColumns() {
    List<String> fields = List.of(aligned.select("clinical.*").columns());
    assertTrue(fields.contains("bili") && fields.contains("alk_phos"), fields.toString());
    assertTrue(!fields.contains("time") && !fields.contains("status"), fields.toString());
  }
}
