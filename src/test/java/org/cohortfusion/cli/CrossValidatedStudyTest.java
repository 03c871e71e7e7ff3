package org.cohortfusion.cli;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import org.cohortfusion.testing.MannWhitneyAuroc;
import org.cohortfusion.testing.StudyCohortConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code study} with {@code splits.folds = 3} on a small generated cohort, a 2-cell grid (labs at
 * its configured 4, and at 8) and one fusion model, checked with oracles of its own: every cell has
 * its 3 folds' evaluate outputs and a pooled cv/metrics.json; study.json says crossValidated, 3
 * folds, 1 repeat, and has one row per cell × model; each row's pooled n is the number of labeled
 * subjects with a fold in ingest's aligned cohort (counted here with Spark), its pooled AUROC is
 * the Mann–Whitney AUROC ({@link MannWhitneyAuroc}) of the out-of-fold predictions read here from
 * the cell's fold prediction files (every labeled subject exactly once), its interval holds it, and
 * its fold mean ± sd is that of the per-fold AUROCs recomputed from the same files. Encoders are
 * pretrained once per fold: labs-8 fits only labs and holds the base cell's clinical encoder of the
 * same fold byte for byte.
 */
class CrossValidatedStudyTest {
  private static final int K = 3;
  @TempDir Path dir;

  @Test
  void everyCellIsCrossValidatedAndItsRowReadsThePooledOutOfFoldPredictions() throws Exception {
    assertEquals(
        0,
        CliRun.of(
                "generate",
                "--subjects",
                "180",
                "--seed",
                "11",
                "--missing",
                "labs=0.3",
                "--output",
                dir.resolve("in").toString())
            .code());
    Path conf =
        Files.writeString(
            dir.resolve("study-cv.conf"),
            StudyCohortConfig.of("study-cv-test", dir.resolve("in"), dir.resolve("out"), 1)
                + """
                splits.folds = %d
                study { embedding-sizes { labs = [4, 8] }, models = [mean], parallelism = 2 }
                """
                    .formatted(K));
    CliRun run = CliRun.of("study", "--config", conf.toString());
    assertEquals(0, run.code(), run.out() + run.err());
    assertTrue(run.out().contains("pooled AUROC [95% CI]"), run.out());

    SparkSession spark = SparkSession.builder().getOrCreate();
    Path out = dir.resolve("out");
    // The oracle of the pooled n: labeled subjects with a fold in ingest's aligned cohort.
    long withFold =
        spark
            .read()
            .parquet(out.resolve("cohort").resolve(CohortManifest.ALIGNED).toString())
            .where(col(Columns.FOLD).isNotNull().and(col(Columns.LABEL).isNotNull()))
            .count();
    assertTrue(withFold > 90, "labeled subjects with a fold: " + withFold);

    ObjectMapper json = new ObjectMapper();
    Path studyDir = out.resolve("study");
    JsonNode study = json.readTree(studyDir.resolve("study.json").toFile());
    assertTrue(study.path("crossValidated").asBoolean(), study.toString());
    assertEquals(K, study.path("folds").asInt(), study.toString());
    assertEquals(1, study.path("repeats").asInt(), study.toString());
    assertEquals(2, study.path("cells").size(), study.toString());
    assertEquals(2 * 1, study.path("rows").size(), study.toString());
    Set<String> cells = new HashSet<>();
    for (JsonNode row : study.path("rows")) {
      String cell = row.path("cell").asText();
      assertTrue(cells.add(cell), "a cell appears twice: " + cell);
      assertEquals("mean", row.path("model").asText());
      Path cellDir = studyDir.resolve(cell);
      assertTrue(Files.isRegularFile(cellDir.resolve("cv/metrics.json")), cell);

      // The out-of-fold predictions, read from each fold's own prediction files.
      List<double[]> pooled = new ArrayList<>();
      Set<String> predicted = new HashSet<>();
      double[] foldAuroc = new double[K];
      for (int f = 0; f < K; f++) {
        Path fold = cellDir.resolve("folds/" + f);
        assertTrue(Files.isRegularFile(fold.resolve("evaluate/metrics.json")), cell + " " + f);
        List<double[]> part = new ArrayList<>();
        for (Row p :
            spark
                .read()
                .parquet(fold.resolve("evaluate/predictions").toString())
                .where(col("model").equalTo("mean"))
                .select(col(Columns.SUBJECT_ID), col("probability"), col(Columns.LABEL))
                .collectAsList()) {
          assertTrue(predicted.add(p.getString(0)), cell + ": a subject predicted in two folds");
          part.add(new double[] {p.getDouble(1), p.getInt(2)});
        }
        assertTrue(!part.isEmpty(), cell + " fold " + f + " predicted nobody");
        foldAuroc[f] = MannWhitneyAuroc.of(part);
        pooled.addAll(part);
      }
      assertEquals(withFold, pooled.size(), cell + ": out-of-fold predictions");
      assertEquals(withFold, row.path("testSubjects").asLong(), cell + ": pooled n");
      double auroc = MannWhitneyAuroc.of(pooled);
      assertEquals(auroc, row.path("testAuroc").asDouble(), 1e-12, cell + ": pooled AUROC");
      assertTrue(
          row.path("testAurocLower").asDouble() <= auroc
              && auroc <= row.path("testAurocUpper").asDouble(),
          row.toString());
      double mean = (foldAuroc[0] + foldAuroc[1] + foldAuroc[2]) / K;
      double ss = 0;
      for (double a : foldAuroc) {
        ss += (a - mean) * (a - mean);
      }
      assertEquals(mean, row.path("foldMean").asDouble(), 1e-12, cell + ": fold mean");
      assertEquals(Math.sqrt(ss / (K - 1)), row.path("foldSd").asDouble(), 1e-12, cell);
      assertTrue(row.path("parameters").asLong() > 0, row.toString());
      assertTrue(row.path("trainSeconds").asDouble() > 0, row.toString());
      double area = row.path("robustnessArea").asDouble();
      assertTrue(area > 0 && area <= 1, row.toString());
      assertTrue(!row.has("repeatsMean"), row.toString());
      assertNull(row.get("testCIndex"), row.toString());
    }
    assertEquals(Set.of("base", "labs-8"), cells);
    // The cell's sizes reached its folds' stages: labs' projection (projection = 4) takes 8 inputs
    // in labs-8 instead of 4, so 4 x 4 more weights, in every fold (one count per row).
    long[] parameters = new long[2];
    for (JsonNode row : study.path("rows")) {
      parameters[row.path("cell").asText().equals("base") ? 0 : 1] =
          row.path("parameters").asLong();
    }
    assertEquals((8 - 4) * 4, parameters[1] - parameters[0], study.path("rows").toString());
    // Each encoder is pretrained once per fold: in every fold labs-8 fits only labs (its
    // pretrain metrics.json lists only labs) and holds the base cell's clinical encoder of the same
    // fold, byte for byte (SHA-256 of model.zip, hashed here); the base cell fits both.
    for (int f = 0; f < K; f++) {
      Path base = studyDir.resolve("base/folds/" + f + "/pretrain");
      Path varied = studyDir.resolve("labs-8/folds/" + f + "/pretrain");
      assertEquals(Set.of("clinical", "labs"), pretrained(json, base), "base fold " + f);
      assertEquals(Set.of("labs"), pretrained(json, varied), "labs-8 fold " + f);
      assertEquals(
          sha256(base.resolve("clinical/encoder/model.zip")),
          sha256(varied.resolve("clinical/encoder/model.zip")),
          "labs-8 fold " + f + ": clinical");
    }
    String page = Files.readString(studyDir.resolve("study.html"));
    assertTrue(
        page.contains("pooled out-of-fold AUROC [95% CI]")
            && page.contains("train s (mean over folds)")
            && page.contains("<td class=\"l\">labs-8</td>"),
        page);
  }

  /** The modalities pretrain's metrics.json in {@code pretrainDir} lists. */
  private static Set<String> pretrained(ObjectMapper json, Path pretrainDir) throws Exception {
    Set<String> names = new HashSet<>();
    for (JsonNode m :
        json.readTree(pretrainDir.resolve("metrics.json").toFile()).path("modalities")) {
      names.add(m.path("modality").asText());
    }
    return names;
  }

  private static String sha256(Path file) throws Exception {
    return java.util.HexFormat.of()
        .formatHex(
            java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
