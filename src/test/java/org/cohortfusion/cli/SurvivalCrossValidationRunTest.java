package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run} with {@code splits.folds = 3} on a small generated cohort with a survival outcome
 * (event times derived from the generated label, so the models have something to rank), checked
 * against the per-fold prediction files with oracles of its own: every labeled subject has exactly
 * one out-of-fold prediction per model, held out in its own fold; cv/metrics.json's pooled C equals
 * Harrell's C over all pairs (written out here) of the pooled out-of-fold risks; its per-fold C
 * equal the C of each fold's predictions, and their mean.
 */
class SurvivalCrossValidationRunTest {
  private static final int K = 3;
  @TempDir Path dir;

  @Test
  void pooledCIsHarrellsCOfTheFoldsPredictions() throws Exception {
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
            dir.resolve("cv.conf"),
            """
        name = survival-cv-test
        cohort-dir = "%s"
        subjects {
          path = subjects
          sql = \"\"\"
            SELECT *, index_time + CASE WHEN label = 1 THEN 1 + pmod(hash(subject_id), 100) / 50.0
                                        ELSE 2 + pmod(hash(subject_id), 100) / 25.0 END AS event_time
            FROM source
          \"\"\"
          outcome { kind = survival, intervals = [1.5, 2.5, 4, 6], horizons = [2, 3] }
        }
        modalities {
          clinical { kind = tabular, path = clinical }
          labs { kind = timeseries, path = labs, steps = 4 }
        }
        splits { seed = 5, folds = %d }
        output { dir = "%s" }
        pretrain.encoders {
          clinical { embedding-size = 4, hidden = [8], epochs = 2 }
          labs { embedding-size = 4, cell = cnn, epochs = 2 }
        }
        fusion { default = mean, models { mean { what = [clinical, labs], how = mean, projection = 4, head = [8] } } }
        train { mode = local, validation = driver, epochs = 2, batch-size = 32 }
        cv.parallelism = 2
        """
                .formatted(dir.resolve("in"), K, dir.resolve("out")));
    CliRun run = CliRun.of("run", "--config", conf.toString(), "--to", "evaluate");
    assertEquals(0, run.code(), run.out() + run.err());
    assertTrue(run.out().contains("Survival cross-validation: 3 folds"), run.out());

    SparkSession spark = SparkSession.builder().getOrCreate();
    Path out = dir.resolve("out");
    Map<String, Integer> foldOf = new HashMap<>();
    Set<String> labeled = new HashSet<>();
    for (Row r :
        spark
            .read()
            .parquet(out.resolve("cohort/aligned").toString())
            .select("subject_id", "fold", "label")
            .collectAsList()) {
      foldOf.put(r.getString(0), r.getInt(1));
      if (!r.isNullAt(2)) {
        labeled.add(r.getString(0));
      }
    }
    ObjectMapper json = new ObjectMapper();
    // model -> subject -> {risk, duration, event}
    Map<String, Map<String, double[]>> oof = new HashMap<>();
    Map<String, double[]> foldC = new HashMap<>();
    for (int f = 0; f < K; f++) {
      Map<String, List<double[]>> fold = new HashMap<>();
      for (Row r :
          spark
              .read()
              .parquet(out.resolve("folds/" + f + "/evaluate/predictions").toString())
              .select("subject_id", "model", "risk", "duration", "event")
              .collectAsList()) {
        assertEquals(f, foldOf.get(r.getString(0)), "fold " + f + " predicted another fold");
        double[] v = {r.getDouble(2), r.getDouble(3), r.getInt(4)};
        assertEquals(
            null,
            oof.computeIfAbsent(r.getString(1), m -> new HashMap<>()).put(r.getString(0), v),
            "a subject has two out-of-fold predictions for " + r.getString(1));
        fold.computeIfAbsent(r.getString(1), m -> new ArrayList<>()).add(v);
      }
      JsonNode metrics =
          json.readTree(out.resolve("folds/" + f + "/evaluate/metrics.json").toFile());
      for (Map.Entry<String, List<double[]>> e : fold.entrySet()) {
        double c = allPairsC(e.getValue());
        foldC.computeIfAbsent(e.getKey(), m -> new double[K])[f] = c;
        for (JsonNode m : metrics.path("models")) {
          if (m.path("name").asText().equals(e.getKey())) {
            assertEquals(c, m.path("test").path("cIndex").asDouble(), 1e-12, e.getKey());
          }
        }
      }
    }
    assertTrue(oof.size() >= 3, "clinical, labs and mean at least: " + oof.keySet());
    oof.values().forEach(byId -> assertEquals(labeled, byId.keySet()));

    JsonNode cv = json.readTree(out.resolve("cv/metrics.json").toFile());
    assertEquals("survival", cv.path("outcome").asText());
    assertEquals(labeled.size(), cv.path("subjects").asLong());
    Set<String> pooledModels = new HashSet<>();
    for (JsonNode m : cv.path("models")) {
      String name = m.path("name").asText();
      pooledModels.add(name);
      double pooled = allPairsC(new ArrayList<>(oof.get(name).values()));
      assertEquals(pooled, m.path("pooledC").asDouble(), 1e-12, name);
      assertTrue(
          m.path("pooledCLower").asDouble() <= pooled
              && pooled <= m.path("pooledCUpper").asDouble(),
          name);
      double[] c = foldC.get(name);
      for (int f = 0; f < K; f++) {
        assertEquals(c[f], m.path("foldC").get(f).asDouble(), 1e-12, name + " fold " + f);
      }
      assertEquals(
          (c[0] + c[1] + c[2]) / 3, m.path("foldCIndex").path("mean").asDouble(), 1e-12, name);
    }
    assertEquals(oof.keySet(), pooledModels);
    String page = Files.readString(out.resolve("cv/report.html"));
    assertTrue(page.contains("3-fold cross-validation (survival)"), page);
  }

  /**
   * Harrell's C over all pairs of {risk, duration, event}: (i, j) comparable when i had the event
   * and t_i &lt; t_j, or t_i == t_j with j censored; concordant when i's risk is higher, one half
   * when equal.
   */
  static double allPairsC(List<double[]> s) {
    double score = 0;
    long comparable = 0;
    for (double[] i : s) {
      for (double[] j : s) {
        if (i != j && i[2] == 1 && (i[1] < j[1] || (i[1] == j[1] && j[2] == 0))) {
          comparable++;
          score += i[0] > j[0] ? 1 : i[0] == j[0] ? 0.5 : 0;
        }
      }
    }
    return score / comparable;
  }
}
