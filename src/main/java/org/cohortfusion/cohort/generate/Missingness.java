package org.cohortfusion.cohort.generate;

import java.io.Serializable;

/**
 * How often a modality is absent for a subject (no row at all in its table) and why.
 *
 * @param rate target fraction of subjects without the modality, in [0, 1)
 * @param mechanism what the absence depends on
 */
public record Missingness(double rate, Mechanism mechanism) implements Serializable {

  /** Missingness mechanism. */
  public enum Mechanism {
    /** Missing completely at random: the absence probability is {@code rate} for everyone. */
    MCAR,
    /**
     * Missing not at random, depending on the label: positives are missing with probability {@code
     * 0.4 * rate}, negatives with {@code min(1, 1.6 * rate)}. The overall rate equals {@code rate}
     * at prevalence 0.5 (sicker patients get more tests, hence fewer gaps).
     */
    MNAR_LABEL,
    /**
     * Missing not at random, depending on the modality's own latent z: absence probability {@code
     * min(1, 2 * rate * sigmoid(-2 z))}, so low-signal subjects lose the modality more often; the
     * overall rate is {@code rate} whenever {@code rate <= 0.5} (by symmetry of z).
     */
    MNAR_FEATURE
  }

  public Missingness {
    if (mechanism == null) {
      throw new IllegalArgumentException(
          "Cannot generate cohort: missingness mechanism must be set (got null)");
    }
    if (!(rate >= 0.0 && rate < 1.0)) {
      throw new IllegalArgumentException(
          "Cannot generate cohort: missingness rate must be in [0, 1) (got " + rate + ")");
    }
  }

  /** MCAR missingness at the given rate. */
  public static Missingness mcar(double rate) {
    return new Missingness(rate, Mechanism.MCAR);
  }

  /** Probability that a subject lacks the modality, given its label and the modality's latent. */
  double absentProbability(int label, double latent) {
    return switch (mechanism) {
      case MCAR -> rate;
      case MNAR_LABEL -> label == 1 ? 0.4 * rate : Math.min(1.0, 1.6 * rate);
      case MNAR_FEATURE -> Math.min(1.0, 2.0 * rate / (1.0 + Math.exp(2.0 * latent)));
    };
  }
}
