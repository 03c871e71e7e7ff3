package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The rule that turns each fold's choice of unimodal baseline into the pooled candidates for the
 * cross-validation reference ({@link CrossValidationAction#foldBaselines}), on hand-written
 * choices: a unanimous choice stands for itself, a split one becomes baseline:m, a fold without a
 * choice for a modality counts as its frozen head, and a choice a fold did not evaluate drops the
 * modality.
 */
class FoldBaselineRuleTest {
  private static EvaluateResult.UnimodalBaseline chose(String modality, String chosen) {
    return new EvaluateResult.UnimodalBaseline(
        modality, chosen, "encoder:" + modality, 0.6, "unimodal:" + modality, 0.6);
  }

  private static final List<String> ALL =
      List.of("encoder:a", "unimodal:a", "encoder:b", "unimodal:b", "fusion");

  @Test
  void unanimousStandsForItselfSplitBecomesBaseline() {
    Map<String, List<Integer>> skipped = new TreeMap<>();
    List<CrossValidationResult.FoldBaseline> b =
        CrossValidationAction.foldBaselines(
            List.of(
                List.of(chose("a", "encoder:a"), chose("b", "unimodal:b")),
                List.of(chose("a", "unimodal:a"), chose("b", "unimodal:b")),
                List.of(chose("a", "encoder:a"), chose("b", "unimodal:b"))),
            List.of(ALL, ALL, ALL),
            skipped,
            "auroc");
    assertEquals(2, b.size());
    assertEquals("baseline:a", b.get(0).pooledAs());
    assertEquals(List.of("encoder:a", "unimodal:a", "encoder:a"), b.get(0).chosenPerFold());
    assertEquals("encoder:a in folds 0, 2; unimodal:a in fold 1", b.get(0).describe());
    assertEquals("unimodal:b", b.get(1).pooledAs());
    assertTrue(skipped.isEmpty());
  }

  @Test
  void aFoldWithoutAChoiceCountsAsItsFrozenHead() {
    Map<String, List<Integer>> skipped = new TreeMap<>();
    List<CrossValidationResult.FoldBaseline> b =
        CrossValidationAction.foldBaselines(
            List.of(List.of(chose("a", "encoder:a")), List.of()),
            List.of(ALL, List.of("unimodal:a", "fusion")),
            skipped,
            "C");
    assertEquals(List.of("encoder:a", "unimodal:a"), b.get(0).chosenPerFold());
    assertEquals("baseline:a", b.get(0).pooledAs());
    assertEquals("C", b.get(0).validationMetric());
  }

  @Test
  void aChoiceTheFoldDidNotEvaluateDropsTheModality() {
    Map<String, List<Integer>> skipped = new TreeMap<>();
    List<CrossValidationResult.FoldBaseline> b =
        CrossValidationAction.foldBaselines(
            List.of(List.of(chose("a", "encoder:a")), List.of(chose("a", "encoder:a"))),
            List.of(ALL, List.of("unimodal:a")),
            skipped,
            "auroc");
    assertTrue(b.isEmpty());
    assertEquals(Map.of("baseline:a", List.of(1)), skipped);
  }

  @Test
  void noChoicesNoBaselines() {
    assertTrue(
        CrossValidationAction.foldBaselines(
                List.of(List.of(), List.of()), List.of(ALL, ALL), new TreeMap<>(), "auroc")
            .isEmpty());
  }
}
