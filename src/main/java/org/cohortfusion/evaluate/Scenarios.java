package org.cohortfusion.evaluate;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.cohortfusion.train.Batch;

/**
 * The scenarios every model is scored under, in this order: MCAR removal ({@link ModalityRemoval})
 * at every rate of {@link EvaluateAction#REMOVAL_RATES} (the first, 0, is the test split as it is),
 * then every modality removed entirely, in the embeddings' order.
 *
 * <p>A scenario is a pure function of (seed, subject id, the subject's presence), so the driver
 * builds the presence matrices the metrics and driver-side scorers need ({@link #presence}) and
 * every executor rebuilds the same scenarios of the batches it scores ({@link #apply}) from this
 * small description alone. A plain class, not a record: Kryo cannot build records.
 */
public final class Scenarios implements Serializable {
  private static final long serialVersionUID = 1L;
  private double[] rates;
  private long seed;
  private int numModalities;

  /** For Kryo. */
  private Scenarios() {}

  /**
   * @param rates MCAR removal rates, one scenario each (0: as is)
   * @param seed the removal seed (evaluate.seed)
   * @param numModalities modalities of the embeddings, one ablation scenario each
   */
  public Scenarios(List<Double> rates, long seed, int numModalities) {
    this.rates = rates.stream().mapToDouble(Double::doubleValue).toArray();
    for (double r : this.rates) {
      if (r < 0 || r > 1) {
        throw new IllegalArgumentException(
            "Cannot build scenarios: rate " + r + " is outside [0, 1]");
      }
    }
    this.seed = seed;
    this.numModalities = numModalities;
  }

  /** Number of scenarios: one per rate, then one per modality. */
  public int size() {
    return rates.length + numModalities;
  }

  /** Index of the first ablation scenario (modality 0 removed entirely). */
  int ablationStart() {
    return rates.length;
  }

  /**
   * The presence ({@code n * m}) of every scenario for rows with these subject ids and this
   * presence, each made when it is read: a scenario's matrix is as large as the test split's, and
   * the draws it is cut from are computed once. Read each element once per use.
   */
  public List<float[]> presence(List<String> subjectIds, float[] presence) {
    int m = numModalities;
    if (presence.length != subjectIds.size() * m) {
      throw new IllegalArgumentException(
          "Cannot build scenarios: "
              + presence.length
              + " presence cells for "
              + subjectIds.size()
              + " subjects and "
              + m
              + " modalities");
    }
    double[] draws = ModalityRemoval.draws(seed, subjectIds, m);
    return new java.util.AbstractList<>() {
      @Override
      public float[] get(int s) {
        return s < rates.length
            ? ModalityRemoval.completelyAtRandom(presence, draws, rates[s])
            : ModalityRemoval.entirely(presence, m, s - rates.length);
      }

      @Override
      public int size() {
        return Scenarios.this.size();
      }
    };
  }

  /** The scenarios of the test split, for the metrics and the driver-side scorers. */
  public List<float[]> presence(TestSplit test) {
    return presence(test.subjectIds(), test.presence());
  }

  /**
   * Every scenario of one batch (rows with these subject ids): the same rows with each scenario's
   * presence, removed modalities zeroed ({@link Batch#withPresence}).
   */
  List<Batch> apply(Batch b, String[] subjectIds) {
    List<float[]> p = presence(Arrays.asList(subjectIds), b.presence());
    List<Batch> out = new ArrayList<>(p.size());
    for (float[] presence : p) {
      out.add(b.withPresence(presence));
    }
    return out;
  }
}
