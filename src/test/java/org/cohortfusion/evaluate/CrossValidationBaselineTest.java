package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.io.Json;
import org.cohortfusion.testing.MannWhitneyAuroc;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CrossValidationAction} on two hand-made folds whose evaluate chose the unimodal baseline
 * of labs differently on validation (fold 0 pretrain's encoder head, fold 1 train's head on the
 * frozen embedding) and that of clin alike (the frozen head) though clin's encoder head has the
 * highest pooled test AUROC of all. The reference must be one of the choices made on validation:
 * {@code baseline:labs}, each subject's prediction from its own fold's choice, whose pooled AUROC
 * is the Mann–Whitney AUROC of those rows picked by hand here; never the encoder head no fold
 * chose.
 */
class CrossValidationBaselineTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  private static final List<String> MODELS =
      List.of("encoder:labs", "unimodal:labs", "encoder:clin", "unimodal:clin", "concat");

  /** Subject, label, then the probability of each of {@link #MODELS}; fold 0 is A*, fold 1 B*. */
  private static final Object[][] FOLD_0 = {
    {"A1", 1, 0.9, 0.3, 0.95, 0.6, 0.8},
    {"A2", 1, 0.8, 0.2, 0.9, 0.4, 0.7},
    {"A3", 0, 0.2, 0.7, 0.1, 0.5, 0.3},
    {"A4", 0, 0.1, 0.6, 0.05, 0.3, 0.6},
  };

  private static final Object[][] FOLD_1 = {
    {"B1", 1, 0.3, 0.85, 0.97, 0.7, 0.9},
    {"B2", 1, 0.25, 0.12, 0.85, 0.2, 0.4},
    {"B3", 0, 0.7, 0.15, 0.15, 0.55, 0.2},
    {"B4", 0, 0.6, 0.05, 0.08, 0.35, 0.5},
  };

  @Test
  void theReferenceIsTheBaselineChosenOnValidationPooledPerFold() throws Exception {
    // Fold 0 prefers the encoder head of labs on validation, fold 1 the frozen head; both folds
    // prefer clin's frozen head.
    String f0 =
        writeFold(
            0,
            FOLD_0,
            List.of(
                new EvaluateResult.UnimodalBaseline(
                    "labs", "encoder:labs", "encoder:labs", 0.8, "unimodal:labs", 0.7),
                new EvaluateResult.UnimodalBaseline(
                    "clin", "unimodal:clin", "encoder:clin", 0.6, "unimodal:clin", 0.65)));
    String f1 =
        writeFold(
            1,
            FOLD_1,
            List.of(
                new EvaluateResult.UnimodalBaseline(
                    "labs", "unimodal:labs", "encoder:labs", 0.6, "unimodal:labs", 0.7),
                new EvaluateResult.UnimodalBaseline(
                    "clin", "unimodal:clin", "encoder:clin", 0.55, "unimodal:clin", 0.6)));
    String out = dir.resolve("cv").toString();
    CrossValidationResult r = CrossValidationAction.of(spark, List.of(f0, f1), out, 1).execute();

    // By hand: each subject's labs prediction from its fold's choice (column 2 encoder, 3 frozen).
    List<double[]> chosenLabs = new ArrayList<>(rows(FOLD_0, 2));
    chosenLabs.addAll(rows(FOLD_1, 3));
    double baselineLabs = MannWhitneyAuroc.of(chosenLabs);
    double frozenClin = MannWhitneyAuroc.of(both(5));
    double encoderClin = MannWhitneyAuroc.of(both(4));
    double concat = MannWhitneyAuroc.of(both(6));
    assertEquals(0.875, baselineLabs, 1e-15); // 14 of 16 pairs, worked out by hand
    assertTrue(encoderClin > baselineLabs && baselineLabs > frozenClin, "the data's premise");

    CrossValidationResult.Model b = model(r, "baseline:labs");
    assertEquals("unimodal", b.kind());
    assertEquals(baselineLabs, b.pooled().auroc(), 1e-12);
    assertEquals(8, b.pooled().n());
    // Its per-fold figures are those of each fold's chosen model (metrics.json test AUROCs).
    assertEquals(testAuroc(0, "encoder:labs"), b.perFold().get(0).test().auroc(), 1e-15);
    assertEquals(testAuroc(1, "unimodal:labs"), b.perFold().get(1).test().auroc(), 1e-15);
    assertEquals(encoderClin, model(r, "encoder:clin").pooled().auroc(), 1e-12);

    assertEquals("baseline:labs", r.bestUnimodal().orElseThrow().name());
    assertEquals("baseline:labs", r.reference());
    assertTrue(r.referenceRule().contains("chosen on validation in each fold"), r.referenceRule());
    assertEquals(MODELS.size(), r.comparisons().size(), "every other model against the reference");
    r.comparisons().forEach(c -> assertEquals("baseline:labs", c.reference(), c.model()));
    assertEquals(
        concat - baselineLabs,
        r.comparisons().stream()
            .filter(c -> c.model().equals("concat"))
            .findFirst()
            .orElseThrow()
            .paired()
            .difference(),
        1e-12);

    assertEquals(2, r.unimodalBaselines().size());
    CrossValidationResult.FoldBaseline labs = r.unimodalBaselines().get(0);
    assertEquals(List.of("encoder:labs", "unimodal:labs"), labs.chosenPerFold());
    assertEquals("baseline:labs", labs.pooledAs());
    assertEquals("unimodal:clin", r.unimodalBaselines().get(1).pooledAs());

    JsonNode written = new ObjectMapper().readTree(dir.resolve("cv/metrics.json").toFile());
    assertEquals("baseline:labs", written.path("reference").asText());
    assertEquals(
        "unimodal:labs",
        written.path("unimodalBaselines").get(0).path("chosenPerFold").get(1).asText());
    CrossValidationResult read =
        Json.read(
            spark.sparkContext().hadoopConfiguration(),
            out + "/metrics.json",
            CrossValidationResult.class);
    assertEquals("baseline:labs", read.bestUnimodal().orElseThrow().name());

    String summary = r.summary();
    assertTrue(
        summary.contains("Reference: baseline:labs (chosen on validation per fold"), summary);
    assertTrue(summary.contains("encoder:labs in fold 0; unimodal:labs in fold 1"), summary);
  }

  @Test
  void withoutChoicesEveryUnimodalModelMayBeTheReference() throws Exception {
    String f0 = writeFold(0, FOLD_0, List.of());
    String f1 = writeFold(1, FOLD_1, List.of());
    CrossValidationResult r =
        CrossValidationAction.of(spark, List.of(f0, f1), dir.resolve("cv").toString(), 1).execute();
    assertEquals("encoder:clin", r.reference());
    assertTrue(r.unimodalBaselines().isEmpty());
    assertTrue(r.referenceRule().contains("no fold recorded a choice"), r.referenceRule());
    assertTrue(r.models().stream().noneMatch(m -> m.name().startsWith("baseline:")));
  }

  private static List<double[]> rows(Object[][] fold, int column) {
    List<double[]> out = new ArrayList<>();
    for (Object[] s : fold) {
      out.add(new double[] {(double) s[column], (int) s[1]});
    }
    return out;
  }

  private static List<double[]> both(int column) {
    List<double[]> out = new ArrayList<>(rows(FOLD_0, column));
    out.addAll(rows(FOLD_1, column));
    return out;
  }

  /**
   * The test AUROC a fold's metrics.json records for a model: distinct for every fold and model.
   */
  private static double testAuroc(int fold, String model) {
    return 0.5 + 0.01 * MODELS.indexOf(model) + 0.1 * fold;
  }

  private static CrossValidationResult.Model model(CrossValidationResult r, String name) {
    return r.models().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
  }

  private String writeFold(
      int fold, Object[][] subjects, List<EvaluateResult.UnimodalBaseline> choices) {
    return new HandMadeFolds(
            MODELS,
            m -> m.equals("concat") ? "fusion" : "unimodal",
            CrossValidationBaselineTest::testAuroc,
            (f, m) -> null)
        .write(spark, dir, fold, subjects, choices);
  }
}
