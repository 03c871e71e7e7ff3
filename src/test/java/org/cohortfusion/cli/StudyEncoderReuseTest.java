package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.cohortfusion.testing.StudyCohortConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code study} pretrains each distinct (modality, size) encoder once: on a 3-cell grid (base,
 * clinical-8, labs-8) with two modalities, checked against the files the cells hold, hashed here:
 * each cell's pretrain metrics.json lists the encoders fitted in it (base: both modalities; a
 * varied cell: only its varied one); in a varied cell the unvaried modality's model.zip is byte for
 * byte the base cell's (same SHA-256) and the varied one's is not; each cell's extract used the
 * model.zip found in the cell (embeddings.json's encoder checksums) at the cell's sizes; and
 * study.json has one row per cell × model.
 */
class StudyEncoderReuseTest {
  @TempDir Path dir;

  @Test
  void eachEncoderIsPretrainedOnceAndReusedByTheCellsThatDoNotVaryIt() throws Exception {
    assertEquals(
        0,
        CliRun.of(
                "generate",
                "--subjects",
                "200",
                "--seed",
                "11",
                "--missing",
                "labs=0.3",
                "--output",
                dir.resolve("in").toString())
            .code());
    Path conf =
        Files.writeString(
            dir.resolve("study-reuse.conf"),
            StudyCohortConfig.of("study-reuse-test", dir.resolve("in"), dir.resolve("out"), 1)
                + "study { embedding-sizes { clinical = [8], labs = [4, 8] }, models = [mean] }\n");
    CliRun run = CliRun.of("study", "--config", conf.toString());
    assertEquals(0, run.code(), run.out() + run.err());

    ObjectMapper json = new ObjectMapper();
    Path studyDir = dir.resolve("out/study");
    Map<String, String> varied = Map.of("base", "", "clinical-8", "clinical", "labs-8", "labs");
    List<String> modalities = List.of("clinical", "labs");
    for (Map.Entry<String, String> cell : varied.entrySet()) {
      Path pretrain = studyDir.resolve(cell.getKey() + "/pretrain");
      // (1) The encoders fitted in the cell: pretrain's metrics.json lists exactly those.
      Set<String> fitted = new TreeSet<>();
      for (JsonNode m :
          json.readTree(pretrain.resolve("metrics.json").toFile()).path("modalities")) {
        fitted.add(m.path("modality").asText());
      }
      assertEquals(
          cell.getValue().isEmpty() ? Set.copyOf(modalities) : Set.of(cell.getValue()),
          fitted,
          cell.getKey());
      JsonNode emb =
          json.readTree(studyDir.resolve(cell.getKey() + "/embeddings/embeddings.json").toFile());
      for (String m : modalities) {
        String sha = sha256(pretrain.resolve(m + "/encoder/model.zip"));
        String baseSha = sha256(studyDir.resolve("base/pretrain/" + m + "/encoder/model.zip"));
        if (!cell.getValue().isEmpty()) {
          // (2) The unvaried modality's encoder is the base cell's, byte for byte; the varied one
          // was fitted in the cell.
          if (m.equals(cell.getValue())) {
            assertNotEquals(baseSha, sha, cell.getKey() + " " + m);
          } else {
            assertEquals(baseSha, sha, cell.getKey() + " " + m);
          }
        }
        // Extract ran the encoder found in the cell, at the cell's size.
        JsonNode described = null;
        for (JsonNode e : emb.path("modalities")) {
          if (e.path("modality").asText().equals(m)) {
            described = e;
          }
        }
        assertTrue(described != null, emb.toString());
        assertEquals(sha, described.path("encoderSha256").asText(), cell.getKey() + " " + m);
        assertEquals(m.equals(cell.getValue()) ? 8 : 4, described.path("dimension").asInt(), m);
      }
    }
    // (3) The study still completes: one row per cell x model.
    JsonNode study = json.readTree(studyDir.resolve("study.json").toFile());
    assertEquals(3 * 1, study.path("rows").size(), study.toString());
    Set<String> rows = new HashSet<>();
    for (JsonNode row : study.path("rows")) {
      assertTrue(
          rows.add(row.path("cell").asText() + "/" + row.path("model").asText()), row.toString());
      assertTrue(row.path("testAuroc").isNumber(), row.toString());
    }
    assertEquals(Set.of("base/mean", "clinical-8/mean", "labs-8/mean"), rows);
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
