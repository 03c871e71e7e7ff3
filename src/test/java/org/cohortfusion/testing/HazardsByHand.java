package org.cohortfusion.testing;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.stage.ModalitySpec;
import org.cohortfusion.train.classical.ClassicalFeatures;

/**
 * The hazards of a linear classical survival baseline from its fitted coefficients, computed on the
 * driver: for interval j, sigmoid(b + w . features + w_j), where the interval indicators follow the
 * features and the first interval has none (it is the intercept's).
 */
public final class HazardsByHand {
  private HazardsByHand() {}

  /**
   * Subject id to the hazard of every interval, in interval order.
   *
   * @param features the baseline's fitted feature transforms (its pipeline's first stage)
   * @param rows aligned rows
   */
  public static Map<String, double[]> of(
      Transformer features,
      LogisticRegressionModel lr,
      Dataset<Row> rows,
      List<ModalitySpec> modalities,
      int intervals) {
    double[] w = lr.coefficients().toArray();
    Map<String, double[]> out = new HashMap<>();
    for (Row r :
        features
            .transform(ClassicalFeatures.prepare(rows, modalities))
            .select("subject_id", ClassicalFeatures.FEATURES)
            .collectAsList()) {
      double[] x = r.<org.apache.spark.ml.linalg.Vector>getAs(1).toArray();
      double base = lr.intercept();
      for (int k = 0; k < x.length; k++) {
        base += w[k] * x[k];
      }
      double[] h = new double[intervals];
      for (int j = 0; j < intervals; j++) {
        double z = base + (j == 0 ? 0 : w[x.length + j - 1]);
        h[j] = 1 / (1 + Math.exp(-z));
      }
      out.put(r.getString(0), h);
    }
    return out;
  }
}
