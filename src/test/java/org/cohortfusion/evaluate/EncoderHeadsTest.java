package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

/**
 * The honest unimodal baseline: pretrain's encoder head against train's head on the frozen
 * embedding, chosen on validation. The cases are built so that validation and test disagree; the
 * expected answers follow from the constructed numbers by hand.
 */
class EncoderHeadsTest {

  private static final StructType TABLE =
      new StructType()
          .add("subject_id", DataTypes.StringType)
          .add("split", DataTypes.StringType)
          .add("label", DataTypes.IntegerType)
          .add("has_labs", DataTypes.BooleanType)
          .add("head_labs", DataTypes.createArrayType(DataTypes.FloatType, false));

  private static Row row(String id, String split, int label, Float p) {
    return RowFactory.create(
        id, split, label, p != null, p == null ? null : new float[] {1 - p, p});
  }

  /**
   * Train: 3 positives of 4 (prior 0.75). Validation: the head ranks its 4 subjects perfectly; one
   * subject without labs (positive) gets the prior. Test: the head ranks perfectly wrong.
   */
  private static Dataset<Row> table() {
    SparkSession spark = SparkTestSession.get();
    List<Row> rows =
        new ArrayList<>(
            List.of(
                row("t1", "train", 1, 0.9f),
                row("t2", "train", 1, 0.8f),
                row("t3", "train", 1, null),
                row("t4", "train", 0, 0.1f),
                row("v1", "validation", 1, 0.9f),
                row("v2", "validation", 1, 0.6f),
                row("v3", "validation", 0, 0.4f),
                row("v4", "validation", 0, 0.2f),
                row("v5", "validation", 1, null),
                row("x1", "test", 1, 0.1f),
                row("x2", "test", 0, 0.9f)));
    return spark.createDataFrame(rows, TABLE);
  }

  @Test
  void theEncoderHeadsValidationAurocCountsAbsentSubjectsAtTheTrainPrevalence() {
    Dataset<Row> t = table();
    double[] prior = EncoderHeads.trainPrior(t, 2);
    assertArrayEquals(new double[] {0.25, 0.75}, prior, 1e-12);
    int[] labels = EncoderHeads.labels(t, "validation");
    assertArrayEquals(new int[] {1, 1, 0, 0, 1}, labels);
    // Positives score 0.9, 0.6, 0.75 (v5 at the prior); negatives 0.4, 0.2: every pair ranked right
    // -> 1.0.
    assertEquals(1.0, EncoderHeads.validationAuroc(t, "labs", labels, prior, 2), 1e-12);
  }

  @Test
  void theChoiceFollowsValidationWhereTestDisagrees() {
    Dataset<Row> t = table();
    double[] prior = EncoderHeads.trainPrior(t, 2);
    Double encoderValidation =
        EncoderHeads.validationAuroc(t, "labs", EncoderHeads.labels(t, "validation"), prior, 2);
    // The frozen-embedding head: worse on validation (0.8) ...
    EvaluateResult.UnimodalBaseline choice =
        EncoderHeads.choose("labs", encoderValidation, 0.8, true);
    assertEquals("encoder:labs", choice.chosen());
    // ... but on test the encoder head is perfectly wrong (x1 positive at 0.1, x2 negative at 0.9):
    // AUROC 0, and the
    // frozen head scores 0.9. The best unimodal model is still the one validation chose.
    double[][] testHead = EncoderHeads.read(t, "labs", "test");
    double encoderTest =
        ClassificationMetrics.of(EncoderHeads.filled(testHead, prior), new int[] {1, 0}, 2).auroc();
    assertEquals(0.0, encoderTest, 1e-12);
    EvaluateResult r =
        result(
            List.of(
                unimodal("encoder:labs", encoderTest),
                unimodal("unimodal:labs", 0.9),
                unimodal("fusion", 0.95, "fusion")),
            List.of(choice));
    assertEquals("encoder:labs", r.bestUnimodal().orElseThrow().name());

    // Reversed: validation prefers the frozen head (0.75 > 0.7), test the encoder head (0.95 >
    // 0.6).
    EvaluateResult.UnimodalBaseline other = EncoderHeads.choose("labs", 0.7, 0.75, true);
    assertEquals("unimodal:labs", other.chosen());
    EvaluateResult r2 =
        result(
            List.of(unimodal("encoder:labs", 0.95), unimodal("unimodal:labs", 0.6)),
            List.of(other));
    assertEquals("unimodal:labs", r2.bestUnimodal().orElseThrow().name());
    // A tie on validation keeps train's head; no frozen head trained: the encoder head.
    assertEquals("unimodal:labs", EncoderHeads.choose("labs", 0.7, 0.7, true).chosen());
    assertEquals("encoder:labs", EncoderHeads.choose("labs", 0.7, null, false).chosen());
  }

  @Test
  void theScorerGivesThePriorWhereAScenarioRemovedTheModality() {
    double[] prior = {0.25, 0.75};
    double[][] head = {{0.9, 0.1}, null, {0.3, 0.7}};
    // Two modalities, labs at index 1; the third subject's labs removed by the scenario.
    float[] presence = {1, 1, 1, 0, 1, 0};
    List<double[][]> scored =
        EncoderHeads.scorer(head, 1, prior, 2)
            .score(new Scenarios(List.of(0.0), 0, 2), List.of(presence));
    assertArrayEquals(new double[] {0.9, 0.1}, scored.get(0)[0], 0.0);
    assertArrayEquals(prior, scored.get(0)[1], 0.0);
    assertArrayEquals(prior, scored.get(0)[2], 0.0);
  }

  @Test
  void aHazardHeadIsNotReadAsClassProbabilities() {
    // A survival encoder's head: four hazards per subject, not two class probabilities.
    double[][] hazards = {{0.1, 0.2, 0.3, 0.4}, null};
    IllegalStateException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class, () -> EncoderHeads.checkedWidth(hazards, "labs", 2));
    org.junit.jupiter.api.Assertions.assertTrue(
        e.getMessage().startsWith("Cannot score the encoder head of modality 'labs'"),
        e.getMessage());
    double[][] probabilities = {{0.9, 0.1}, null};
    assertEquals(probabilities, EncoderHeads.checkedWidth(probabilities, "labs", 2));
  }

  @Test
  void aSurvivalHeadOfAnotherWidthOrOutcomeIsRefused() {
    // Two outputs (a softmax head) where the survival outcome has four intervals.
    double[][] softmax = {{0.9, 0.1}, null};
    IllegalStateException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class, () -> EncoderHeads.checkedWidth(softmax, "labs", 4, true));
    org.junit.jupiter.api.Assertions.assertTrue(
        e.getMessage().startsWith("Cannot score encoder:labs: its head has 2 outputs"),
        e.getMessage());
    double[][] hazards = {{0.1, 0.2, 0.3, 0.4}, null};
    assertEquals(hazards, EncoderHeads.checkedWidth(hazards, "labs", 4, true));
    // An encoder of an older version records no outcome: its head (a softmax) is skipped, not
    // refused, and the reason says how to get it scored.
    org.cohortfusion.io.ModelArtifact.Provenance legacy =
        new org.cohortfusion.io.ModelArtifact.Provenance(
            "encoder:tabular", "c", "v", Map.of("modality", "labs"), Map.of(), "t");
    String old = EncoderHeads.checkOutcome("labs", "/enc/labs", legacy, List.of(1.0, 2.0));
    org.junit.jupiter.api.Assertions.assertTrue(
        old != null
            && old.startsWith("Skipping encoder:labs: the encoder at /enc/labs")
            && old.contains("does not record its outcome")
            && old.contains("run pretrain and extract again"),
        old);
    // An encoder pretrained on class labels.
    org.cohortfusion.io.ModelArtifact.Provenance classes =
        new org.cohortfusion.io.ModelArtifact.Provenance(
            "encoder:tabular",
            "c",
            "v",
            Map.of(
                org.cohortfusion.features.encoder.EncoderArtifact.OUTCOME,
                Map.of("kind", "classes")),
            Map.of(),
            "t");
    IllegalStateException cls =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class,
            () -> EncoderHeads.checkOutcome("labs", "/enc/labs", classes, List.of(1.0, 2.0)));
    org.junit.jupiter.api.Assertions.assertTrue(
        cls.getMessage().startsWith("Cannot score encoder:labs: ")
            && cls.getMessage().contains("was pretrained on class labels"),
        cls.getMessage());
  }

  @Test
  void theSurvivalReferenceIsTheBestOfTheBaselinesChosenOnValidationC() {
    // The encoder head has the higher test C but lost on validation C: the reference is train's.
    EvaluateResult.UnimodalBaseline b =
        EncoderHeads.choose("labs", 0.6, 0.7, true, EvaluateResult.UnimodalBaseline.C);
    assertEquals("unimodal:labs", b.chosen());
    assertEquals("a head on the frozen embedding", b.describeChoice());
    SurvivalEvaluation.Result r =
        new SurvivalEvaluation.Result(
            "survival",
            10,
            5,
            List.of(1.0),
            List.of(1.0),
            List.of(0.0),
            List.of(survival("encoder:labs", 0.9), survival("unimodal:labs", 0.65)),
            List.of(),
            List.of(b));
    assertEquals("unimodal:labs", r.bestUnimodal().orElseThrow().name());
    org.junit.jupiter.api.Assertions.assertTrue(
        r.summary().contains("unimodal baseline labs"), r.summary());
    assertEquals(
        "pretrain's encoder with its hazard head",
        EncoderHeads.choose("labs", 0.8, 0.7, true, EvaluateResult.UnimodalBaseline.C)
            .describeChoice());
    // A metrics.json written before the choice had a metric reads as AUROC.
    EvaluateResult.UnimodalBaseline read =
        org.cohortfusion.io.Json.MAPPER.convertValue(
            Map.of("modality", "labs", "chosen", "unimodal:labs", "encoderHead", "encoder:labs"),
            EvaluateResult.UnimodalBaseline.class);
    assertEquals(EvaluateResult.UnimodalBaseline.AUROC, read.validationMetric());
  }

  private static SurvivalEvaluation.ModelSurvival survival(String name, double c) {
    return new SurvivalEvaluation.ModelSurvival(
        name,
        "unimodal",
        name,
        null,
        new SurvivalEvaluation.Scores(10, 5, c, c, c, Map.of(), Map.of(), Double.NaN),
        List.of(),
        List.of(),
        Map.of());
  }

  private static EvaluateResult.ModelEvaluation unimodal(String name, double auroc) {
    return unimodal(name, auroc, "unimodal");
  }

  private static EvaluateResult.ModelEvaluation unimodal(String name, double auroc, String kind) {
    ClassificationMetrics m =
        new ClassificationMetrics(
            auroc, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 2);
    return new EvaluateResult.ModelEvaluation(
        name, kind, name, null, m, null, List.of(), List.of(), Map.of());
  }

  private static EvaluateResult result(
      List<EvaluateResult.ModelEvaluation> models,
      List<EvaluateResult.UnimodalBaseline> baselines) {
    return new EvaluateResult(
        "test", 2, 2, null, 10, List.of(0.0), models, "p", "m", List.of(), null, baselines);
  }
}
