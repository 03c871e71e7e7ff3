package org.cohortfusion.cli;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.testing.AllPairsC;
import org.cohortfusion.testing.SurvivalCohortConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code study} of a survival outcome with {@code splits.folds = 3, repeats = 2} and one cell (the
 * base sizes) and one model, checked with oracles of its own: the row's pooled n is the number of
 * labeled subjects with a fold in ingest's aligned cohort; its C is Harrell's C over all pairs
 * ({@link AllPairsC}) of repeat 0's out-of-fold predictions read from the cell's fold files, its
 * events theirs; the mean over repeats is that of both repeats' pooled C; the fold mean is that of
 * the six folds' C; the robustness area is the mean of the six folds' trapezoids of evaluate's C
 * against the removal rate (each fold's metrics.json).
 */
class CrossValidatedSurvivalStudyTest {
  private static final int K = 3;
  private static final int REPEATS = 2;
  @TempDir Path dir;

  @Test
  void survivalCellsReadThePooledOutOfFoldCOfEveryRepeat() throws Exception {
    assertEquals(
        0,
        CliRun.of(
                "generate",
                "--subjects",
                "180",
                "--seed",
                "21",
                "--missing",
                "labs=0.3",
                "--output",
                dir.resolve("in").toString())
            .code());
    Path conf =
        Files.writeString(
            dir.resolve("study.conf"),
            SurvivalCohortConfig.of("survival-cv-study-test", dir.resolve("in"), dir.resolve("out"))
                + """
                pretrain.encoders { clinical.epochs = 1, labs.epochs = 1 }
                train.epochs = 1
                splits { folds = %d, repeats = %d }
                study { models = [mean], parallelism = 2 }
                """
                    .formatted(K, REPEATS));
    CliRun run = CliRun.of("study", "--config", conf.toString());
    assertEquals(0, run.code(), run.out() + run.err());
    assertTrue(run.out().contains("pooled C [95% CI]"), run.out());

    SparkSession spark = SparkSession.builder().getOrCreate();
    Path out = dir.resolve("out");
    long withFold =
        spark
            .read()
            .parquet(out.resolve("cohort").resolve(CohortManifest.ALIGNED).toString())
            .where(col(Columns.FOLD).isNotNull().and(col(Columns.LABEL).isNotNull()))
            .count();
    Path cell = out.resolve("study/base");
    assertTrue(Files.isDirectory(cell.resolve("repeats/1/assignment")), "repeat 1's folds");

    ObjectMapper json = new ObjectMapper();
    double[] pooledC = new double[REPEATS];
    long events = 0;
    double foldSum = 0;
    double areaSum = 0;
    for (int r = 0; r < REPEATS; r++) {
      Path root = r == 0 ? cell : cell.resolve("repeats/" + r);
      List<double[]> pooled = new ArrayList<>();
      Set<String> predicted = new HashSet<>();
      for (int f = 0; f < K; f++) {
        Path fold = root.resolve("folds/" + f);
        List<double[]> part = new ArrayList<>();
        for (Row p :
            spark
                .read()
                .parquet(fold.resolve("evaluate/predictions").toString())
                .where(col("model").equalTo("mean"))
                .select(col(Columns.SUBJECT_ID), col("risk"), col(Columns.DURATION), col("event"))
                .collectAsList()) {
          assertTrue(predicted.add(p.getString(0)), "repeat " + r + ": a subject in two folds");
          part.add(new double[] {p.getDouble(1), p.getDouble(2), p.getInt(3)});
        }
        foldSum += AllPairsC.of(part);
        pooled.addAll(part);
        JsonNode metrics = json.readTree(fold.resolve("evaluate/metrics.json").toFile());
        JsonNode rates = metrics.path("removalRates");
        JsonNode curve = null;
        for (JsonNode m : metrics.path("models")) {
          if (m.path("name").asText().equals("mean")) {
            curve = m.path("robustness");
          }
        }
        assertTrue(curve != null && curve.size() == rates.size(), metrics.toString());
        double area = 0;
        for (int i = 1; i < rates.size(); i++) {
          double width = rates.get(i).asDouble() - rates.get(i - 1).asDouble();
          area += width * (curve.get(i).asDouble() + curve.get(i - 1).asDouble()) / 2;
        }
        areaSum += area / (rates.get(rates.size() - 1).asDouble() - rates.get(0).asDouble());
      }
      assertEquals(withFold, pooled.size(), "repeat " + r + ": out-of-fold predictions");
      pooledC[r] = AllPairsC.of(pooled);
      if (r == 0) {
        events = pooled.stream().filter(p -> p[2] == 1).count();
      }
    }

    JsonNode study = json.readTree(out.resolve("study/study.json").toFile());
    assertEquals("survival", study.path("outcome").asText(), study.toString());
    assertTrue(study.path("crossValidated").asBoolean(), study.toString());
    assertEquals(K, study.path("folds").asInt());
    assertEquals(REPEATS, study.path("repeats").asInt());
    assertEquals(1, study.path("rows").size(), study.toString());
    JsonNode row = study.path("rows").get(0);
    assertEquals(withFold, row.path("testSubjects").asLong(), row.toString());
    assertEquals(events, row.path("testEvents").asLong(), row.toString());
    assertEquals(pooledC[0], row.path("testCIndex").asDouble(), 1e-12, row.toString());
    assertTrue(
        row.path("testCLower").asDouble() <= pooledC[0]
            && pooledC[0] <= row.path("testCUpper").asDouble(),
        row.toString());
    assertEquals(
        (pooledC[0] + pooledC[1]) / 2, row.path("repeatsMean").asDouble(), 1e-12, row.toString());
    assertEquals(foldSum / (K * REPEATS), row.path("foldMean").asDouble(), 1e-12, row.toString());
    assertEquals(
        areaSum / (K * REPEATS), row.path("robustnessArea").asDouble(), 1e-12, row.toString());
    assertTrue(row.path("trainSeconds").asDouble() > 0, row.toString());
    String page = Files.readString(out.resolve("study/study.html"));
    assertTrue(
        page.contains("pooled out-of-fold C [95% CI]")
            && page.contains(
                String.format(
                    java.util.Locale.ROOT,
                    "<td>%.3f ± %.3f</td>",
                    row.path("repeatsMean").asDouble(),
                    row.path("repeatsSd").asDouble())),
        page);
  }
}
