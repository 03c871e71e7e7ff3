package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Late fusion of survival models against a hand computation of the mean survival curve. */
class LateSurvivalTest {
  /**
   * Two members with fixed hazards over two intervals: modality 0 predicts [0.1, 0.2] (S = 0.9,
   * 0.72), modality 1 predicts [0.3, 0.5] (S = 0.7, 0.35). Both present: mean curve 0.8, 0.535,
   * hazards 0.2 and 1 - 0.535 / 0.8 = 0.33125. Only modality 0: its own hazards. None: the mean
   * over both members, as if both were present. (A mean of the hazards would give 0.2, 0.35 for the
   * first row.)
   */
  @Test
  void theHazardsAreThoseOfTheMeanSurvivalCurveOverThePresentModalities() {
    Map<Integer, Metrics.Predictor> members = new TreeMap<>();
    members.put(0, constant(0.1f, 0.2f));
    members.put(1, constant(0.3f, 0.5f));
    float[] presence = {1, 1, 1, 0, 0, 0};
    Batch batch =
        new Batch(
            new int[] {1, 1}, new float[][] {new float[3], new float[3]}, presence, new int[3], 2);
    double[][] h =
        TrainedModels.lateSurvival(members).predict(batch).castTo(DataType.DOUBLE).toDoubleMatrix();
    assertArrayEquals(new double[] {0.2, 0.33125}, h[0], 1e-6);
    assertArrayEquals(new double[] {0.1, 0.2}, h[1], 1e-6);
    assertArrayEquals(new double[] {0.2, 0.33125}, h[2], 1e-6);
  }

  /** A member that predicts the same hazards for every row. */
  private static Metrics.Predictor constant(float first, float second) {
    return batch -> {
      float[] out = new float[batch.size() * 2];
      for (int r = 0; r < batch.size(); r++) {
        out[2 * r] = first;
        out[2 * r + 1] = second;
      }
      return Nd4j.create(out, new long[] {batch.size(), 2}, DataType.FLOAT);
    };
  }
}
