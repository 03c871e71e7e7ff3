package org.cohortfusion.multijvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.features.pretrain.EncoderScores;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Pretrain's held-out scoring of a classification head, in executor JVMs: a one-feature softmax
 * head whose class-1 probability is the logistic function of the feature, on a split whose AUROC
 * and accuracy are worked out by hand.
 */
class EncoderScoresMultiJvmTest {
  private final SparkSession spark = LocalClusterSession.get();

  /**
   * Per copy, positives at x = 2, 1, 1 and negatives at x = 1, -1; the score is increasing in x.
   * Positive–negative pairs: 2 beats both negatives, each 1 ties the negative 1 and beats -1, so
   * the AUROC is (2 + 2 × 1.5) / 6 = 5/6, a tie counting one half. The arg-max class is 1 for x >
   * 0, so the negative at 1 is the one error: accuracy 4/5. Three copies leave both unchanged.
   */
  @Test
  void aClassifierHeadIsScoredOnTheExecutorsAsWorkedOutByHand() {
    MultiLayerNetwork net =
        new MultiLayerNetwork(
            new NeuralNetConfiguration.Builder()
                .list()
                .layer(
                    new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(1)
                        .nOut(2)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
    net.init();
    net.setParam("0_W", Nd4j.create(new float[][] {{0f, 1f}}));
    net.setParam("0_b", Nd4j.create(new float[][] {{0f, 0f}}));
    float[] x = {2, 1, 1, 1, -1};
    int[] label = {1, 1, 1, 0, 0};
    List<DataSet> batches = new ArrayList<>();
    for (int copy = 0; copy < 3; copy++) {
      // Two minibatches per copy, so a partition holds more than one.
      batches.add(dataSet(x, label, 0, 3));
      batches.add(dataSet(x, label, 3, 5));
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    JavaRDD<DataSet> split = jsc.parallelize(batches, 3);
    LocalClusterSession.executorsSinceLastCall();

    double[] scores = EncoderScores.classification(jsc, net, split, 15, 2);

    assertArrayEquals(new double[] {5.0 / 6, 4.0 / 5}, scores, 1e-12);
    assertEquals(
        LocalClusterSession.EXECUTORS,
        LocalClusterSession.executorsSinceLastCall().size(),
        "both executors scored");
    assertArrayEquals(
        new double[] {Double.NaN, Double.NaN},
        EncoderScores.classification(jsc, net, jsc.parallelize(List.<DataSet>of()), 0, 2));
  }

  private static DataSet dataSet(float[] x, int[] label, int from, int to) {
    int n = to - from;
    float[][] features = new float[n][1];
    float[][] labels = new float[n][2];
    for (int r = 0; r < n; r++) {
      features[r][0] = x[from + r];
      labels[r][label[from + r]] = 1f;
    }
    return new DataSet(Nd4j.create(features), Nd4j.create(labels));
  }
}
