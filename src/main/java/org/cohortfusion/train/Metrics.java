package org.cohortfusion.train;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
   * intervals ({@link #intervalConcordance}) — what early stopping and model choice read; {@code
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
      lossSum += survivalLoss(hazards[r], codes[r]);
      risk[r] = risk(hazards[r]);
    }
    return survival(lossSum, risk, codes);
  }

  /**
   * {@link #survival(double[][], int[])} from the sum of the subjects' {@link #survivalLoss} and
   * their {@link #risk}s: for hazards scored where the data lives ({@link ExecutorMetrics}).
   */
  static Metrics survival(double lossSum, double[] risk, int[] codes) {
    int n = codes.length;
    if (n == 0) {
      throw new IllegalArgumentException("Cannot compute metrics: no labeled examples");
    }
    return new Metrics(intervalConcordance(risk, codes), lossSum / n, Double.NaN, n);
  }

  /**
   * One subject's negative log-likelihood under the discrete-time hazard model: the training loss,
   * label mask applied, hazards clipped away from 0 and 1.
   */
  static double survivalLoss(double[] hazards, int code) {
    int j = hazards.length;
    float[] y = new float[j];
    float[] mask = new float[j];
    DiscreteTimeHazard.targets(code, 0, j, y, mask);
    double loss = 0;
    for (int k = 0; k < j; k++) {
      if (mask[k] != 0) {
        double p = Math.min(Math.max(hazards[k], 1e-7), 1 - 1e-7);
        loss -= y[k] != 0 ? Math.log(p) : Math.log(1 - p);
      }
    }
    return loss;
  }

  /** The risk Harrell's C ranks: the probability of the event by the last interval's end. */
  static double risk(double[] hazards) {
    double[] s = DiscreteTimeHazard.survival(hazards);
    return 1 - s[s.length - 1];
  }

  /**
   * Harrell's concordance (Harrell et al., JAMA 247:2543, 1982) when times are known only to their
   * interval: an event in interval j happened within it (time j + 1/2), a subject censored after
   * surviving s intervals was last seen at time s. A pair is comparable when the earlier time is an
   * event; it is concordant when that subject has the higher risk, ties in risk count one half. NaN
   * without a comparable pair.
   *
   * <p>In half-intervals a subject's time is its code itself (2s + 1 for an event in interval s, 2s
   * when censored after s intervals), so event i is comparable with every subject of a higher code.
   * Risks are sorted per code, and each event counts the lower and equal risks of every higher code
   * by binary search: O(n log n) per code, for validation splits of any size.
   */
  public static double intervalConcordance(double[] risk, int[] codes) {
    int top = 0;
    for (int c : codes) {
      top = Math.max(top, c);
    }
    int[] counts = new int[top + 1];
    for (int c : codes) {
      counts[c]++;
    }
    double[][] byCode = new double[top + 1][];
    for (int c = 0; c <= top; c++) {
      byCode[c] = new double[counts[c]];
    }
    int[] filled = new int[top + 1];
    for (int i = 0; i < codes.length; i++) {
      byCode[codes[i]][filled[codes[i]]++] = risk[i];
    }
    for (double[] r : byCode) {
      Arrays.sort(r);
    }
    double concordant = 0;
    long comparable = 0;
    for (int i = 0; i < codes.length; i++) {
      if (codes[i] % 2 == 0) {
        continue;
      }
      for (int c = codes[i] + 1; c <= top; c++) {
        double[] later = byCode[c];
        int below = firstAtLeast(later, risk[i]);
        int atOrBelow = firstAbove(later, risk[i]);
        concordant += below + 0.5 * (atOrBelow - below);
        comparable += later.length;
      }
    }
    return comparable == 0 ? Double.NaN : concordant / comparable;
  }

  /**
   * The index of the first element of ascending {@code a} that is {@code >= x}: how many are below
   * it.
   */
  public static int firstAtLeast(double[] a, double x) {
    int lo = 0;
    int hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] < x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * The index of the first element of ascending {@code a} that is {@code > x}: how many are at or
   * below it.
   */
  public static int firstAbove(double[] a, double x) {
    int lo = 0;
    int hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] <= x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
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
