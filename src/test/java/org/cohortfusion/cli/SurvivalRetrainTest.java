package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.io.Json;
import org.cohortfusion.registry.ModelRegistry;
import org.cohortfusion.registry.RunInfo;
import org.cohortfusion.retrain.Gate;
import org.cohortfusion.retrain.RetrainResult;
import org.cohortfusion.testing.AllPairsC;
import org.cohortfusion.testing.SurvivalCohortConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * retrain on a survival outcome, end to end on two generated snapshots: the first run meets the
 * best unimodal model, the second the champion scored on the same test subjects. The gate's C
 * numbers are checked against Harrell's C over all pairs of the prediction files, its event count
 * against the predictions' events, and its verdicts against its own rules applied here to those
 * numbers.
 */
class SurvivalRetrainTest {
  @TempDir Path dir;

  private Path config(Path cohort) throws Exception {
    return Files.writeString(
        dir.resolve("retrain.conf"),
        SurvivalCohortConfig.of("survival-retrain-test", cohort, dir.resolve("out"))
            + """
            subjects.duplicates = first
            modalities { clinical.duplicates = first, labs.duplicates = first }
            splits.stratify = false
            retrain.gate { min-test-subjects = 20, min-test-positives = 5 }
            """);
  }

  /** model -> its test predictions as {risk, duration, event}, read from an evaluate output. */
  private static Map<String, List<double[]>> predictions(Path evaluateDir) {
    Map<String, List<double[]>> byModel = new HashMap<>();
    for (Row r :
        SparkSession.builder()
            .getOrCreate()
            .read()
            .parquet(evaluateDir.resolve("predictions").toString())
            .select("model", "risk", "duration", "event")
            .collectAsList()) {
      byModel
          .computeIfAbsent(r.getString(0), m -> new ArrayList<>())
          .add(new double[] {r.getDouble(1), r.getDouble(2), r.getInt(3)});
    }
    return byModel;
  }

  private RetrainResult result() {
    return Json.read(
        new Configuration(),
        dir.resolve("out/retrain/retrain.json").toString(),
        RetrainResult.class);
  }

  private static Gate.Criterion criterion(RetrainResult r, String prefix) {
    return r.criteria().stream()
        .filter(c -> c.name().startsWith(prefix))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no criterion '" + prefix + "' in " + r.criteria()));
  }

  /** The bounds of a "CI [lower, upper]" detail. */
  private static double[] interval(String detail) {
    Matcher m = Pattern.compile("CI \\[([-+0-9.]+), ([-+0-9.]+)\\]").matcher(detail);
    assertTrue(m.find(), detail);
    return new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))};
  }

  @Test
  void theGateJudgesHarrellsCAgainstTheBestUnimodalModelThenTheChampion() throws Exception {
    for (String[] snapshot : List.of(new String[] {"s1", "400"}, new String[] {"s2", "550"})) {
      assertEquals(
          0,
          CliRun.of(
                  "generate",
                  "--subjects",
                  snapshot[1],
                  "--seed",
                  "3",
                  "--output",
                  dir.resolve(snapshot[0]).toString())
              .code());
    }
    ObjectMapper json = new ObjectMapper();
    ModelRegistry registry =
        ModelRegistry.at(new Configuration(), dir.resolve("out/registry").toString());

    // First snapshot, no champion: the challenger against the unimodal model of the highest C.
    CliRun first =
        CliRun.of("retrain", "-c", config(dir.resolve("s1")).toString(), "--run-id", "a");
    assertTrue(first.code() == 0 || first.code() == 3, first.out() + first.err());
    RetrainResult r1 = result();
    assertEquals(first.code() == 0, r1.promoted());
    assertEquals(r1.promoted(), r1.criteria().stream().allMatch(Gate.Criterion::passed));
    Map<String, List<double[]>> evaluated = predictions(dir.resolve("out/evaluate"));
    double challengerC = AllPairsC.of(evaluated.get("mean"));
    String bestUnimodal = null;
    double bestC = Double.NEGATIVE_INFINITY;
    for (JsonNode m :
        json.readTree(dir.resolve("out/evaluate/metrics.json").toFile()).path("models")) {
      if (m.path("kind").asText().equals("unimodal")) {
        double c = AllPairsC.of(evaluated.get(m.path("name").asText()));
        if (c > bestC) {
          bestC = c;
          bestUnimodal = m.path("name").asText();
        }
      }
    }
    assertNotNull(bestUnimodal, "the retrain trains the unimodal models: " + evaluated.keySet());
    Gate.Criterion vsUnimodal = criterion(r1, "test C-index vs ");
    assertEquals("test C-index vs " + bestUnimodal, vsUnimodal.name());
    assertEquals(challengerC, vsUnimodal.challenger(), 1e-12);
    assertEquals(bestC, vsUnimodal.champion(), 1e-12);
    assertEquals(challengerC > bestC, vsUnimodal.passed());
    long events = evaluated.get("mean").stream().filter(p -> p[2] == 1).count();
    Gate.Criterion eventCount = criterion(r1, "test subjects with the event");
    assertEquals(events, eventCount.challenger(), 0);
    assertEquals(events >= 5, eventCount.passed());
    assertEquals(
        "best unimodal model (" + bestUnimodal + ")", r1.comparedWith(), "against the right model");
    if (!r1.promoted()) {
      registry.promote(
          "mean", 1, ModelRegistry.CHAMPION, RunInfo.of("test: a champion to compare with"));
    }

    // Second snapshot: the champion scored on the challenger's test subjects, paired in C.
    CliRun second =
        CliRun.of("retrain", "-c", config(dir.resolve("s2")).toString(), "--run-id", "b");
    assertTrue(second.code() == 0 || second.code() == 3, second.out() + second.err());
    RetrainResult r2 = result();
    assertEquals("champion v1", r2.comparedWith());
    assertEquals(second.code() == 0, r2.promoted());
    assertEquals(r2.promoted(), r2.criteria().stream().allMatch(Gate.Criterion::passed));
    assertEquals(r2.promoted() ? 2 : 1, registry.resolve("mean", ModelRegistry.CHAMPION));
    List<double[]> challenger = predictions(dir.resolve("out/evaluate")).get("mean");
    List<double[]> champion = predictions(dir.resolve("out/evaluate-champion")).get("mean@v1");
    assertNotNull(champion, "the champion is scored under its registry name");
    assertEquals(challenger.size(), champion.size(), "the same test subjects");
    Gate.Criterion c = criterion(r2, "test C-index (paired bootstrap)");
    double cChallenger = AllPairsC.of(challenger);
    double cChampion = AllPairsC.of(champion);
    assertEquals(cChallenger, c.challenger(), 1e-12);
    assertEquals(cChampion, c.champion(), 1e-12);
    assertTrue(
        c.detail()
            .contains(String.format(Locale.ROOT, "difference %+.4f", cChallenger - cChampion)),
        c.detail());
    double[] ci = interval(c.detail());
    assertTrue(ci[0] <= cChallenger - cChampion + 5e-5 && cChallenger - cChampion <= ci[1] + 5e-5);
    assertEquals(ci[0] > -0.05, c.passed(), "the default margin 0.05: " + c.detail());
    for (String name :
        List.of(
            "worst missingness-pattern C-index",
            "robustness (mean C, MCAR 0-0.9)",
            "calibration (integrated Brier)",
            "drift (PSI, largest)")) {
      criterion(r2, name);
    }
    String page = Files.readString(dir.resolve("out/retrain/report.html"));
    assertTrue(page.contains("<th>champion C-index</th>"), page);
  }
}
