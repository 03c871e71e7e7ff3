package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.apache.spark.sql.functions;
import org.cohortfusion.testing.AllPairsC;
import org.cohortfusion.testing.SurvivalCohortConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code study} on a small generated cohort with a survival outcome (event times derived from the
 * generated label, as in {@link SurvivalCrossValidationRunTest}), a 2-cell grid (labs at its
 * configured 4, and at 8) and two fusion models, checked against each cell's own evaluate outputs
 * with oracles of its own: one row per cell × model; every row's C equals Harrell's C over all
 * pairs (written out in {@link AllPairsC}) of that cell's predictions of that model, its n and
 * events are those predictions' subjects and events, its interval holds C; its robustness area is
 * the trapezoid of evaluate's C against the removal rate. The table and the page name the metric C,
 * not AUROC.
 */
class SurvivalStudyCommandTest {
  private static final List<String> MODELS = List.of("mean", "cat");
  @TempDir Path dir;

  @Test
  void survivalStudyReportsEachCellsHarrellsC() throws Exception {
    assertEquals(
        0,
        CliRun.of(
                "generate",
                "--subjects",
                "240",
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
            SurvivalCohortConfig.of("survival-study-test", dir.resolve("in"), dir.resolve("out"))
                + """
                pretrain.encoders { clinical.epochs = 1, labs.epochs = 1 }
                fusion.models.cat { what = [clinical, labs], how = concat, head = [8] }
                study { embedding-sizes { labs = [4, 8] }, models = [%s] }
                """
                    .formatted(String.join(", ", MODELS)));
    CliRun run = CliRun.of("study", "--config", conf.toString());
    assertEquals(0, run.code(), run.out() + run.err());
    assertTrue(run.out().contains("test C [95% CI]"), run.out());

    ObjectMapper json = new ObjectMapper();
    SparkSession spark = SparkSession.builder().getOrCreate();
    Path studyDir = dir.resolve("out/study");
    JsonNode study = json.readTree(studyDir.resolve("study.json").toFile());
    assertEquals("survival", study.path("outcome").asText(), study.toString());
    Set<String> seen = new HashSet<>();
    for (JsonNode row : study.path("rows")) {
      String cell = row.path("cell").asText();
      String model = row.path("model").asText();
      assertTrue(seen.add(cell + "/" + model), "a row appears twice: " + cell + "/" + model);
      List<double[]> predictions = new ArrayList<>();
      long events = 0;
      for (Row p :
          spark
              .read()
              .parquet(studyDir.resolve(cell + "/evaluate/predictions").toString())
              .where(functions.col("model").equalTo(model))
              .select("risk", "duration", "event")
              .collectAsList()) {
        predictions.add(new double[] {p.getDouble(0), p.getDouble(1), p.getInt(2)});
        events += p.getInt(2);
      }
      double c = AllPairsC.of(predictions);
      String what = cell + "/" + model;
      assertEquals(c, row.path("testCIndex").asDouble(), 1e-12, what);
      assertTrue(
          row.path("testCLower").asDouble() <= c && c <= row.path("testCUpper").asDouble(),
          row.toString());
      assertEquals(predictions.size(), row.path("testSubjects").asLong(), what);
      assertEquals(events, row.path("testEvents").asLong(), what);
      assertTrue(row.path("parameters").asLong() > 0, row.toString());
      assertTrue(row.path("trainSeconds").asDouble() > 0, row.toString());

      JsonNode metrics = json.readTree(studyDir.resolve(cell + "/evaluate/metrics.json").toFile());
      JsonNode rates = metrics.path("removalRates");
      JsonNode curve = null;
      for (JsonNode m : metrics.path("models")) {
        if (m.path("name").asText().equals(model)) {
          curve = m.path("robustness");
        }
      }
      assertTrue(curve != null && curve.size() == rates.size(), metrics.toString());
      double area = 0;
      for (int i = 1; i < rates.size(); i++) {
        double width = rates.get(i).asDouble() - rates.get(i - 1).asDouble();
        area += width * (curve.get(i).asDouble() + curve.get(i - 1).asDouble()) / 2;
      }
      double span = rates.get(rates.size() - 1).asDouble() - rates.get(0).asDouble();
      assertEquals(area / span, row.path("robustnessArea").asDouble(), 1e-12, what);
    }
    Set<String> expected = new HashSet<>();
    for (String cell : List.of("base", "labs-8")) {
      MODELS.forEach(m -> expected.add(cell + "/" + m));
    }
    assertEquals(expected, seen);
    String page = Files.readString(studyDir.resolve("study.html"));
    assertTrue(page.contains("<th>test C [95% CI]</th>"), page);
    assertFalse(page.contains("test AUROC"), page);
  }
}
