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
import org.cohortfusion.testing.AllPairsC;
import org.cohortfusion.testing.SurvivalCohortConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run} with {@code splits.folds = 3, repeats = 2} on a small generated cohort with a
 * survival outcome (event times derived from the generated label, so the models have something to
 * rank), checked against the per-fold prediction files with oracles of their own ({@link
 * AllPairsC}): every labeled subject has exactly one out-of-fold prediction per model and repeat,
 * held out in its own fold; cv/metrics.json's pooled C equals Harrell's C of the pooled out-of-fold
 * risks, overall and per missingness pattern (with its n, too small below min-pattern-size × 3);
 * its per-fold C equal the C of each fold's predictions, and their mean; the reference of the
 * paired comparisons is the best by pooled C among each modality's unimodal baseline chosen on
 * validation C per fold (each fold's metrics.json), a modality whose folds chose differently pooled
 * here from each subject's own fold's choice; the summary over repeats holds the pooled C of each
 * repeat's own fold files, and their mean.
 */
class SurvivalCrossValidationRunTest {
  private static final int K = 3;

  /**
   * With labs missing for 30% of 240 subjects, about 168 have both modalities and 72 clinical only:
   * 40 x 3 = 120 puts one pattern on each side of the threshold.
   */
  private static final int MIN_PATTERN_SIZE = 40;

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
            SurvivalCohortConfig.of("survival-cv-test", dir.resolve("in"), dir.resolve("out"))
                + """
                splits { folds = %d, repeats = 2 }
                evaluate.min-pattern-size = %d
                cv.parallelism = 2
                """
                    .formatted(K, MIN_PATTERN_SIZE));
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
    Map<String, String> patternOf = new HashMap<>();
    Map<String, double[]> foldC = new HashMap<>();
    for (int f = 0; f < K; f++) {
      Map<String, List<double[]>> fold = new HashMap<>();
      for (Row r :
          spark
              .read()
              .parquet(out.resolve("folds/" + f + "/evaluate/predictions").toString())
              .select("subject_id", "model", "risk", "duration", "event", "pattern")
              .collectAsList()) {
        assertEquals(f, foldOf.get(r.getString(0)), "fold " + f + " predicted another fold");
        patternOf.put(r.getString(0), r.getString(5));
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
        double c = AllPairsC.of(e.getValue());
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

    // Each fold's unimodal baseline per modality, chosen on validation C (its metrics.json); where
    // the folds chose differently, baseline:<m> takes each subject's row from its own fold's
    // choice.
    Map<String, List<String>> chosenPerFold = new java.util.TreeMap<>();
    for (int f = 0; f < K; f++) {
      for (JsonNode c :
          json.readTree(out.resolve("folds/" + f + "/evaluate/metrics.json").toFile())
              .path("unimodalBaselines")) {
        chosenPerFold
            .computeIfAbsent(c.path("modality").asText(), m -> new ArrayList<>())
            .add(c.path("chosen").asText());
      }
    }
    assertEquals(Set.of("clinical", "labs"), chosenPerFold.keySet());
    Map<String, Map<String, double[]>> all = new HashMap<>(oof);
    Set<String> candidates = new HashSet<>();
    chosenPerFold.forEach(
        (modality, chosen) -> {
          assertEquals(K, chosen.size(), modality);
          if (chosen.stream().distinct().count() == 1) {
            candidates.add(chosen.get(0));
            return;
          }
          String name = "baseline:" + modality;
          candidates.add(name);
          Map<String, double[]> rows = new HashMap<>();
          labeled.forEach(id -> rows.put(id, oof.get(chosen.get(foldOf.get(id))).get(id)));
          all.put(name, rows);
          double[] c = new double[K];
          for (int f = 0; f < K; f++) {
            c[f] = foldC.get(chosen.get(f))[f];
          }
          foldC.put(name, c);
        });
    String reference =
        candidates.stream()
            .max(
                java.util.Comparator.comparingDouble(
                    n -> AllPairsC.of(new ArrayList<>(all.get(n).values()))))
            .orElseThrow();

    JsonNode cv = json.readTree(out.resolve("cv/metrics.json").toFile());
    assertEquals("survival", cv.path("outcome").asText());
    assertEquals(labeled.size(), cv.path("subjects").asLong());
    assertEquals(reference, cv.path("reference").asText(), cv.path("unimodalBaselines").toString());
    assertTrue(cv.path("referenceRule").asText().contains("chosen on validation in each fold"));
    assertEquals(cv.path("models").size() - 1, cv.path("comparisons").size());
    cv.path("comparisons")
        .forEach(c -> assertEquals(reference, c.path("reference").asText(), c.toString()));
    assertTrue(run.out().contains("(chosen on validation per fold;"), run.out());
    Set<String> pooledModels = new HashSet<>();
    for (JsonNode m : cv.path("models")) {
      String name = m.path("name").asText();
      pooledModels.add(name);
      double pooled = AllPairsC.of(new ArrayList<>(all.get(name).values()));
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

      Map<String, List<double[]>> byPattern = new HashMap<>();
      all.get(name)
          .forEach(
              (id, v) ->
                  byPattern.computeIfAbsent(patternOf.get(id), p -> new ArrayList<>()).add(v));
      Map<String, JsonNode> written = new HashMap<>();
      m.path("patterns").forEach(p -> written.put(p.path("pattern").asText(), p));
      assertEquals(byPattern.keySet(), written.keySet(), name);
      for (Map.Entry<String, List<double[]>> p : byPattern.entrySet()) {
        JsonNode w = written.get(p.getKey());
        int n = p.getValue().size();
        assertEquals(n, w.path("n").asLong(), name + " " + p.getKey());
        assertEquals(
            n < MIN_PATTERN_SIZE * K, w.path("small").asBoolean(), name + " " + p.getKey());
        // NaN (no comparable pair) is written as "NaN" and equals NaN here.
        assertEquals(
            AllPairsC.of(p.getValue()),
            w.path("cIndex").asDouble(),
            1e-12,
            name + " " + p.getKey());
      }
    }
    assertEquals(all.keySet(), pooledModels);
    Map<String, Long> patternSizes = new HashMap<>();
    labeled.forEach(id -> patternSizes.merge(patternOf.get(id), 1L, Long::sum));
    assertTrue(
        patternSizes.values().stream().anyMatch(n -> n < MIN_PATTERN_SIZE * K)
            && patternSizes.values().stream().anyMatch(n -> n >= MIN_PATTERN_SIZE * K),
        "one pattern on each side of the threshold: " + patternSizes.values());

    // Repeat 1: its own fold files, pooled into repeats/1/cv; repeat 0's file sums both up.
    Map<String, List<double[]>> oof1 = new HashMap<>();
    for (int f = 0; f < K; f++) {
      for (Row r :
          spark
              .read()
              .parquet(out.resolve("repeats/1/folds/" + f + "/evaluate/predictions").toString())
              .select("model", "risk", "duration", "event")
              .collectAsList()) {
        oof1.computeIfAbsent(r.getString(0), m -> new ArrayList<>())
            .add(new double[] {r.getDouble(1), r.getDouble(2), r.getInt(3)});
      }
    }
    oof1.values().forEach(v -> assertEquals(labeled.size(), v.size()));
    // A baseline:<m> is summed up over repeats only when repeat 1's folds also chose differently.
    JsonNode repeated = cv.path("repeated");
    Set<String> overRepeats = new HashSet<>();
    repeated.fieldNames().forEachRemaining(overRepeats::add);
    assertTrue(overRepeats.containsAll(oof.keySet()), overRepeats.toString());
    assertTrue(pooledModels.containsAll(overRepeats), overRepeats.toString());
    for (String name : oof.keySet()) {
      double c0 = AllPairsC.of(new ArrayList<>(oof.get(name).values()));
      double c1 = AllPairsC.of(oof1.get(name));
      JsonNode rep = repeated.path(name);
      assertEquals(c0, rep.path("pooledC").get(0).asDouble(), 1e-12, name);
      assertEquals(c1, rep.path("pooledC").get(1).asDouble(), 1e-12, name);
      assertEquals((c0 + c1) / 2, rep.path("pooledCOverRepeats").path("mean").asDouble(), 1e-12);
    }
    assertTrue(run.out().contains("Repeated k-fold, 2 repeats: pooled C"), run.out());
    String page = Files.readString(out.resolve("cv/report.html"));
    assertTrue(page.contains("3-fold cross-validation (survival)"), page);
    assertTrue(page.contains("Missingness patterns (pooled)"), page);
    assertTrue(page.contains("<h2>Repeats</h2>"), page);
  }
}
