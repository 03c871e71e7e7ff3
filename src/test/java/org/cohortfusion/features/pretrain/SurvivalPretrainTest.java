package org.cohortfusion.features.pretrain;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.cli.CohortFusion;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.cohortfusion.features.extract.ExtractAction;
import org.cohortfusion.testing.AllPairsC;
import org.cohortfusion.testing.SurvivalCohorts;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;

/**
 * Pretrain on a survival outcome trains each encoder with a discrete-time hazard head over the
 * outcome's intervals and reports C, not AUROC. The cohort is generated and its event times drawn
 * from an exponential model of two clinical columns ({@link SurvivalCohorts}), so the true risk's C
 * is known. Checked independently of the code under test:
 *
 * <ul>
 *   <li>the published encoder's head has one sigmoid output per interval under binary
 *       cross-entropy, and its provenance records the outcome;
 *   <li>the reported test C equals Harrell's C written out over all pairs ({@link AllPairsC}) of
 *       the published encoder's risks, 1 - prod(1 - h_j), on the test minibatches, with each
 *       subject's interval time read from its targets and mask (an event in interval s at s + 1/2,
 *       censored after s intervals at s);
 *   <li>extract writes the J hazards as the head column, and the clinical head's risks recover at
 *       least half of the true risk's concordance above chance on the test subjects, by Harrell's C
 *       over all pairs of their durations (the bar of {@code SurvivalEndToEndTest}, set before the
 *       first run). The clinical encoder learns at 0.01: at the default 0.001 ten epochs of
 *       parameter averaging leave it far from converged (validation C still rising by 0.01 an
 *       epoch);
 *   <li>extract refuses an encoder pretrained over other intervals than the config's.
 * </ul>
 */
class SurvivalPretrainTest {
  private static final double[] CUTS = {0.25, 0.5, 1, 2};

  @TempDir Path dir;

  @Test
  void pretrainTrainsHazardHeadsAndReportsC() throws Exception {
    assertEquals(
        0,
        CohortFusion.run(
            "generate",
            "--subjects",
            "600",
            "--seed",
            "21",
            "--missing",
            "labs=0.3",
            "--output",
            dir.resolve("in").toString()));
    double trueC = SurvivalCohorts.withSurvivalFromClinical(dir.resolve("in"));
    Path conf =
        Files.writeString(
            dir.resolve("survival.conf"),
            """
        name = survival-pretrain-test
        cohort-dir = "%s"
        subjects {
          path = subjects_survival
          outcome { kind = survival, intervals = [0.25, 0.5, 1, 2] }
        }
        modalities {
          clinical { kind = tabular, path = clinical }
          labs { kind = timeseries, path = labs, steps = 4 }
        }
        splits { seed = 5 }
        output { dir = "%s" }
        pretrain.encoders {
          clinical { embedding-size = 4, hidden = [8], epochs = 10, learning-rate = 0.01 }
          labs { embedding-size = 4, cell = cnn, epochs = 3 }
        }
        """
                .formatted(dir.resolve("in"), dir.resolve("out")));
    assertEquals(0, CohortFusion.run("run", "--config", conf.toString(), "--to", "extract"), "run");

    Path out = dir.resolve("out");
    JsonNode metrics = new ObjectMapper().readTree(out.resolve("pretrain/metrics.json").toFile());
    JsonNode clinical = null;
    for (JsonNode m : metrics.path("modalities")) {
      assertEquals("survival", m.path("outcome").asText(), m.toString());
      assertFalse(m.has("validationAuroc") || m.has("testAuroc"), m.toString());
      assertTrue(m.path("validationC").isNumber(), m.toString());
      if (m.path("modality").asText().equals("clinical")) {
        clinical = m;
      }
    }
    assertTrue(clinical != null, metrics.toString());

    // The head: J sigmoid outputs under binary cross-entropy; the outcome in the provenance.
    Configuration hadoop = new Configuration();
    EncoderArtifact.Loaded loaded =
        EncoderArtifact.load(hadoop, clinical.path("encoderDir").asText());
    MultiLayerNetwork net = loaded.network();
    OutputLayer head = (OutputLayer) net.getLayer(net.getnLayers() - 1).conf().getLayer();
    assertEquals(CUTS.length, head.getNOut());
    assertTrue(head.getActivationFn() instanceof ActivationSigmoid, head.toString());
    assertTrue(head.getLossFn() instanceof LossBinaryXENT, head.toString());
    assertEquals(
        List.of(0.25, 0.5, 1.0, 2.0), EncoderArtifact.survivalIntervals(loaded.provenance()));

    // The reported test C against all pairs of the published encoder's risks on the test split.
    SparkSession spark = SparkSession.builder().getOrCreate();
    Dataset<Row> aligned = spark.read().parquet(out.resolve("cohort/aligned").toString());
    Dataset<Row> labelled =
        aligned
            .filter(
                col("has_clinical").and(col("label").isNotNull()).and(col("duration").isNotNull()))
            .withColumn("label", new DiscreteTimeHazard(CUTS).codeColumn());
    List<double[]> byIntervals = new ArrayList<>();
    for (DataSet b :
        PretrainAction.dataSets(labelled, "test", loaded.preprocessing(), CUTS.length, true, 32)
            .collect()) {
      double[][] h =
          net.output(b.getFeatures(), false, b.getFeaturesMaskArray(), null)
              .castTo(DataType.DOUBLE)
              .toDoubleMatrix();
      double[][] y = b.getLabels().castTo(DataType.DOUBLE).toDoubleMatrix();
      double[][] mask = b.getLabelsMaskArray().castTo(DataType.DOUBLE).toDoubleMatrix();
      for (int r = 0; r < h.length; r++) {
        double time = 0;
        double event = 0;
        for (int j = 0; j < CUTS.length && mask[r][j] != 0; j++) {
          if (y[r][j] != 0) {
            time += 0.5;
            event = 1;
          } else {
            time += 1;
          }
        }
        byIntervals.add(new double[] {risk(h[r]), time, event});
      }
    }
    assertEquals(clinical.path("testSubjects").asLong(), byIntervals.size());
    double testC = AllPairsC.of(byIntervals);
    System.out.printf(
        "clinical hazard head: validation C %.4f, test C reported %.6f, all pairs %.6f%n",
        clinical.path("validationC").asDouble(), clinical.path("testC").asDouble(), testC);
    assertEquals(testC, clinical.path("testC").asDouble(), 1e-9);

    // Extract writes the J hazards; their risks carry the true risk's signal on the test subjects.
    Dataset<Row> embeddings = spark.read().parquet(out.resolve("embeddings/table").toString());
    List<double[]> byDuration = new ArrayList<>();
    for (Row r :
        embeddings
            .where("split = 'test' AND label IS NOT NULL AND has_clinical")
            .select(col("duration"), col("label"), col(ExtractAction.HEAD_PREFIX + "clinical"))
            .collectAsList()) {
      List<Float> hazards = r.getList(2);
      assertEquals(CUTS.length, hazards.size());
      double[] h = hazards.stream().mapToDouble(Float::doubleValue).toArray();
      byDuration.add(new double[] {risk(h), r.getDouble(0), r.getInt(1)});
    }
    double c = AllPairsC.of(byDuration);
    System.out.printf("clinical head on test durations: C %.4f, true risk's C %.4f%n", c, trueC);
    assertTrue(
        c - 0.5 >= (trueC - 0.5) / 2,
        "the clinical hazard head's C " + c + " against the true risk's " + trueC);

    // An encoder pretrained over other intervals is refused, not read as hazards of these.
    PipelineConfig other =
        PipelineConfigLoader.load(conf.toFile(), List.of("subjects.outcome.intervals=[0.5, 1, 2]"));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> ExtractAction.of(spark, other).execute());
    assertTrue(
        e.getMessage().startsWith("Cannot extract modality")
            && e.getMessage().contains("run pretrain again"),
        e.getMessage());
  }

  /** 1 - S(last cut): the probability of the event by the end of the last interval. */
  private static double risk(double[] hazards) {
    double survival = 1;
    for (double h : hazards) {
      survival *= 1 - h;
    }
    return 1 - survival;
  }
}
