package org.cohortfusion.features.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.features.FeatureTestCohorts;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.TrainState;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainActionTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path tmp;

  @Test
  void pretrainLearnsTheSignalModalityAndPublishesVerifiedEncoders() throws Exception {
    String cohort =
        FeatureTestCohorts.writeCohort(
            spark, FeatureTestCohorts.rows(200, 5), tmp.resolve("cohort").toString(), "fp-1");
    PipelineConfig config =
        PipelineConfigLoader.parse(
            FeatureTestCohorts.config(
                tmp.resolve("out").toString(),
                """
        pretrain {
          averaging-frequency = 2
          encoders {
            vec { embedding-size = 4, hidden = [8], epochs = 4, batch-size = 16, learning-rate = 0.03, patience = 3 }
            ts { embedding-size = 3, hidden = [4], epochs = 1, batch-size = 16, cell = cnn }
          }
        }
        """),
            List.of());
    PretrainResult result =
        PretrainAction.of(spark, config)
            .cohortDir(cohort)
            .modalities(List.of("ts", "vec"))
            .execute();

    assertEquals(
        List.of("ts", "vec"),
        result.modalities().stream().map(ModalityPretrainResult::modality).toList());
    ModalityPretrainResult vec = result.modalities().get(1);
    assertTrue(
        vec.validationAuroc() > 0.75,
        "validation AUROC of the signal modality: " + vec.validationAuroc());
    assertTrue(vec.testAuroc() > 0.75, "test AUROC of the signal modality: " + vec.testAuroc());
    assertEquals(120, vec.trainSubjects());
    assertTrue(!vec.memorises(), "signal encoder: " + vec);
    assertEquals(4, vec.embeddingSize());
    assertEquals(3, result.modalities().get(0).embeddingSize());
    assertTrue(Files.isRegularFile(Path.of(result.outputDir(), PretrainAction.METRICS)));
    // The shared epoch loop's checkpoints: the last epoch, the best one, and the state whose
    // history has an entry per epoch run.
    Path checkpoints = Path.of(result.outputDir(), "vec", "checkpoints");
    assertTrue(Files.isDirectory(checkpoints.resolve("epoch-" + vec.epochsRun())));
    assertTrue(Files.isDirectory(checkpoints.resolve("best")));
    TrainState state =
        Json.read(
            new Configuration(), checkpoints.resolve(TrainState.FILE).toString(), TrainState.class);
    assertEquals(vec.epochsRun(), state.history().size());
    assertEquals(vec.bestEpoch(), state.bestEpoch());
    assertEquals(vec.validationAuroc(), state.bestAuroc(), 0.0);
    System.out.println(result.table());

    // Round trip: the published encoder loads with its checksum and preprocessing.
    EncoderArtifact.Loaded loaded = EncoderArtifact.load(new Configuration(), vec.encoderDir());
    assertEquals(vec.encoderSha256(), loaded.sha256());
    assertEquals("vec", loaded.preprocessing().modality());
    assertEquals("fp-1", loaded.provenance().cohortHash());
    assertArrayEquals(
        new long[] {1, 2},
        loaded.network().output(org.nd4j.linalg.factory.Nd4j.zeros(1, 6)).shape());

    // A corrupted model file is rejected before deserialisation.
    Path model = Path.of(vec.encoderDir(), ModelArtifact.MODEL);
    try (RandomAccessFile f = new RandomAccessFile(model.toFile(), "rw")) {
      f.seek(f.length() / 2);
      int b = f.read();
      f.seek(f.length() / 2);
      f.write(b ^ 0xff);
    }
    // Hadoop's local .crc sidecar would catch this first; drop it, as a tamper or a store without
    // one would.
    Files.deleteIfExists(model.resolveSibling("." + ModelArtifact.MODEL + ".crc"));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> EncoderArtifact.load(new Configuration(), vec.encoderDir()));
    assertTrue(
        e.getMessage().startsWith("Cannot load model") && e.getMessage().contains("does not match"),
        e.getMessage());
  }

  /**
   * An encoder that can only memorise is flagged, and the train AUROC pretrain reports is the
   * published encoder's on its own train subjects (recomputed here on the driver, Mann-Whitney, not
   * DL4J's ROC). The cohort makes memorisation certain whichever epoch early stopping keeps: the
   * train subjects' image ('img', 16 Gaussian pixels) carries their label, every pixel shifted by
   * {@link #TRAIN_ONLY_SHIFT} standard deviations for label 1, while the validation and test
   * subjects' images are pure noise. Any encoder that has learnt the train subjects' shift
   * separates them almost perfectly and validation subjects no better than chance (15 positives and
   * 15 negatives: an AUROC of 0.9 or more by chance has a probability of about one in ten
   * thousand).
   */
  @Test
  void anEncoderThatMemorisesItsTrainSubjectsIsFlagged() throws Exception {
    String cohort =
        FeatureTestCohorts.writeCohort(
            spark,
            trainOnlyImageSignal(FeatureTestCohorts.rows(150, 9)),
            tmp.resolve("cohort").toString(),
            "fp-2");
    PipelineConfig config =
        PipelineConfigLoader.parse(
            FeatureTestCohorts.config(
                tmp.resolve("out").toString(),
                """
        pretrain {
          averaging-frequency = 2
          encoders {
            img { embedding-size = 16, conv-channels = [16, 32], epochs = 6, batch-size = 8, learning-rate = 0.01, patience = 6 }
          }
        }
        """),
            List.of());
    PretrainResult result =
        PretrainAction.of(spark, config).cohortDir(cohort).modalities(List.of("img")).execute();
    System.out.println(result.table());
    ModalityPretrainResult img = result.modalities().get(0);
    assertTrue(img.memorises(), "encoder of a train-only signal: " + img);
    assertTrue(result.table().contains("memorises its train subjects"), result.table());

    EncoderArtifact.Loaded loaded = EncoderArtifact.load(new Configuration(), img.encoderDir());
    org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> labelled =
        spark
            .read()
            .parquet(cohort + "/" + org.cohortfusion.stage.CohortManifest.ALIGNED)
            .where("has_img and label is not null");
    java.util.List<Double> scores = new java.util.ArrayList<>();
    java.util.List<Integer> labels = new java.util.ArrayList<>();
    for (org.nd4j.linalg.dataset.DataSet d :
        PretrainAction.dataSets(labelled, "train", loaded.preprocessing(), 2, 16).collect()) {
      double[][] p =
          loaded
              .network()
              .output(d.getFeatures(), false)
              .castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
              .toDoubleMatrix();
      double[][] y =
          d.getLabels().castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleMatrix();
      for (int r = 0; r < p.length; r++) {
        scores.add(p[r][1]);
        labels.add(y[r][1] > 0.5 ? 1 : 0);
      }
    }
    assertEquals(img.trainSubjects(), scores.size());
    double byHand =
        org.cohortfusion.evaluate.ClassificationMetrics.binaryAuroc(
            scores.stream().mapToDouble(Double::doubleValue).toArray(),
            labels.stream().mapToInt(Integer::intValue).toArray());
    assertEquals(byHand, img.trainAuroc(), 1e-4);
  }

  /** Pixel shift, in standard deviations, that carries the label in the train subjects' images. */
  private static final float TRAIN_ONLY_SHIFT = 2f;

  /** {@code rows} with the label written into the train subjects' images only. */
  private static List<org.apache.spark.sql.Row> trainOnlyImageSignal(
      List<org.apache.spark.sql.Row> rows) {
    int split = FeatureTestCohorts.SCHEMA.fieldIndex("split");
    int label = FeatureTestCohorts.SCHEMA.fieldIndex("label");
    int image = FeatureTestCohorts.SCHEMA.fieldIndex("img");
    List<org.apache.spark.sql.Row> out = new java.util.ArrayList<>();
    for (org.apache.spark.sql.Row row : rows) {
      Object[] values = new Object[row.size()];
      for (int f = 0; f < values.length; f++) {
        values[f] = row.get(f);
      }
      if ("train".equals(row.getString(split)) && row.getInt(label) == 1) {
        float[] pixels = ((float[]) values[image]).clone();
        for (int p = 0; p < pixels.length; p++) {
          pixels[p] += TRAIN_ONLY_SHIFT;
        }
        values[image] = pixels;
      }
      out.add(org.apache.spark.sql.RowFactory.create(values));
    }
    return out;
  }
}
