package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.cohortfusion.testing.StudyCohortConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code study} on a small generated cohort with a 2-cell grid (labs at its configured 4, and at 8)
 * and one fusion model, checked against what the cells' own stages wrote: exactly cells × models
 * rows; each cell's embeddings descriptor (extract's embeddings.json, read here as plain JSON) has
 * the cell's dimension for every modality; the AUROC and AUPRC of every row are those of the cell's
 * evaluate metrics.json; no survival field (outcome, testCIndex, testEvents) appears. Also the
 * refusals: no study block, and splits.folds = 2 (too few to cross-validate), each exit 2 with one
 * line.
 */
class StudyCommandTest {
  @TempDir Path dir;

  private Path config(String extra) throws Exception {
    return Files.writeString(
        dir.resolve("study-" + Math.abs(extra.hashCode()) + ".conf"),
        StudyCohortConfig.of("study-test", dir.resolve("in"), dir.resolve("out"), 2)
            + """
            fusion.models.cat { what = [clinical, labs], how = concat, head = [8] }
            %s
            """
                .formatted(extra));
  }

  @Test
  void studyWritesOneRowPerCellAndModelFromTheCellsOwnOutputs() throws Exception {
    assertEquals(
        0,
        CliRun.of(
                "generate",
                "--subjects",
                "300",
                "--seed",
                "11",
                "--missing",
                "labs=0.3",
                "--output",
                dir.resolve("in").toString())
            .code());
    Path conf = config("study { embedding-sizes { labs = [4, 8] }, models = [mean] }");
    CliRun run = CliRun.of("study", "--config", conf.toString());
    assertEquals(0, run.code(), run.out() + run.err());

    ObjectMapper json = new ObjectMapper();
    Path studyDir = dir.resolve("out/study");
    JsonNode study = json.readTree(studyDir.resolve("study.json").toFile());
    assertEquals(2, study.path("cells").size(), study.toString());
    // A class-label study's JSON carries no survival fields: readers of it see what they saw
    // before.
    assertFalse(study.has("outcome"), study.toString());
    assertEquals(2 * 1, study.path("rows").size(), study.toString());
    Set<String> cells = new HashSet<>();
    for (JsonNode row : study.path("rows")) {
      String cell = row.path("cell").asText();
      assertTrue(cells.add(cell), "a cell appears twice: " + cell);
      assertFalse(row.has("testCIndex") || row.has("testEvents"), row.toString());
      assertEquals("mean", row.path("model").asText());
      int expectedLabs = cell.equals("base") ? 4 : 8;
      assertEquals(expectedLabs, row.path("sizes").path("labs").asInt(), cell);
      // The oracle for the sizes: extract's descriptor of the cell's embeddings, not the study's
      // own bookkeeping.
      JsonNode emb = json.readTree(studyDir.resolve(cell + "/embeddings/embeddings.json").toFile());
      for (JsonNode m : emb.path("modalities")) {
        int dim = m.has("dim") ? m.path("dim").asInt() : m.path("dimension").asInt();
        String name = m.has("name") ? m.path("name").asText() : m.path("modality").asText();
        assertEquals(name.equals("labs") ? expectedLabs : 4, dim, cell + " " + name);
      }
      JsonNode metrics = json.readTree(studyDir.resolve(cell + "/evaluate/metrics.json").toFile());
      JsonNode mean = null;
      for (JsonNode m : metrics.path("models")) {
        if (m.path("name").asText().equals("mean")) {
          mean = m;
        }
      }
      assertTrue(mean != null, metrics.toString());
      assertEquals(
          mean.path("test").path("auroc").asDouble(), row.path("testAuroc").asDouble(), 0.0, cell);
      assertEquals(
          mean.path("test").path("auprc").asDouble(), row.path("testAuprc").asDouble(), 0.0, cell);
      double lower = row.path("testAurocLower").asDouble();
      double upper = row.path("testAurocUpper").asDouble();
      assertTrue(
          lower <= row.path("testAuroc").asDouble() && row.path("testAuroc").asDouble() <= upper,
          row.toString());
      assertTrue(row.path("parameters").asLong() > 0, row.toString());
      assertTrue(row.path("trainSeconds").asDouble() > 0, row.toString());
      double area = row.path("robustnessArea").asDouble();
      assertTrue(area > 0 && area <= 1, row.toString());
      // Only the study's model was trained in the cell (one train run with --model).
      JsonNode summary = json.readTree(studyDir.resolve(cell + "/train/summary.json").toFile());
      assertEquals(1, summary.path("models").size(), summary.toString());
    }
    assertEquals(Set.of("base", "labs-8"), cells);
    // labs' projection (projection = 4) takes 8 inputs instead of 4 in labs-8: 4 x 4 more weights,
    // all else equal.
    // Counting only the graph's layers (DL4J's numParams) would miss the fusion vertex's
    // projections: difference 0.
    long[] parameters = new long[2];
    for (JsonNode row : study.path("rows")) {
      parameters[row.path("cell").asText().equals("base") ? 0 : 1] =
          row.path("parameters").asLong();
    }
    assertEquals((8 - 4) * 4, parameters[1] - parameters[0], study.path("rows").toString());
    // One ingest, shared by the cells: no cohort below a cell.
    assertTrue(Files.isRegularFile(dir.resolve("out/cohort/cohort.json")));
    assertFalse(Files.exists(studyDir.resolve("base/cohort")));
    String page = Files.readString(studyDir.resolve("study.html"));
    assertTrue(
        page.contains("data:image/png;base64,") && page.contains("<td class=\"l\">labs-8</td>"),
        page);
  }

  @Test
  void refusesAConfigWithoutStudyAndTooFewFolds() throws Exception {
    CliRun none = CliRun.of("study", "--config", config("").toString());
    assertEquals(2, none.code(), none.out() + none.err());
    assertEquals(1, none.errLines().size(), none.err());
    assertTrue(
        none.err().contains("Cannot run a study: the config has no study block"), none.err());

    // Cross-validated studies run (CrossValidatedStudyTest); too few folds to cross-validate are
    // refused as run refuses them.
    CliRun folds =
        CliRun.of(
            "study", "--config", config("splits.folds = 2\nstudy { models = [mean] }").toString());
    assertEquals(2, folds.code(), folds.out() + folds.err());
    assertEquals(1, folds.errLines().size(), folds.err());
    assertTrue(
        folds.err().contains("Cannot run cross-validation with splits.folds = 2"), folds.err());
  }
}
