package org.cohortfusion.features.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.EncoderConfig;
import org.cohortfusion.features.FeatureTestCohorts;
import org.cohortfusion.spark.internal.FieldRow;
import org.cohortfusion.spark.internal.FieldRows;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class PreprocessingTest {
  private final SparkSession spark = SparkTestSession.get();

  @Test
  void tabularStatisticsComeFromTheTrainSplitOnly() {
    List<Row> rows = FeatureTestCohorts.rows(40, 1);
    ModalityPreprocessing before = fitTab(rows);
    // Change a validation subject (s3) and a test subject (s4): the statistics must not move.
    List<Row> changed = new ArrayList<>(rows);
    changed.set(3, withTab(rows.get(3), RowFactory.create(1e6, 1e6, "never-seen")));
    changed.set(4, withTab(rows.get(4), RowFactory.create(-1e6, 0.0, "other-unseen")));
    ModalityPreprocessing after = fitTab(changed);
    assertArrayEquals(before.mean(), after.mean(), 0.0);
    assertArrayEquals(before.std(), after.std(), 0.0);
    assertEquals(before.vocabularies(), after.vocabularies());
    // ... while changing a train subject (s0) does move them.
    List<Row> trainChanged = new ArrayList<>(rows);
    trainChanged.set(1, withTab(rows.get(1), RowFactory.create(1e6, 1e6, "s0")));
    assertNotEquals(before.mean()[0], fitTab(trainChanged).mean()[0]);
    assertEquals(
        List.of(List.of("s0", "s1", "s2")),
        before.vocabularies().stream().map(v -> v.stream().sorted().toList()).toList());
  }

  @Test
  void tabularBatchStandardisesFlagsMissingValuesAndOneHotsWithAnUnknownSlot() {
    List<Row> rows = FeatureTestCohorts.rows(40, 1);
    ModalityPreprocessing prep = fitTab(rows);
    List<Row> probe =
        List.of(
            withTab(
                rows.get(0), RowFactory.create(null, prep.mean()[1] + prep.std()[1], "unseen")));
    INDArray x = convert(probe, prep, "tab").features();
    // [z_age, z_bili, missing_age, missing_bili, onehot(3 categories + other)]
    assertEquals(2 + 2 + 4, prep.inputSize());
    assertArrayEquals(new float[] {0f, 1f, 1f, 0f, 0f, 0f, 0f, 1f}, x.toFloatVector(), 1e-5f);
  }

  @Test
  void tabularFieldsAreReadByNameWhateverTheStoredStructOrder() {
    List<Row> rows = FeatureTestCohorts.rows(12, 4);
    ModalityPreprocessing prep = fitTab(rows);
    Dataset<Row> stored = FeatureTestCohorts.frame(spark, rows);
    Dataset<Row> reordered =
        stored.withColumn(
            "tab",
            org.apache.spark.sql.functions.struct(
                org.apache.spark.sql.functions.col("tab.stage"),
                org.apache.spark.sql.functions.col("tab.bili"),
                org.apache.spark.sql.functions.col("tab.age")));
    assertEquals(convert(stored, prep).features(), convert(reordered, prep).features());
  }

  @Test
  void vectorLog1pAndTopKVarianceAreFittedOnTrain() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      float big = i % 2 == 0 ? 100f : 0f;
      rows.add(
          withVec(
              FeatureTestCohorts.row(i, 2), new float[] {1f, big, 2f, big / 10, 3f, (float) i}));
    }
    EncoderConfig cfg =
        new EncoderConfig(null, null, null, null, null, null, null, null, null, true, 2, null);
    ModalityPreprocessing prep =
        PreprocessingFitter.fit(
            FeatureTestCohorts.frame(spark, rows), FeatureTestCohorts.spec("vec"), cfg, 100);
    assertArrayEquals(new int[] {1, 3}, prep.keptPositions());
    INDArray x = convert(rows.subList(0, 1), prep, "vec").features();
    assertArrayEquals(new long[] {1, 2}, x.shape());
    assertEquals((Math.log1p(100) - prep.mean()[0]) / prep.std()[0], x.getDouble(0, 0), 1e-4);
  }

  /**
   * log1p on values at or below -1 is an error naming modality, option and count, before any
   * training; other splits do not count.
   */
  @Test
  void log1pOnValuesAtOrBelowMinusOneIsAConfigErrorWithTheCount() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      // Train subjects (i % 5 in 0..2) 0, 1 and 5 hold values at or below -1; validation subject 3
      // too, not counted.
      float low = i == 0 ? -1f : i == 1 || i == 3 ? -2.5f : i == 5 ? -1e6f : 0.5f;
      rows.add(
          withVec(
              FeatureTestCohorts.row(i, 2),
              new float[] {1f, low, 2f, i == 1 ? -1f : 0f, 3f, -0.99f}));
    }
    EncoderConfig cfg =
        new EncoderConfig(null, null, null, null, null, null, null, null, null, true, null, null);
    org.cohortfusion.config.ConfigException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            org.cohortfusion.config.ConfigException.class,
            () ->
                PreprocessingFitter.fit(
                    FeatureTestCohorts.frame(spark, rows),
                    FeatureTestCohorts.spec("vec"),
                    cfg,
                    100));
    // 12 train subjects x 6 values; 4 at or below -1 (subject 1 has two).
    assertEquals(
        "Cannot apply pretrain.encoders.vec.log1p = true to modality 'vec' (table 'vec', column 'values'): 4 of 72 values"
            + " in the train split are <= -1, where log1p is not finite; set log1p = false, or shift the values in modalities.vec.sql",
        e.getMessage());
    // Without log1p the same values are fine.
    EncoderConfig plain =
        new EncoderConfig(null, null, null, null, null, null, null, null, null, false, null, null);
    assertEquals(
        6,
        PreprocessingFitter.fit(
                FeatureTestCohorts.frame(spark, rows), FeatureTestCohorts.spec("vec"), plain, 100)
            .inputSize());
  }

  /**
   * A fitted log1p meets values at or below -1 in the splits it was not fitted on (or a later
   * snapshot): refused before encoding with the subjects counted per split, not turned into NaN
   * embeddings.
   */
  @Test
  void log1pOutsideItsDomainInOtherSplitsIsRefusedWithCountsPerSplit() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      // Validation subjects 3 and 8 and test subject 4 hold values at or below -1; every train
      // value is above.
      float low = i == 3 ? -1f : i == 8 ? -7f : i == 4 ? -1.5f : 0.25f;
      rows.add(withVec(FeatureTestCohorts.row(i, 2), new float[] {1f, low, 2f, low, 3f, -0.99f}));
    }
    EncoderConfig cfg =
        new EncoderConfig(null, null, null, null, null, null, null, null, null, true, null, null);
    Dataset<Row> frame = FeatureTestCohorts.frame(spark, rows);
    ModalityPreprocessing prep =
        PreprocessingFitter.fit(frame, FeatureTestCohorts.spec("vec"), cfg, 100);
    org.cohortfusion.config.ConfigException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            org.cohortfusion.config.ConfigException.class,
            () -> Log1pDomain.check(frame, List.of(prep), "extract"));
    assertEquals(
        "Cannot extract modality 'vec' with pretrain.encoders.vec.log1p = true (table 'vec', column 'values'): 3 subjects"
            + " have values <= -1, where log1p is not finite (by split: {test=1, validation=2}; the encoder was fitted on values above -1);"
            + " set log1p = false and pretrain again, or shift the values in modalities.vec.sql",
        e.getMessage());
    // The train split alone passes, and so does the same cohort without log1p.
    Log1pDomain.check(frame.where("split = 'train'"), List.of(prep), "extract");
    EncoderConfig plain =
        new EncoderConfig(null, null, null, null, null, null, null, null, null, false, null, null);
    Log1pDomain.check(
        frame,
        List.of(PreprocessingFitter.fit(frame, FeatureTestCohorts.spec("vec"), plain, 100)),
        "extract");
  }

  @Test
  void timeseriesZeroesUnobservedValuesAndUsesTheStepMaskAsFeatureMask() {
    List<Row> rows = FeatureTestCohorts.rows(20, 3);
    ModalityPreprocessing prep =
        PreprocessingFitter.fit(
            FeatureTestCohorts.frame(spark, rows),
            FeatureTestCohorts.spec("ts"),
            EncoderConfig.defaults(),
            100);
    FeatureBatch batch = convert(List.of(rows.get(2)), prep, "ts"); // s2: first step padded
    assertArrayEquals(new long[] {1, 4, 3}, batch.features().shape());
    assertArrayEquals(new float[] {0f, 1f, 1f}, batch.featureMask().toFloatVector(), 0f);
    assertEquals(0.0, batch.features().getDouble(0, 0, 0), 0.0);
    assertEquals(0.0, batch.features().getDouble(0, 2, 0), 0.0);
    assertEquals(1.0, batch.features().getDouble(0, 2, 1), 0.0);
    assertEquals(5.0, prep.mean()[0], 1.0);
  }

  @Test
  void textIsHashedIntoLog1pCountsOfUnigramsAndBigrams() {
    assertEquals(
        List.of("mild", "fever", "2", "days"), FeatureBatches.tokens("Mild FEVER, 2 days!"));
    ModalityPreprocessing prep =
        new ModalityPreprocessing(
            "txt",
            org.cohortfusion.stage.ModalityKind.TEXT,
            null,
            null,
            null,
            null,
            null,
            null,
            false,
            null,
            64);
    Row row = FeatureTestCohorts.row(1, 1);
    INDArray x = convert(List.of(row), prep, "txt").features();
    List<String> tokens = FeatureBatches.tokens(row.getString(14));
    assertEquals(
        2 * tokens.size() - 1,
        (int) Math.round(x.toDoubleVector().length == 64 ? countFromLog1p(x) : -1));
  }

  private static double countFromLog1p(INDArray x) {
    double total = 0;
    for (double v : x.toDoubleVector()) {
      total += Math.expm1(v);
    }
    return total;
  }

  private ModalityPreprocessing fitTab(List<Row> rows) {
    return PreprocessingFitter.fit(
        FeatureTestCohorts.frame(spark, rows),
        FeatureTestCohorts.spec("tab"),
        EncoderConfig.defaults(),
        100);
  }

  private FeatureBatch convert(List<Row> rows, ModalityPreprocessing prep, String column) {
    return convert(FeatureTestCohorts.frame(spark, rows), prep);
  }

  private FeatureBatch convert(Dataset<Row> frame, ModalityPreprocessing prep) {
    Dataset<Row> df = frame.select(Payloads.column(prep));
    List<FieldRow> internal = FieldRows.of(df).map(FieldRow::copy).collect();
    return new FeatureBatches(prep, 0).convert(internal);
  }

  static Row withTab(Row row, Row tab) {
    return replace(row, 12, tab);
  }

  static Row withVec(Row row, float[] vec) {
    return replace(row, 15, vec);
  }

  static Row replace(Row row, int index, Object value) {
    Object[] values = new Object[row.length()];
    for (int i = 0; i < values.length; i++) {
      values[i] = i == index ? value : row.get(i);
    }
    return RowFactory.create(values);
  }
}
