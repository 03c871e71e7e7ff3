package org.cohortfusion.evaluate;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.cli.CohortFusion;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.stage.TrainOutputs;
import org.cohortfusion.testing.AllPairsC;
import org.cohortfusion.testing.SurvivalCohortConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a survival outcome, evaluate scores pretrain's encoders with their own hazard heads as the
 * unimodal models {@code encoder:<m>} and chooses each modality's unimodal baseline on validation
 * C. A generated cohort runs pretrain, extract, train and evaluate; checked independently of the
 * code under test:
 *
 * <ul>
 *   <li>metrics.json has {@code encoder:<m>} for every pretrained modality;
 *   <li>its test C equals Harrell's C over all pairs ({@link AllPairsC}) of (risk, duration, event)
 *       of every labeled test subject, the risk computed here by hand from the hazards extract
 *       wrote ({@code head_<m>}): 1 - prod(1 - h_j), and for a subject without the modality from
 *       the train subjects' hazards counted here (events in an interval over subjects at risk in
 *       it, a subject censored in the second half of an interval having survived it);
 *   <li>the encoder's validation C in {@code unimodalBaselines} equals the same oracle on the
 *       validation subjects at the intervals' resolution (an event in interval s at s + 1/2, a
 *       subject censored after s intervals at s), the frozen head's is train's in summary.json, and
 *       the chosen baseline is the one with the higher validation C;
 *   <li>evaluate refuses to score the head of an encoder whose provenance records other intervals
 *       than the embeddings', with "Cannot score encoder:&lt;m&gt;: ...";
 *   <li>the head of an encoder whose provenance records no outcome (an older version) is left out:
 *       evaluate completes, says so once, every other model keeps its test C, and that modality's
 *       baseline is the frozen head with the reason recorded.
 * </ul>
 */
class SurvivalEncoderHeadsTest {
  private static final double[] CUTS = {1.5, 2.5, 4, 6};

  @TempDir Path dir;

  @Test
  void evaluateScoresTheHazardHeadsAndChoosesTheBaselineOnValidationC() throws Exception {
    assertEquals(
        0,
        CohortFusion.run(
            "generate",
            "--subjects",
            "400",
            "--seed",
            "3",
            "--output",
            dir.resolve("in").toString()));
    Path conf =
        Files.writeString(
            dir.resolve("heads.conf"),
            SurvivalCohortConfig.of("survival-heads-test", dir.resolve("in"), dir.resolve("out"))
                + """
                fusion.baselines = [unimodal]
                """);
    assertEquals(0, CohortFusion.run("run", "--config", conf.toString(), "--to", "evaluate"));

    Path out = dir.resolve("out");
    Configuration hadoop = new Configuration();
    SparkSession spark = SparkSession.builder().getOrCreate();
    SurvivalEvaluation.Result result =
        EvaluateAction.readSurvival(hadoop, out.resolve("evaluate").toString());
    TrainOutputs.Summary summary =
        Json.read(
            hadoop,
            TrainOutputs.summary(out.resolve("train").toString()),
            TrainOutputs.Summary.class);
    EmbeddingsSpec emb = EmbeddingsSpec.read(hadoop, out.resolve("embeddings").toString());
    List<String> modalities = emb.modalityNames();
    assertEquals(List.of("clinical", "labs"), modalities);

    // The train subjects' hazards, counted by hand: what a subject without the modality gets.
    List<Row> train =
        spark
            .read()
            .parquet(out.resolve("embeddings/table").toString())
            .where("split = 'train' AND label IS NOT NULL AND duration IS NOT NULL")
            .select("duration", "label")
            .collectAsList();
    double[] events = new double[CUTS.length];
    double[] atRisk = new double[CUTS.length];
    for (Row r : train) {
      double d = r.getDouble(0);
      boolean event = r.getInt(1) == 1;
      for (int k = 0; k < CUTS.length; k++) {
        double start = k == 0 ? 0 : CUTS[k - 1];
        if (d > CUTS[k]) {
          atRisk[k]++;
        } else {
          if (event) {
            atRisk[k]++;
            events[k]++;
          } else if (d >= (start + CUTS[k]) / 2) {
            atRisk[k]++;
          }
          break;
        }
      }
    }
    double[] fill = new double[CUTS.length];
    for (int k = 0; k < CUTS.length; k++) {
      fill[k] = atRisk[k] == 0 ? 0 : events[k] / atRisk[k];
    }

    Set<String> chosen = new HashSet<>();
    Map<String, double[]> numbers = new LinkedHashMap<>();
    for (String m : modalities) {
      String name = "encoder:" + m;
      SurvivalEvaluation.ModelSurvival model = result.get(name);
      assertEquals("unimodal", model.kind());

      // Test C against all pairs of the subjects' risks computed here.
      List<double[]> test = new ArrayList<>();
      for (double[] s : subjects(spark, out, m, "test", fill)) {
        test.add(new double[] {s[0], s[1], s[2]});
      }
      assertEquals(result.subjects(), test.size());
      double testC = AllPairsC.of(test);
      assertEquals(testC, model.test().cIndex(), 1e-9, name + " test C");

      // Validation C at the intervals' resolution, and the choice.
      List<double[]> validation = new ArrayList<>();
      for (double[] s : subjects(spark, out, m, "validation", fill)) {
        double[] t = intervalTime(s[1], s[2] == 1);
        validation.add(new double[] {s[0], t[0], t[1]});
      }
      double validationC = AllPairsC.of(validation);
      EvaluateResult.UnimodalBaseline b =
          result.unimodalBaselines().stream()
              .filter(u -> u.modality().equals(m))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no baseline choice for " + m));
      assertEquals(EvaluateResult.UnimodalBaseline.C, b.validationMetric());
      assertEquals(name, b.encoderHead());
      assertEquals(validationC, b.encoderHeadValidationAuroc(), 1e-9, name + " validation C");
      assertEquals(validationC, model.validationConcordance(), 1e-9);
      TrainOutputs.Entry frozen =
          summary.models().stream()
              .filter(e -> e.name().equals("unimodal:" + m))
              .findFirst()
              .orElseThrow();
      double frozenValidation = frozen.validation().get("auroc");
      assertEquals("unimodal:" + m, b.frozenHead());
      assertEquals(frozenValidation, b.frozenHeadValidationAuroc(), 0);
      assertEquals(
          validationC > frozenValidation ? name : "unimodal:" + m,
          b.chosen(),
          "the baseline with the higher validation C: " + b);
      chosen.add(b.chosen());
      numbers.put(
          m,
          new double[] {
            testC, result.get("unimodal:" + m).test().cIndex(), validationC, frozenValidation
          });
    }
    numbers.forEach(
        (m, n) ->
            System.out.printf(
                "%s: test C encoder:%s %.4f, unimodal:%s %.4f; validation C %.4f vs %.4f%n",
                m, m, n[0], m, n[1], n[2], n[3]));
    // The comparisons' reference is the best of the chosen baselines, by test C.
    String best = result.bestUnimodal().orElseThrow().name();
    assertTrue(chosen.contains(best), best + " not among " + chosen);
    double bestC =
        chosen.stream().mapToDouble(c -> result.get(c).test().cIndex()).max().orElseThrow();
    assertEquals(bestC, result.get(best).test().cIndex(), 0);
    assertTrue(
        result.comparisons().stream()
            .anyMatch(c -> c.model().equals("mean") && c.reference().equals(best)),
        result.comparisons().toString());
    assertTrue(result.summary().contains("unimodal baseline clinical"), result.summary());
    assertTrue(
        spark
                .read()
                .parquet(out.resolve("evaluate/predictions").toString())
                .where(col("model").equalTo("encoder:clinical"))
                .count()
            == result.subjects());

    // An encoder whose provenance records other intervals is refused, one that matches is not.
    EmbeddingsSpec.Modality clinical = emb.modality("clinical");
    assertNotNull(clinical.encoderDir());
    ModelArtifact.Provenance p =
        Json.read(
            hadoop,
            clinical.encoderDir() + "/" + ModelArtifact.PROVENANCE,
            ModelArtifact.Provenance.class);
    EncoderHeads.checkOutcome("clinical", clinical.encoderDir(), p, emb.survivalIntervals());
    Map<String, Object> other = new LinkedHashMap<>(p.config());
    other.put(
        EncoderArtifact.OUTCOME,
        new EncoderArtifact.HeadOutcome("survival", List.of(1.5, 2.5, 4.0)));
    ModelArtifact.Provenance otherIntervals =
        new ModelArtifact.Provenance(
            p.kind(), p.cohortHash(), p.codeVersion(), other, p.metrics(), p.createdAt());
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                EncoderHeads.checkOutcome(
                    "clinical", clinical.encoderDir(), otherIntervals, emb.survivalIntervals()));
    assertTrue(
        e.getMessage().startsWith("Cannot score encoder:clinical: ")
            && e.getMessage().contains("[1.5, 2.5, 4.0]"),
        e.getMessage());

    // An encoder of an older version, whose provenance records no outcome: evaluate leaves its
    // head out, says so once, records why in the modality's choice and scores every other model.
    Map<String, Object> unrecorded = new LinkedHashMap<>(p.config());
    unrecorded.remove(EncoderArtifact.OUTCOME);
    Json.write(
        hadoop,
        clinical.encoderDir() + "/" + ModelArtifact.PROVENANCE,
        new ModelArtifact.Provenance(
            p.kind(), p.cohortHash(), p.codeVersion(), unrecorded, p.metrics(), p.createdAt()));
    java.io.PrintStream stdout = System.out;
    java.io.ByteArrayOutputStream console = new java.io.ByteArrayOutputStream();
    int code;
    try {
      System.setOut(
          new java.io.PrintStream(console, true, java.nio.charset.StandardCharsets.UTF_8));
      code = CohortFusion.run("evaluate", "--config", conf.toString());
    } finally {
      System.setOut(stdout);
    }
    String printed = console.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, code, printed);
    assertEquals(
        1, printed.split("Skipping encoder:clinical: ", -1).length - 1, "said once: " + printed);
    assertTrue(
        printed.contains("does not record its outcome (older version)")
            && printed.contains("run pretrain and extract again"),
        printed);
    SurvivalEvaluation.Result old =
        EvaluateAction.readSurvival(hadoop, out.resolve("evaluate").toString());
    Set<String> before = new HashSet<>();
    result.models().forEach(m -> before.add(m.name()));
    Set<String> after = new HashSet<>();
    old.models().forEach(m -> after.add(m.name()));
    before.remove("encoder:clinical");
    assertEquals(before, after, "exactly the old encoder's head is left out");
    for (String m : after) {
      assertEquals(result.get(m).test().cIndex(), old.get(m).test().cIndex(), 1e-12, m);
    }
    EvaluateResult.UnimodalBaseline skipped =
        old.unimodalBaselines().stream()
            .filter(u -> u.modality().equals("clinical"))
            .findFirst()
            .orElseThrow();
    assertEquals("unimodal:clinical", skipped.chosen());
    assertTrue(
        skipped.encoderHeadSkipped() != null
            && skipped.encoderHeadSkipped().contains("does not record its outcome"),
        skipped.toString());
    EvaluateResult.UnimodalBaseline labs =
        old.unimodalBaselines().stream()
            .filter(u -> u.modality().equals("labs"))
            .findFirst()
            .orElseThrow();
    assertEquals(
        result.unimodalBaselines().stream()
            .filter(u -> u.modality().equals("labs"))
            .findFirst()
            .orElseThrow(),
        labs,
        "the other modality's choice is unchanged");
    assertEquals(
        0,
        spark
            .read()
            .parquet(out.resolve("evaluate/predictions").toString())
            .where(col("model").equalTo("encoder:clinical"))
            .count());
  }

  /**
   * {risk, duration, event} of every labeled subject of {@code split}: the risk from the head's
   * hazards where the subject has the modality, from {@code fill} where not.
   */
  private static List<double[]> subjects(
      SparkSession spark, Path out, String modality, String split, double[] fill) {
    List<double[]> rows = new ArrayList<>();
    for (Row r :
        spark
            .read()
            .parquet(out.resolve("embeddings/table").toString())
            .where(col("split").equalTo(split).and(col("label").isNotNull()))
            .select(
                col("duration"),
                col("label"),
                col("has_" + modality).and(col(modality).isNotNull()),
                col("head_" + modality))
            .collectAsList()) {
      double[] h = fill;
      if (!r.isNullAt(2) && r.getBoolean(2) && !r.isNullAt(3)) {
        List<Float> hazards = r.getList(3);
        assertEquals(CUTS.length, hazards.size());
        h = hazards.stream().mapToDouble(Float::doubleValue).toArray();
      }
      double survival = 1;
      for (double x : h) {
        survival *= 1 - x;
      }
      rows.add(new double[] {1 - survival, r.getDouble(0), r.getInt(1)});
    }
    return rows;
  }

  /**
   * {time, event} at the intervals' resolution: an event in interval s at s + 1/2; censored after
   * surviving s intervals at s (a subject censored in the second half of an interval survived it;
   * one followed beyond the last cut survived every interval, censored there).
   */
  private static double[] intervalTime(double duration, boolean event) {
    for (int k = 0; k < CUTS.length; k++) {
      if (duration <= CUTS[k]) {
        if (event) {
          return new double[] {k + 0.5, 1};
        }
        double start = k == 0 ? 0 : CUTS[k - 1];
        return new double[] {duration >= (start + CUTS[k]) / 2 ? k + 1 : k, 0};
      }
    }
    return new double[] {CUTS.length, 0};
  }
}
