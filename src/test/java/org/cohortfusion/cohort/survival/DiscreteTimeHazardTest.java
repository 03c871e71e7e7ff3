package org.cohortfusion.cohort.survival;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The discrete-time hazard coding against hand-worked cases, and the claim the class rests on:
 * DL4J's binary cross-entropy output layer with a per-output label mask computes the discrete-time
 * survival likelihood (checked against the likelihood written out here from the network's own
 * hazards) and its gradient (a gradient check).
 */
class DiscreteTimeHazardTest {
  /** Intervals (0, 100], (100, 200], (200, 400]. */
  private final DiscreteTimeHazard h = new DiscreteTimeHazard(new double[] {100, 200, 400});

  @Test
  void codesCountTheIntervalsSurvivedAndTheEvent() {
    assertEquals(3, h.intervals());
    assertEquals(8, h.codes());
    assertEquals(1, h.code(30, true)); // event in interval 0
    assertEquals(1, h.code(100, true)); // an interval includes its upper bound
    assertEquals(3, h.code(101, true)); // event in interval 1
    assertEquals(0, h.code(30, false)); // censored in the first half of interval 0: at risk nowhere
    assertEquals(2, h.code(50, false)); // censored at its midpoint: counts as surviving interval 0
    assertEquals(2, h.code(149, false)); // first half of (100, 200]: survived 1 interval
    assertEquals(4, h.code(150, false)); // second half: survived 2
    assertEquals(5, h.code(399, true)); // event in interval 2
    assertEquals(
        6,
        h.code(401, true)); // beyond the last cut: survived all 3, the event is outside the model
    assertEquals(6, h.code(5000, false));
    assertThrows(IllegalArgumentException.class, () -> h.code(0, true));
    assertThrows(
        IllegalArgumentException.class, () -> new DiscreteTimeHazard(new double[] {100, 100}));
  }

  /**
   * The Spark column that codes a table's rows agrees with the Java coding on every boundary and at
   * random.
   */
  @Test
  void theCodeColumnCodesLikeTheJavaCoding() {
    org.apache.spark.sql.SparkSession spark = org.cohortfusion.testing.SparkTestSession.get();
    java.util.List<org.apache.spark.sql.Row> rows = new java.util.ArrayList<>();
    java.util.Random rng = new java.util.Random(5);
    double[] edges = {0.5, 49.9, 50, 100, 100.01, 149.99, 150, 200, 300, 400, 400.5, 1e4};
    for (double d : edges) {
      rows.add(org.apache.spark.sql.RowFactory.create(d, 1));
      rows.add(org.apache.spark.sql.RowFactory.create(d, 0));
    }
    for (int i = 0; i < 200; i++) {
      rows.add(
          org.apache.spark.sql.RowFactory.create(0.01 + rng.nextDouble() * 500, rng.nextInt(2)));
    }
    rows.add(org.apache.spark.sql.RowFactory.create(null, 1));
    org.apache.spark.sql.types.StructType schema =
        new org.apache.spark.sql.types.StructType().add("duration", "double").add("label", "int");
    java.util.List<org.apache.spark.sql.Row> coded =
        spark
            .createDataFrame(rows, schema)
            .select(
                org.apache.spark.sql.functions.col("duration"),
                org.apache.spark.sql.functions.col("label"),
                h.codeColumn().as("code"))
            .collectAsList();
    for (org.apache.spark.sql.Row r : coded) {
      if (r.isNullAt(0)) {
        assertTrue(r.isNullAt(2));
        continue;
      }
      assertEquals(
          h.code(r.getDouble(0), r.getInt(1) == 1), r.getInt(2), "duration " + r.getDouble(0));
    }
  }

  @Test
  void targetsAreZerosWhileAtRiskAndOneAtTheEvent() {
    float[] y = new float[4 * 3];
    float[] m = new float[4 * 3];
    int[] codes = {1, 4, 5, 0};
    for (int r = 0; r < codes.length; r++) {
      h.targets(codes[r], r, y, m);
    }
    assertArrayEquals(new float[] {1, 0, 0, /**/ 0, 0, 0, /**/ 0, 0, 1, /**/ 0, 0, 0}, y);
    assertArrayEquals(new float[] {1, 0, 0, /**/ 1, 1, 0, /**/ 1, 1, 1, /**/ 0, 0, 0}, m);
    for (int r = 0; r < codes.length; r++) {
      assertEquals(codes[r], h.code(y, m, r));
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> h.targets(7, 0, y, m)); // event after the last interval
  }

  @Test
  void survivalIsTheProductOfOneMinusTheHazards() {
    double[] hz = {0.1, 0.5, 0.2};
    assertArrayEquals(new double[] {0.9, 0.45, 0.36}, DiscreteTimeHazard.survival(hz), 1e-12);
    assertEquals(1.0, h.survivalAt(hz, 99), 1e-12);
    assertEquals(0.9, h.survivalAt(hz, 100), 1e-12);
    assertEquals(0.45, h.survivalAt(hz, 399), 1e-12);
    assertEquals(0.36, h.survivalAt(hz, 1e6), 1e-12);
  }

  @Test
  void dl4jsMaskedCrossEntropyIsTheDiscreteTimeLikelihoodAndItsGradientChecks() {
    DataType before = Nd4j.dataType();
    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    try {
      int n = 6;
      ComputationGraph g = graph();
      INDArray x = Nd4j.rand(DataType.DOUBLE, n, 4).subi(0.5);
      int[] codes = {0, 1, 2, 3, 5, 6};
      float[] y = new float[n * 3];
      float[] m = new float[n * 3];
      for (int r = 0; r < n; r++) {
        h.targets(codes[r], r, y, m);
      }
      INDArray labels = Nd4j.create(y, new long[] {n, 3}, DataType.FLOAT).castTo(DataType.DOUBLE);
      INDArray mask = Nd4j.create(m, new long[] {n, 3}, DataType.FLOAT).castTo(DataType.DOUBLE);

      // The log-likelihood written out: for each subject, each interval at risk contributes log h
      // or log(1 - h).
      double[][] hz = g.outputSingle(false, x).toDoubleMatrix();
      double nll = 0;
      for (int r = 0; r < n; r++) {
        int survived = codes[r] / 2;
        for (int k = 0; k < survived; k++) {
          nll -= Math.log(1 - hz[r][k]);
        }
        if (codes[r] % 2 == 1) {
          nll -= Math.log(hz[r][survived]);
        }
      }
      org.nd4j.linalg.dataset.MultiDataSet mds =
          new org.nd4j.linalg.dataset.MultiDataSet(
              new INDArray[] {x}, new INDArray[] {labels}, null, new INDArray[] {mask});
      // DL4J's score is the minibatch mean of the per-example loss.
      assertEquals(nll / n, g.score(mds), 1e-9);

      assertTrue(
          GradientCheckUtil.checkGradients(
              new GradientCheckUtil.GraphConfig()
                  .net(g)
                  .inputs(new INDArray[] {x})
                  .labels(new INDArray[] {labels})
                  .labelMask(new INDArray[] {mask})
                  .epsilon(1e-6)
                  .maxRelError(1e-3)
                  .minAbsoluteError(1e-8)
                  .exitOnFirstError(false)));
    } finally {
      Nd4j.setDefaultDataTypes(before, before);
    }
  }

  private static ComputationGraph graph() {
    ComputationGraphConfiguration conf =
        new NeuralNetConfiguration.Builder()
            .seed(7)
            .dataType(DataType.DOUBLE)
            .updater(new NoOp())
            .weightInit(WeightInit.XAVIER)
            .graphBuilder()
            .addInputs("x")
            .addLayer(
                "dense",
                new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH).build(),
                "x")
            .addLayer(
                "hazard",
                new OutputLayer.Builder(LossFunctions.LossFunction.XENT)
                    .nIn(5)
                    .nOut(3)
                    .activation(Activation.SIGMOID)
                    .build(),
                "dense")
            .setOutputs("hazard")
            .build();
    ComputationGraph g = new ComputationGraph(conf);
    g.init();
    return g;
  }
}
