package org.cohortfusion.evaluate;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The paired AUROC comparisons of a binary evaluation ({@link PairedAuroc}, DeLong), each pair of
 * models at most once, on the same subjects: shared by single-split evaluate and the cv stage.
 */
final class PairedComparisons {
  private final Map<String, double[][]> probabilities;
  private final int[] labels;
  private final List<EvaluateResult.Comparison> out = new ArrayList<>();

  /** Each model's positive-class column, taken once: the reference is in every pair. */
  private final Map<String, double[]> positives = new java.util.HashMap<>();

  /**
   * @param probabilities per model, the class probabilities of every subject in one order
   * @param labels the subjects' labels in that order
   */
  PairedComparisons(Map<String, double[][]> probabilities, int[] labels) {
    this.probabilities = probabilities;
    this.labels = labels;
  }

  /**
   * Adds {@code model} minus {@code reference}, unless they are the same model, either has no
   * probabilities or the pair is already there.
   */
  void add(String model, String reference) {
    boolean done =
        out.stream().anyMatch(c -> c.model().equals(model) && c.reference().equals(reference));
    if (done
        || model.equals(reference)
        || !probabilities.containsKey(model)
        || !probabilities.containsKey(reference)) {
      return;
    }
    out.add(
        new EvaluateResult.Comparison(
            model,
            reference,
            PairedAuroc.of(positiveOf(model), positiveOf(reference), labels, 0.95)));
  }

  private double[] positiveOf(String model) {
    return positives.computeIfAbsent(model, m -> positive(probabilities.get(m)));
  }

  List<EvaluateResult.Comparison> list() {
    return List.copyOf(out);
  }

  /** The positive class's probability of every subject. */
  static double[] positive(double[][] probabilities) {
    double[] p = new double[probabilities.length];
    for (int i = 0; i < p.length; i++) {
      p[i] = probabilities[i][1];
    }
    return p;
  }
}
