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
    MNAR_FEATURE,
    /**
     * Missing at random given the site (observed, as the subjects' {@code group} column): absence
     * probability {@code min(1, rate * 2 * s / (SITES - 1))} at site s, from 0 at site-0 to {@code
     * 2 * rate} at the last site. Independent of the label and the latents (the site is drawn
     * independently of both); the overall rate is {@code rate} whenever {@code rate <= 0.5} (the
     * factors 0, 0.5, 1, 1.5, 2 average 1).
     */
    SITE_RISING,
    /**
     * The mirror of SITE_RISING, missing at random given the site: absence probability {@code
     * min(1, rate * 2 * (SITES - 1 - s) / (SITES - 1))}, from {@code 2 * rate} at site-0 to 0 at
     * the last site. Independent of the label and the latents; the overall rate is {@code rate}
     * whenever {@code rate <= 0.5}.
     */
    SITE_FALLING
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

  /**
   * Probability that a subject lacks the modality, given its label, the modality's latent and its
   * site (0 to {@link CohortPlan#SITES} - 1).
   */
  double absentProbability(int label, double latent, int site) {
    if (site < 0 || site >= CohortPlan.SITES) {
      throw new IllegalArgumentException(
          "Cannot compute absence probability: site must be in [0, "
              + CohortPlan.SITES
              + ") (got "
              + site
              + ")");
    }
    double lastSite = CohortPlan.SITES - 1;
    return switch (mechanism) {
      case MCAR -> rate;
      case MNAR_LABEL -> label == 1 ? 0.4 * rate : Math.min(1.0, 1.6 * rate);
      case MNAR_FEATURE -> Math.min(1.0, 2.0 * rate / (1.0 + Math.exp(2.0 * latent)));
      case SITE_RISING -> Math.min(1.0, rate * 2.0 * site / lastSite);
      case SITE_FALLING -> Math.min(1.0, rate * 2.0 * (lastSite - site) / lastSite);
    };
  }

  /**
   * P(absent | label, latent) with the site averaged out over its uniform distribution: what an
   * observer who conditions on the label and the latent but not on the site sees. The site is drawn
   * independently of the label and the latents, so for the site mechanisms this is a constant (the
   * overall rate: {@code rate} when {@code rate <= 0.5}, less when the highest sites clip at 1),
   * the same for every label and latent; for the other mechanisms it is {@link #absentProbability}.
   */
  double absentProbabilityGivenLabelAndLatent(int label, double latent) {
    // For the mechanisms that ignore the site, site 0 stands for any site (a mean of five equal
    // terms could round differently from the term).
    return switch (mechanism) {
      case MCAR, MNAR_LABEL, MNAR_FEATURE -> absentProbability(label, latent, 0);
      case SITE_RISING, SITE_FALLING -> {
        double sum = 0.0;
        for (int s = 0; s < CohortPlan.SITES; s++) {
          sum += absentProbability(label, latent, s);
        }
        yield sum / CohortPlan.SITES;
      }
    };
  }
}
