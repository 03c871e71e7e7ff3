package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.FusionModelConfig;
import org.cohortfusion.fusion.spec.FusionCompiler;
import org.cohortfusion.fusion.spec.FusionSpec;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.testing.SparkTestSession;
import org.cohortfusion.testing.SyntheticSurvival;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Validation metrics scored on the executors: against a hand-computed case, and against the
 * driver's computation ({@link Metrics#evaluate}: midrank AUROC, ND4J's accuracy) on batches with
 * ties, absent modalities and three classes, and for a survival outcome ({@link Metrics#survival}).
 */
class ExecutorMetricsTest {
  private final JavaSparkContext jsc =
      JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext());

  static final EmbeddingsSpec EMB =
      new EmbeddingsSpec(
          List.of(
              new EmbeddingsSpec.Modality("clinical", 4, "a"),
              new EmbeddingsSpec.Modality("labs", 3, "b")),
          List.of("no", "yes"),
          "c");

  static ComputationGraph graph(EmbeddingsSpec emb, String how) {
    FusionSpec spec =
        FusionSpec.fromConfig(
            "m",
            FusionModelConfig.builder()
                .what(emb.modalityNames())
                .how(how)
                .projection(4)
                .head(List.of(5))
                .build());
    return FusionCompiler.compile(spec, emb, new Adam(1e-3), 11).newGraph();
  }

  /**
   * Random batches; a fifth of the rows have no modality at all, so the model gives them one shared
   * score (ties).
   */
  static List<Batch> batches(EmbeddingsSpec emb, int count, int size, long seed) {
    Random r = new Random(seed);
    int[] dims = emb.modalities().stream().mapToInt(EmbeddingsSpec.Modality::dim).toArray();
    List<Batch> out = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      float[][] f = new float[dims.length][];
      for (int m = 0; m < dims.length; m++) {
        f[m] = new float[size * dims[m]];
        for (int i = 0; i < f[m].length; i++) {
          f[m][i] = (float) r.nextGaussian();
        }
      }
      float[] presence = new float[size * dims.length];
      int[] labels = new int[size];
      for (int i = 0; i < size; i++) {
        boolean none = r.nextInt(5) == 0;
        for (int m = 0; m < dims.length; m++) {
          presence[i * dims.length + m] = none ? 0 : r.nextInt(4) == 0 ? 0 : 1;
        }
        labels[i] = r.nextInt(emb.numClasses());
      }
      out.add(new Batch(dims, f, presence, labels, emb.numClasses()));
    }
    return out;
  }

  @Test
  void aOneFeatureLogisticModelScoresAsComputedByHand() {
    EmbeddingsSpec one =
        new EmbeddingsSpec(
            List.of(new EmbeddingsSpec.Modality("x", 1, "a")), List.of("no", "yes"), "c");
    FusionSpec spec =
        FusionSpec.fromConfig(
            "lr",
            FusionModelConfig.builder()
                .what(List.of("x"))
                .how("concat")
                .projection(0)
                .head(List.of())
                .build());
    ComputationGraph g = FusionCompiler.compile(spec, one, new Adam(1e-3), 1).newGraph();
    // logits (0, x): p(yes) = sigmoid(x)
    g.getLayer(FusionCompiler.OUTPUT).setParam("W", Nd4j.createFromArray(new float[][] {{0, 1}}));
    g.getLayer(FusionCompiler.OUTPUT).setParam("b", Nd4j.createFromArray(new float[][] {{0, 0}}));
    float[] x = {1, 2, 2, 3};
    int[] y = {0, 1, 0, 1};
    Batch b = new Batch(new int[] {1}, new float[][] {x}, new float[] {1, 1, 1, 1}, y, 2);
    Metrics m = ExecutorMetrics.evaluate(jsc.parallelize(List.of(b), 1), g, new int[] {0}, 2);
    // Positives score 2 and 3, negatives 1 and 2: pairs 1 + 0.5 (tie) + 1 + 1 of 4.
    assertEquals(0.875, m.auroc(), 1e-12);
    double loss =
        -(Math.log(1 - sigmoid(1))
                + Math.log(sigmoid(2))
                + Math.log(1 - sigmoid(2))
                + Math.log(sigmoid(3)))
            / 4;
    assertEquals(loss, m.loss(), 1e-6);
    assertEquals(0.5, m.accuracy(), 0.0, "every x > 0 predicts yes: half right");
    assertEquals(4, m.n());
  }

  static double sigmoid(double z) {
    return 1 / (1 + Math.exp(-z));
  }

  @Test
  void twoClassesAgreeWithTheDriverAcrossPartitions() {
    ComputationGraph g = graph(EMB, "attention");
    List<Batch> data = batches(EMB, 23, 9, 5);
    int[] columns = {0, 1};
    Metrics driver = Metrics.evaluate(TrainedModels.graph(g, columns), data, 2);
    Metrics executors = ExecutorMetrics.evaluate(jsc.parallelize(data, 4), g, columns, 2);
    assertEquals(driver.n(), executors.n());
    assertEquals(driver.auroc(), executors.auroc(), 1e-9);
    assertEquals(driver.loss(), executors.loss(), 1e-5);
    assertEquals(driver.accuracy(), executors.accuracy(), 1e-12);
  }

  @Test
  void threeClassesAverageOneVsRestAsTheDriverDoes() {
    EmbeddingsSpec three = new EmbeddingsSpec(EMB.modalities(), List.of("low", "mid", "high"), "c");
    ComputationGraph g = graph(three, "concat");
    List<Batch> data = batches(three, 11, 13, 9);
    Metrics driver = Metrics.evaluate(TrainedModels.graph(g, new int[] {0, 1}), data, 3);
    Metrics executors = ExecutorMetrics.evaluate(jsc.parallelize(data, 3), g, new int[] {0, 1}, 3);
    assertEquals(driver.auroc(), executors.auroc(), 1e-9);
    assertEquals(driver.loss(), executors.loss(), 1e-5);
    assertEquals(driver.accuracy(), executors.accuracy(), 1e-12);
  }

  /**
   * A survival split cached on the executors (several partitions) scores as the driver's {@link
   * Metrics#survival} on the same batches collected: the summed likelihood, and Harrell's C from
   * the risks and codes brought back.
   */
  @Test
  void survivalOnTheExecutorsAgreesWithTheDriver(@TempDir Path dir) {
    SparkSession spark = SparkTestSession.get();
    String embeddings = dir.resolve("embeddings").toString();
    SyntheticSurvival.write(spark, embeddings, 400, 17);
    EmbeddingsSpec spec =
        EmbeddingsSpec.read(spark.sparkContext().hadoopConfiguration(), embeddings);
    ComputationGraph g = graph(spec, "concat");
    int[] columns = {0, 1};
    HeldOut held =
        HeldOut.onExecutors(
            EmbeddingsData.batches(EmbeddingsData.table(spark, embeddings), spec, "validation", 16)
                .repartition(3),
            true);
    try {
      Metrics executors = held.score(g, columns, spec.numClasses());
      Metrics driver = Metrics.survival(TrainedModels.graph(g, columns), held.collected());
      assertEquals(80, driver.n(), "the validation fifth of 400 subjects");
      assertEquals(driver.n(), executors.n());
      assertFalse(Double.isNaN(driver.auroc()), "comparable pairs exist");
      assertEquals(driver.auroc(), executors.auroc(), 1e-9, "Harrell's C");
      assertEquals(driver.loss(), executors.loss(), 1e-9, "hazard likelihood");
      assertTrue(Double.isNaN(executors.accuracy()), "a survival model has no accuracy");
    } finally {
      held.release();
    }
  }

  @Test
  void oneClassOnlyHasNoAurocAndNoExamplesIsAnError() {
    ComputationGraph g = graph(EMB, "concat");
    List<Batch> data = batches(EMB, 3, 5, 2);
    List<Batch> negatives = new ArrayList<>();
    for (Batch b : data) {
      int[] zeros = new int[b.size()];
      negatives.add(new Batch(new int[] {4, 3}, b.features(), b.presence(), zeros, 2));
    }
    Metrics m = ExecutorMetrics.evaluate(jsc.parallelize(negatives, 2), g, new int[] {0, 1}, 2);
    assertTrue(Double.isNaN(m.auroc()), "AUROC of one class: " + m.auroc());
    assertEquals(15, m.n());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ExecutorMetrics.evaluate(jsc.parallelize(List.<Batch>of(), 2), g, new int[] {0, 1}, 2));
  }
}
