package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import org.cohortfusion.testing.MannWhitneyAuroc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run} with {@code splits.folds = 3} on a small generated cohort (labs missing for a third),
 * checked against what was actually written, with oracles of its own:
 *
 * <ul>
 *   <li>fold isolation: every fold's clinical encoder carries preprocessing means equal to the
 *       means recomputed here from ingest's aligned rows of that fold's training folds (fold not f
 *       and not (f + 1) mod k, as documented), and different from the means with the held-out
 *       fold's rows added; the encoder's recorded training subjects are exactly as many as the
 *       labeled subjects of the training folds; the fold's test predictions are exactly the labeled
 *       subjects of fold f, for the end-to-end model (which reads the aligned cohort itself, not
 *       the embeddings) as for the others;
 *   <li>every labeled subject has exactly one out-of-fold prediction per model;
 *   <li>the pooled AUROC (Mann–Whitney over all pairs, ties one half, written out here) and Brier
 *       score, the per-fold AUROC mean and sd, and the pooled pattern sizes in cv/metrics.json
 *       equal those recomputed from the per-fold prediction files;
 *   <li>the reference of the paired comparisons is the best by pooled AUROC among each modality's
 *       unimodal baseline chosen on validation per fold (each fold's metrics.json), a modality
 *       whose folds chose differently pooled here from each subject's own fold's choice;
 *   <li>repeated k-fold (2 repeats): the second repeat's folds are another partition, checked the
 *       same way, and the summary over repeats carries both repeats' pooled AUROCs.
 * </ul>
 */
class CrossValidationRunTest {
  private static final int K = 3;
  @TempDir Path dir;

  @Test
  void foldsAreIsolatedAndPooledMetricsMatchThePerFoldPredictions() throws Exception {
    assertEquals(
        0,
        CliRun.of(
                "generate",
                "--subjects",
                "300",
                "--seed",
                "11",
                "--missing",
                "labs=0.33",
                "--output",
                dir.resolve("in").toString())
            .code());
    Path conf =
        Files.writeString(
            dir.resolve("cv.conf"),
            """
        name = cv-test
        cohort-dir = "%s"
        subjects { path = subjects }
        modalities {
          clinical { kind = tabular, path = clinical }
          labs { kind = timeseries, path = labs, steps = 4 }
        }
        splits { seed = 5, folds = %d, repeats = 2 }
        output { dir = "%s" }
        pretrain.encoders {
          clinical { embedding-size = 4, hidden = [8], epochs = 2 }
          labs { embedding-size = 4, cell = cnn, epochs = 2 }
        }
        fusion {
          default = mean
          models {
            mean { what = [clinical, labs], how = mean, projection = 4, head = [8] }
            e2e { what = [clinical, labs], when = input, how = concat, projection = 4, head = [8], wide = true }
          }
        }
        train { mode = local, epochs = 2, batch-size = 32 }
        cv.parallelism = 2
        """
                .formatted(dir.resolve("in"), K, dir.resolve("out")));
    CliRun run = CliRun.of("run", "--config", conf.toString(), "--to", "evaluate");
    assertEquals(0, run.code(), run.out() + run.err());
    assertTrue(run.out().contains("Cross-validation: 3 folds"), run.out());
    assertTrue(run.out().contains("(chosen on validation per fold;"), run.out());

    SparkSession spark = SparkSession.builder().getOrCreate();
    Path out = dir.resolve("out");
    // Ingest's aligned rows: the input every fold must partition.
    List<Row> aligned =
        spark
            .read()
            .parquet(out.resolve("cohort/aligned").toString())
            .selectExpr("subject_id", "fold", "label", "has_clinical", "clinical.age AS age")
            .collectAsList();
    Map<String, Integer> foldOf = new HashMap<>();
    Set<String> labeled = new HashSet<>();
    for (Row r : aligned) {
      foldOf.put(r.getString(0), r.getInt(1));
      if (!r.isNullAt(2)) {
        labeled.add(r.getString(0));
      }
    }
    Map<String, Double> pooled0 =
        checkRepeat(spark, out, out.resolve("folds"), out.resolve("cv"), aligned, foldOf, labeled);

    // Repeat 1: folds drawn again with another seed — again a partition into K folds, not the same
    // one.
    Map<String, Integer> foldOf1 = new HashMap<>();
    for (Row r :
        spark.read().parquet(out.resolve("repeats/1/assignment").toString()).collectAsList()) {
      assertEquals(null, foldOf1.put(r.getString(0), r.getInt(1)));
      assertTrue(r.getInt(1) >= 0 && r.getInt(1) < K);
    }
    assertEquals(foldOf.keySet(), foldOf1.keySet());
    assertNotEquals(foldOf, foldOf1);
    Map<String, Double> pooled1 =
        checkRepeat(
            spark,
            out,
            out.resolve("repeats/1/folds"),
            out.resolve("repeats/1/cv"),
            aligned,
            foldOf1,
            labeled);
    // The page: every model's row with its pooled AUROC as recomputed here.
    String page = Files.readString(out.resolve("cv/report.html"));
    assertTrue(page.contains("<h1>cv-test: 3-fold cross-validation</h1>"), page);
    pooled0.forEach(
        (model, auroc) ->
            assertTrue(
                page.contains("<td class=\"l\">" + model + "</td>")
                    && page.contains(String.format(java.util.Locale.ROOT, "<td>%.3f [", auroc)),
                model));
    JsonNode repeated =
        new ObjectMapper().readTree(out.resolve("cv/metrics.json").toFile()).path("repeated");
    // A baseline:<m> exists only in the repeats whose folds chose differently for m.
    Set<String> inBoth = new HashSet<>(pooled0.keySet());
    inBoth.retainAll(pooled1.keySet());
    assertEquals(inBoth, iterable(repeated.fieldNames()));
    for (String model : inBoth) {
      JsonNode r = repeated.path(model);
      assertEquals(pooled0.get(model), r.path("pooledAuroc").get(0).asDouble(), 1e-12, model);
      assertEquals(pooled1.get(model), r.path("pooledAuroc").get(1).asDouble(), 1e-12, model);
      assertEquals(
          (pooled0.get(model) + pooled1.get(model)) / 2,
          r.path("pooledAurocOverRepeats").path("mean").asDouble(),
          1e-12,
          model);
    }
  }

  private static Set<String> iterable(java.util.Iterator<String> names) {
    Set<String> out = new HashSet<>();
    names.forEachRemaining(out::add);
    return out;
  }

  /**
   * Checks one repeat (its folds under {@code folds}, pooled in {@code cv}) against ingest's
   * aligned rows and the repeat's fold of each subject; returns every model's pooled AUROC as
   * recomputed here.
   */
  private static Map<String, Double> checkRepeat(
      SparkSession spark,
      Path out,
      Path folds,
      Path cvDir,
      List<Row> aligned,
      Map<String, Integer> foldOf,
      Set<String> labeled)
      throws Exception {
    ObjectMapper json = new ObjectMapper();
    Map<String, Map<String, double[]>> oof =
        new HashMap<>(); // model -> subject -> {probability, label}
    double[] foldAuroc = new double[K];
    for (int f = 0; f < K; f++) {
      int validation = (f + 1) % K;
      // Preprocessing statistics of the fold's clinical encoder: the mean age of the training
      // folds' rows only.
      JsonNode prep =
          json.readTree(folds.resolve(f + "/pretrain/clinical/encoder/provenance.json").toFile())
              .path("config")
              .path("preprocessing");
      int ageAt = -1;
      for (int i = 0; i < prep.path("numericFeatures").size(); i++) {
        if (prep.path("numericFeatures").get(i).asText().equals("age")) {
          ageAt = i;
        }
      }
      assertTrue(ageAt >= 0, prep.toString());
      double recorded = prep.path("mean").get(ageAt).asDouble();
      double sumTrain = 0;
      long nTrain = 0;
      double sumWithTest = 0;
      long nWithTest = 0;
      long labeledTrainWithClinical = 0;
      for (Row r : aligned) {
        int g = foldOf.get(r.getString(0));
        if (g == validation || !r.getBoolean(3) || r.isNullAt(4)) {
          continue;
        }
        double age = ((Number) r.get(4)).doubleValue();
        if (g != f) {
          sumTrain += age;
          nTrain++;
          if (!r.isNullAt(2)) {
            labeledTrainWithClinical++;
          }
        }
        sumWithTest += age;
        nWithTest++;
      }
      assertEquals(
          sumTrain / nTrain,
          recorded,
          1e-9,
          folds + " fold " + f + ": mean age of the training folds");
      assertNotEquals(
          sumWithTest / nWithTest,
          recorded,
          1e-9,
          folds + " fold " + f + ": the held-out fold's rows changed nothing");
      JsonNode pretrain = json.readTree(folds.resolve(f + "/pretrain/metrics.json").toFile());
      for (JsonNode m : pretrain.path("modalities")) {
        if (m.path("modality").asText().equals("clinical")) {
          assertEquals(
              labeledTrainWithClinical,
              m.path("trainSubjects").asLong(),
              folds + " fold " + f + ": encoder's training subjects");
        }
      }

      // The fold's test part: exactly the labeled subjects of fold f, once per model.
      List<Row> predictions =
          spark
              .read()
              .parquet(folds.resolve(f + "/evaluate/predictions").toString())
              .select("subject_id", "model", "probability", "label")
              .collectAsList();
      Map<String, Set<String>> testIds = new HashMap<>();
      for (Row r : predictions) {
        assertEquals(
            f,
            foldOf.get(r.getString(0)),
            folds + " fold " + f + " predicted a subject of another fold");
        assertTrue(
            testIds.computeIfAbsent(r.getString(1), m -> new HashSet<>()).add(r.getString(0)),
            folds + " fold " + f + " predicted a subject twice for " + r.getString(1));
        double[] before =
            oof.computeIfAbsent(r.getString(1), m -> new HashMap<>())
                .put(r.getString(0), new double[] {r.getDouble(2), r.getInt(3)});
        assertEquals(
            null, before, "a subject has two out-of-fold predictions for " + r.getString(1));
      }
      Set<String> expected = new HashSet<>();
      for (String id : labeled) {
        if (foldOf.get(id) == f) {
          expected.add(id);
        }
      }
      testIds.values().forEach(ids -> assertEquals(expected, ids));
      foldAuroc[f] =
          auroc(
              predictions.stream()
                  .filter(r -> r.getString(1).equals("mean"))
                  .map(r -> new double[] {r.getDouble(2), r.getInt(3)})
                  .toList());
    }

    // Each fold's choice of unimodal baseline on validation, from its metrics.json; a modality the
    // folds chose differently pools each subject's row of the model its own fold chose.
    Map<String, List<String>> chosenPerFold = new java.util.TreeMap<>();
    for (int f = 0; f < K; f++) {
      JsonNode choices =
          json.readTree(folds.resolve(f + "/evaluate/metrics.json").toFile())
              .path("unimodalBaselines");
      for (JsonNode c : choices) {
        chosenPerFold
            .computeIfAbsent(c.path("modality").asText(), m -> new ArrayList<>())
            .add(c.path("chosen").asText());
      }
    }
    assertEquals(
        Set.of("clinical", "labs"),
        chosenPerFold.keySet(),
        folds + ": every fold chose a unimodal baseline per modality");
    Map<String, Map<String, double[]>> candidates = new HashMap<>();
    chosenPerFold.forEach(
        (modality, chosen) -> {
          assertEquals(K, chosen.size(), modality);
          if (chosen.stream().distinct().count() == 1) {
            candidates.put(chosen.get(0), oof.get(chosen.get(0)));
          } else {
            Map<String, double[]> rows = new HashMap<>();
            for (String id : labeled) {
              rows.put(id, oof.get(chosen.get(foldOf.get(id))).get(id));
            }
            candidates.put("baseline:" + modality, rows);
          }
        });
    String reference = null;
    double referenceAuroc = Double.NEGATIVE_INFINITY;
    for (Map.Entry<String, Map<String, double[]>> c : candidates.entrySet()) {
      double a = auroc(new ArrayList<>(c.getValue().values()));
      if (a > referenceAuroc) {
        reference = c.getKey();
        referenceAuroc = a;
      }
    }

    // Every labeled subject: exactly one out-of-fold prediction per model.
    assertTrue(
        oof.keySet()
            .containsAll(
                List.of("mean", "e2e", "unimodal:clinical", "unimodal:labs", "early", "late")),
        oof.keySet().toString());
    oof.forEach((model, bySubject) -> assertEquals(labeled, bySubject.keySet(), model));

    JsonNode cv = json.readTree(cvDir.resolve("metrics.json").toFile());
    assertEquals(labeled.size(), cv.path("subjects").asLong());
    assertEquals(K * 20, cv.path("minPatternSize").asInt());
    long composites = candidates.keySet().stream().filter(n -> n.startsWith("baseline:")).count();
    assertEquals(
        oof.keySet().size() + composites, cv.path("models").size(), cv.path("models").toString());
    // The reference: the best by pooled AUROC among the baselines chosen on validation per fold.
    assertEquals(reference, cv.path("reference").asText(), cv.path("unimodalBaselines").toString());
    assertTrue(cv.path("referenceRule").asText().contains("chosen on validation in each fold"));
    for (JsonNode c : cv.path("comparisons")) {
      assertEquals(reference, c.path("reference").asText(), c.toString());
    }
    assertEquals(cv.path("models").size() - 1, cv.path("comparisons").size());
    Map<String, Double> pooledAuroc = new HashMap<>();
    for (JsonNode m : cv.path("models")) {
      String name = m.path("name").asText();
      Map<String, double[]> rows = oof.containsKey(name) ? oof.get(name) : candidates.get(name);
      assertTrue(rows != null, name);
      List<double[]> pooled = new ArrayList<>(rows.values());
      pooledAuroc.put(name, auroc(pooled));
      assertEquals(auroc(pooled), m.path("pooled").path("auroc").asDouble(), 1e-12, name);
      double brier =
          pooled.stream().mapToDouble(p -> (p[0] - p[1]) * (p[0] - p[1])).average().orElseThrow();
      assertEquals(brier, m.path("pooled").path("brier").asDouble(), 1e-12, name);
      assertEquals(labeled.size(), m.path("pooled").path("n").asLong(), name);
      long inPatterns = 0;
      for (JsonNode p : m.path("patterns")) {
        inPatterns += p.path("n").asLong();
        assertEquals(p.path("n").asLong() < K * 20, p.path("tooSmall").asBoolean(), name + " " + p);
      }
      assertEquals(labeled.size(), inPatterns, name);
      if (name.equals("mean")) {
        double mean = (foldAuroc[0] + foldAuroc[1] + foldAuroc[2]) / K;
        double ss = 0;
        for (double a : foldAuroc) {
          ss += (a - mean) * (a - mean);
        }
        assertEquals(mean, m.path("auroc").path("mean").asDouble(), 1e-12);
        assertEquals(Math.sqrt(ss / (K - 1)), m.path("auroc").path("sd").asDouble(), 1e-12);
        assertTrue(
            m.path("pooledAurocLower").asDouble() <= auroc(pooled)
                && auroc(pooled) <= m.path("pooledAurocUpper").asDouble(),
            m.toString());
      }
    }
    return pooledAuroc;
  }

  /** Mann–Whitney AUROC over every (positive, negative) pair: {probability, label} rows. */
  private static double auroc(List<double[]> rows) {
    return MannWhitneyAuroc.of(rows);
  }
}
