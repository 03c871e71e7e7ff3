package org.cohortfusion.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.cohort.survival.IntervalConcordance;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Held-out metrics: AUROC ({@link Auroc}: ties count one half; binary on the positive-class
 * probability, mean one-vs-rest for more classes), mean cross-entropy and accuracy (ND4J's {@code
 * Evaluation}).
 *
 * @param auroc area under the ROC curve
 * @param loss mean multi-class cross-entropy of the predicted probabilities
 * @param accuracy fraction of arg-max predictions equal to the label
 * @param n number of examples
 */
public record Metrics(double auroc, double loss, double accuracy, long n) {

  /**
   * Something that predicts class probabilities for a batch holding every modality of the
   * embeddings.
   */
  @FunctionalInterface
  public interface Predictor {
    INDArray predict(Batch batch);
  }

  public static Metrics evaluate(Predictor predictor, List<Batch> batches, int numClasses) {
    if (batches.stream().anyMatch(Batch::survival)) {
      return survival(predictor, batches);
    }
    java.util.List<double[]> rows = new java.util.ArrayList<>();
    java.util.List<Integer> classes = new java.util.ArrayList<>();
    Evaluation eval = new Evaluation(numClasses);
    double lossSum = 0;
    long n = 0;
    for (Batch b : batches) {
      if (b.size() == 0) {
        continue;
      }
      MultiDataSet mds = b.toMultiDataSet();
      INDArray labels = mds.getLabels(0);
      INDArray probs = predictor.predict(b);
      double[][] p = probs.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleMatrix();
      for (int r = 0; r < p.length; r++) {
        rows.add(p[r]);
        classes.add(b.labels()[r]);
      }
      eval.eval(labels, probs);
      INDArray logp = Transforms.log(Transforms.max(probs, 1e-7, true), false);
      lossSum -= logp.mul(labels).sumNumber().doubleValue();
      n += b.size();
    }
    if (n == 0) {
      throw new IllegalArgumentException("Cannot compute metrics: no labeled examples");
    }
    double auc =
        Auroc.of(
            rows.toArray(new double[0][]),
            classes.stream().mapToInt(Integer::intValue).toArray(),
            numClasses);
    return new Metrics(auc, lossSum / n, eval.accuracy(), n);
  }

  /**
   * Held-out metrics of a survival model (batches of {@link DiscreteTimeHazard} codes): {@code
   * loss} is the mean negative log-likelihood of the discrete-time hazard model (the training loss,
   * label mask applied), and {@code auroc} holds Harrell's concordance at the resolution of the
   * intervals ({@link IntervalConcordance#of}) — what early stopping and model choice read; {@code
   * accuracy} is NaN.
   */
  static Metrics survival(Predictor predictor, List<Batch> batches) {
    java.util.List<double[]> hazards = new java.util.ArrayList<>();
    java.util.List<Integer> codes = new java.util.ArrayList<>();
    for (Batch b : batches) {
      if (b.size() == 0) {
        continue;
      }
      double[][] h =
          predictor.predict(b).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleMatrix();
      for (int r = 0; r < h.length; r++) {
        hazards.add(h[r]);
        codes.add(b.labels()[r]);
      }
    }
    return survival(
        hazards.toArray(new double[0][]), codes.stream().mapToInt(Integer::intValue).toArray());
  }

  /**
   * {@link #survival(Predictor, List)} from predicted hazards (one row of J per subject) and the
   * subjects' {@link DiscreteTimeHazard} codes: for models that do not predict {@link Batch}es (the
   * classical baselines).
   */
  public static Metrics survival(double[][] hazards, int[] codes) {
    int n = codes.length;
    double[] risk = new double[n];
    double lossSum = 0;
    for (int r = 0; r < n; r++) {
      lossSum += IntervalConcordance.survivalLoss(hazards[r], codes[r]);
      risk[r] = IntervalConcordance.risk(hazards[r]);
    }
    return survival(lossSum, risk, codes);
  }

  /**
   * {@link #survival(double[][], int[])} from the sum of the subjects' {@link
   * IntervalConcordance#survivalLoss} and their {@link IntervalConcordance#risk}s: for hazards
   * scored where the data lives ({@link ExecutorMetrics}).
   */
  static Metrics survival(double lossSum, double[] risk, int[] codes) {
    int n = codes.length;
    if (n == 0) {
      throw new IllegalArgumentException("Cannot compute metrics: no labeled examples");
    }
    return new Metrics(IntervalConcordance.of(risk, codes), lossSum / n, Double.NaN, n);
  }

  /**
   * The same metrics from predicted class probabilities (one row per example) and class indices:
   * for models that do not predict {@link Batch}es (the classical baselines).
   */
  public static Metrics of(double[][] probabilities, int[] labels, int numClasses) {
    if (labels.length == 0) {
      throw new IllegalArgumentException("Cannot compute metrics: no labeled examples");
    }
    double lossSum = 0;
    long correct = 0;
    for (int r = 0; r < labels.length; r++) {
      lossSum -= Math.log(Math.max(probabilities[r][labels[r]], 1e-7));
      int argmax = 0;
      for (int k = 1; k < numClasses; k++) {
        argmax = probabilities[r][k] > probabilities[r][argmax] ? k : argmax;
      }
      correct += argmax == labels[r] ? 1 : 0;
    }
    return new Metrics(
        Auroc.of(probabilities, labels, numClasses),
        lossSum / labels.length,
        (double) correct / labels.length,
        labels.length);
  }

  /**
   * What {@link #auroc} holds: "C" for a survival model (Harrell's concordance; no accuracy), else
   * "AUROC".
   */
  public String rankName() {
    return Double.isNaN(accuracy) ? "C" : "AUROC";
  }

  public Map<String, Double> asMap() {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("auroc", auroc);
    m.put("loss", loss);
    m.put("accuracy", accuracy);
    m.put("n", (double) n);
    return m;
  }
}
