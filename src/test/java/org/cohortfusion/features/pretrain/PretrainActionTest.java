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
   * The train AUROC pretrain reports is the chosen encoder's on its own train subjects: recomputed
   * here on the driver from the published encoder (Mann-Whitney, not DL4J's ROC). An encoder
   * trained long and large on a modality that is pure noise ('img': 16 Gaussian pixels, unrelated
   * to the label) on 90 train subjects comes to separate them far better than validation subjects.
   *
   * <p>Whether the published encoder is flagged is not asserted: on pure noise the validation AUROC
   * has no trend, so the epoch early stopping keeps is arbitrary, and with it whether the encoder
   * had memorised by then (a CI run kept epoch 2 of 30: train AUROC 0.69 against validation 0.60,
   * under the 0.1 gap; other runs raised the flag). What is pinned is that the flag and the table
   * follow the reported figures, and that the train figure is the published encoder's.
   */
  @Test
  void anEncoderThatMemorisesItsTrainSubjectsIsFlagged() throws Exception {
    String cohort =
        FeatureTestCohorts.writeCohort(
            spark, FeatureTestCohorts.rows(150, 9), tmp.resolve("cohort").toString(), "fp-2");
    PipelineConfig config =
        PipelineConfigLoader.parse(
            FeatureTestCohorts.config(
                tmp.resolve("out").toString(),
                """
        pretrain {
          averaging-frequency = 2
          encoders {
            img { embedding-size = 16, conv-channels = [16, 32], epochs = 30, batch-size = 8, learning-rate = 0.01, patience = 30 }
          }
        }
        """),
            List.of());
    PretrainResult result =
        PretrainAction.of(spark, config).cohortDir(cohort).modalities(List.of("img")).execute();
    System.out.println(result.table());
    ModalityPretrainResult img = result.modalities().get(0);
    assertEquals(
        img.trainAuroc() - img.validationAuroc() > ModalityPretrainResult.MEMORISATION_GAP,
        img.memorises(),
        "noise encoder: " + img);
    assertEquals(
        img.memorises(), result.table().contains("memorises its train subjects"), result.table());

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
}
