package org.cohortfusion.cohort.generate;

import org.apache.commons.math3.special.Erf;

/**
 * The observable-optimal probability of a generated subject: P(label = 1 | the modality rows the
 * subject actually has, and which modalities it has), computed from the generator's own model
 * without the label or the latents. It is the best any model that sees the generated rows can do;
 * {@code true_probability} (which sees the latents) is the best anything can do.
 *
 * <p><b>Model.</b> z1..z5 ~ N(0, 1) independent; P(label = 1 | z) = sigmoid(b0 + sum a_k z_k + c z3
 * z4); modality m's rows depend on its latent z_(m) only (plus noise independent of everything
 * else), and its presence depends on the label (MNAR_LABEL), on z_(m) (MNAR_FEATURE), on the site
 * (SITE_RISING, SITE_FALLING) or on nothing (MCAR). The site is drawn independently of the label
 * and the latents, so a site mechanism's presence factor is the same under both labels and every
 * latent value and cancels, whether or not one conditions on the site; the site is not used here.
 * Hence the latents stay independent given the evidence and
 *
 * <pre>
 *   P(y, rows, pattern) = prod_{MNAR_LABEL m} P(pattern_m | y) * E_post[ P(y | z) ] * const,
 *   post(z_k) ∝ N(z_k; 0, 1) * lik_k(rows | z_k) * [MNAR_FEATURE: P(pattern_m | z_k)].
 * </pre>
 *
 * A subject whose draws removed every modality keeps clinical (CohortPlan.presence), so the pattern
 * "clinical only" has probability P(every other modality absent) whatever clinical's own coin said:
 * in that pattern clinical's presence carries no information and its factor is dropped.
 *
 * <p><b>Likelihood per modality</b> (y = observation, written as beta * z + sigma * N(0, 1)):
 *
 * <ul>
 *   <li>clinical (z1): (age - 62) / 9 = 0.6 z1 + 0.8 e; (bmi - 27) / 3.5 = 0.5 z1 + 0.87 e; (sbp -
 *       130) / 12 = 0.4 z1 + 0.9 e; (85 - egfr) / 10 = 0.3 z1 + 0.95 e (each absent when nulled by
 *       an independent coin); smoker is 0.8 z1 + e cut at -0.2 and 0.8, a probit likelihood (never:
 *       Phi(-0.2 - 0.8 z1), former: Phi(0.8 - 0.8 z1) - Phi(-0.2 - 0.8 z1), current: Phi(0.8 z1 -
 *       0.8)). The rounding of age, bmi (0.1), sbp and egfr (1) is ignored: its variance is below
 *       0.1% of the noise variance. sex, ldl and site_score do not depend on any latent.
 *   <li>omics (z2): the eight signal positions hold sign_k 0.8 z2 + 0.6 e_k (sign + for even k of
 *       the sorted positions); the sufficient statistic is mean_k sign_k v_k = 0.8 z2 + (0.6 / sqrt
 *       8) e.
 *   <li>imaging (z3): pixel p = g_p A + 0.3 e_p with A = 1 + 0.6 z3 and g_p the channel gain times
 *       the Gaussian blob profile at the blob's centre. Given the centre, the least-squares
 *       amplitude A^ = sum g_p x_p / sum g_p^2 is sufficient, with A^ - 1 = 0.6 z3 + (0.3 /
 *       sqrt(sum g_p^2)) e. The centre is the one the generator drew: an observer must estimate it,
 *       so for imaging this is a slight upper bound (the centre is well determined unless A is near
 *       0, where the image carries little signal anyway: on 10,000 subjects of the default options,
 *       AUROC 0.7892 with the drawn centre, 0.7890 with the maximum-likelihood centre on a
 *       0.25-pixel grid, mean |difference| 0.004).
 *   <li>labs (z4): every pre-index visit with progress q = max(0, 1 - (index - time) / 365) gives
 *       4.0 - alb = 0.3 q z4 + 0.2 e, log crp - 1.5 = 0.5 q z4 + 0.3 e, 13.5 - hb = 0.2 q z4 + 1.0
 *       e (each value absent when nulled by an independent coin). Post-index visits (the planted
 *       leak) are left out, as ingest drops them. All pre-index visits are used, although ingest
 *       keeps only the last {@code steps} of them; the earlier ones have small q and carry little
 *       (with the demo's 8 steps, on 20,000 subjects of the default options: AUROC 0.7880 with
 *       every visit, 0.7879 with the last 8, mean |difference| of the probabilities 0.0007).
 *   <li>notes (z5): each of the words is risk with probability 0.3 s, reassuring with 0.3 (1 - s)
 *       and neutral with 0.7, s = sigmoid(1.5 z5); the sufficient statistic is the (risk,
 *       reassuring) count, with likelihood s^r (1 - s)^q.
 * </ul>
 *
 * Planted bad rows are not modelled: their targets have every modality by construction (NO_MODALITY
 * and BAD_LABEL targets none), and their corrupted rows are rejected by ingest. A presence pattern
 * the model gives probability 0 (possible only for such targets) is conditioned on the rows alone.
 *
 * <p><b>Integration</b> (deterministic, no random draws): each latent's posterior is tabulated on a
 * grid of step {@value #Z_STEP} over [-8, 8] (weights below 1e-12 of the largest dropped). The
 * linear part T = a1 z1 + a2 z2 + a5 z5 and the imaging-labs part U = b0 + a3 z3 + a4 z4 + c z3 z4
 * (a double sum over both grids) are binned onto a grid of step {@value #T_STEP} by linear
 * interpolation (which keeps their means and adds at most T_STEP^2 / 4 of variance), convolved into
 * the logit's distribution, and E[sigmoid(logit)] is summed over it. {@code
 * ObservablePosteriorTest} checks this against hand-derived cases and an independent
 * one-dimensional integral.
 */
final class ObservablePosterior {
  static final double Z_STEP = 0.04;
  static final double T_STEP = 0.05;
  private static final int Z_POINTS = (int) Math.round(16.0 / Z_STEP) + 1;
  private static final double TRIM = 1e-12;

  private ObservablePosterior() {}

  /**
   * What a subject's rows reveal about each latent, accumulated observation by observation.
   * Gaussian observations are kept as precision and precision-weighted mean; the rest as counts.
   */
  static final class Evidence {
    final boolean[] present = new boolean[Modality.values().length];
    final double[] precision = new double[5];
    final double[] precisionMean = new double[5];

    /** Smoker category: -1 unknown, 0 never, 1 former, 2 current. */
    int smoker = -1;

    int riskWords;
    int reassuringWords;

    /** Adds an observation y = beta * z_k + sigma * N(0, 1). */
    Evidence gaussian(int latent, double y, double beta, double sigma) {
      double s2 = sigma * sigma;
      precision[latent] += beta * beta / s2;
      precisionMean[latent] += beta * y / s2;
      return this;
    }

    Evidence present(Modality m) {
      present[m.ordinal()] = true;
      return this;
    }
  }

  /** P(label = 1 | evidence) under the generator's model with these options. */
  static double probability(GenerateOptions o, Evidence e) {
    double[] z = new double[Z_POINTS];
    for (int i = 0; i < Z_POINTS; i++) {
      z[i] = -8.0 + i * Z_STEP;
    }
    boolean clinicalOnly = e.present[Modality.CLINICAL.ordinal()];
    for (Modality m : Modality.values()) {
      if (m != Modality.CLINICAL && e.present[m.ordinal()]) {
        clinicalOnly = false;
      }
    }
    double[][] post = new double[5][];
    for (int k = 0; k < 5; k++) {
      post[k] = posterior(o, e, k, z, clinicalOnly);
    }
    double[] a = o.effects();
    // T = a1 z1 + a2 z2 + a5 z5 on the T grid, offset so that index i means value (i - offset) *
    // T_STEP.
    Binned t = Binned.point(0.0);
    for (int k : new int[] {0, 1, 4}) {
      if (a[k] != 0.0) {
        t = t.convolve(Binned.of(z, post[k], a[k]));
      }
    }
    Binned u = imagingLabsPart(o, z, post[2], post[3]);
    Binned logit = t.convolve(u);
    double q = 0.0;
    for (int i = 0; i < logit.w.length; i++) {
      if (logit.w[i] != 0.0) {
        q += logit.w[i] * CohortPlan.sigmoid(logit.value(i));
      }
    }
    double p1 = q;
    double p0 = 1.0 - q;
    for (Modality m : Modality.values()) {
      Missingness miss = o.missingness(m);
      // Only MNAR_LABEL's factor differs between the labels. MCAR's and the site mechanisms' are
      // the same under both (the site is independent of the label) and cancel exactly; that of
      // MNAR_FEATURE belongs to the latent's posterior.
      if (miss.mechanism() != Missingness.Mechanism.MNAR_LABEL
          || (m == Modality.CLINICAL && clinicalOnly)) {
        continue;
      }
      boolean has = e.present[m.ordinal()];
      // The posterior does not see the site: the factor given the label is the one with the site
      // averaged out (for MNAR_LABEL, which ignores the site, simply its value).
      double abs1 = miss.absentProbabilityGivenLabelAndLatent(1, 0.0);
      double abs0 = miss.absentProbabilityGivenLabelAndLatent(0, 0.0);
      p1 *= has ? 1.0 - abs1 : abs1;
      p0 *= has ? 1.0 - abs0 : abs0;
    }
    // A pattern the model cannot produce (only planted NO_MODALITY / BAD_LABEL targets, which have
    // no modality
    // whatever their coins said) has probability 0 under both labels: condition on the rows alone.
    return p1 + p0 > 0.0 ? p1 / (p1 + p0) : q;
  }

  /** Normalised posterior weights of latent k on the grid z. */
  static double[] posterior(
      GenerateOptions o, Evidence e, int k, double[] z, boolean clinicalOnly) {
    Modality m = Modality.values()[k]; // modality ordinal == latent index (see Modality)
    Missingness miss = o.missingness(m);
    // Only MNAR_FEATURE's presence factor varies with the latent; the site mechanisms' is constant
    // in it (the site is independent of the latents) and cancels in the normalisation.
    boolean featureMissing =
        miss.mechanism() == Missingness.Mechanism.MNAR_FEATURE
            && !(m == Modality.CLINICAL && clinicalOnly);
    double[] w = posterior(e, k, z, featureMissing ? miss : null);
    // As in probability(): an impossible pattern (planted targets only) is conditioned on the rows
    // alone.
    return w != null ? w : posterior(e, k, z, null);
  }

  /**
   * Posterior weights of latent k, with the presence factor of {@code featureMissing} if not null;
   * null if all zero.
   */
  private static double[] posterior(Evidence e, int k, double[] z, Missingness featureMissing) {
    Modality m = Modality.values()[k];
    boolean has = e.present[m.ordinal()];
    double[] log = new double[z.length];
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < z.length; i++) {
      double x = z[i];
      double l = -0.5 * x * x - 0.5 * e.precision[k] * x * x + e.precisionMean[k] * x;
      if (has && k == Modality.CLINICAL.latent() && e.smoker >= 0) {
        l += Math.log(smokerLikelihood(e.smoker, x));
      }
      if (has && k == Modality.NOTES.latent()) {
        double s = 1.5 * x;
        // log sigmoid(s) = -log(1 + e^-s), log(1 - sigmoid(s)) = -log(1 + e^s)
        l -= e.riskWords * Math.log1p(Math.exp(-s)) + e.reassuringWords * Math.log1p(Math.exp(s));
      }
      if (featureMissing != null) {
        // The label is irrelevant to MNAR_FEATURE; the site is not observed here (see the class
        // comment), so the factor is the one with the site averaged out.
        double absent = featureMissing.absentProbabilityGivenLabelAndLatent(0, x);
        l += Math.log(has ? 1.0 - absent : absent);
      }
      log[i] = l;
      max = Math.max(max, l);
    }
    if (max == Double.NEGATIVE_INFINITY) {
      return null;
    }
    double[] w = new double[z.length];
    double sum = 0.0;
    for (int i = 0; i < z.length; i++) {
      double v = Math.exp(log[i] - max);
      w[i] = v < TRIM ? 0.0 : v;
      sum += w[i];
    }
    for (int i = 0; i < z.length; i++) {
      w[i] /= sum;
    }
    return w;
  }

  /** P(smoker category | z1): 0.8 z1 + e cut at -0.2 (never/former) and 0.8 (former/current). */
  static double smokerLikelihood(int category, double z1) {
    double low = phi(-0.2 - 0.8 * z1);
    double high = phi(0.8 - 0.8 * z1);
    double p =
        switch (category) {
          case 0 -> low;
          case 1 -> high - low;
          case 2 -> phi(0.8 * z1 - 0.8);
          default -> 1.0;
        };
    return Math.max(p, Double.MIN_NORMAL);
  }

  static double phi(double x) {
    return 0.5 * Erf.erfc(-x / Math.sqrt(2.0));
  }

  private static Binned imagingLabsPart(GenerateOptions o, double[] z, double[] w3, double[] w4) {
    double[] a = o.effects();
    double b0 = o.intercept();
    double c = o.interaction();
    Binned.Builder b =
        new Binned.Builder(
            Math.abs(b0) + 8.0 * Math.abs(a[2]) + 8.0 * Math.abs(a[3]) + 64.0 * Math.abs(c));
    for (int i = 0; i < z.length; i++) {
      if (w3[i] == 0.0) {
        continue;
      }
      for (int j = 0; j < z.length; j++) {
        if (w4[j] == 0.0) {
          continue;
        }
        b.add(b0 + a[2] * z[i] + a[3] * z[j] + c * z[i] * z[j], w3[i] * w4[j]);
      }
    }
    return b.build();
  }

  /** A discrete distribution on the grid (i + lo) * T_STEP. */
  static final class Binned {
    final int lo;
    final double[] w;

    Binned(int lo, double[] w) {
      this.lo = lo;
      this.w = w;
    }

    double value(int i) {
      return (i + lo) * T_STEP;
    }

    static Binned point(double x) {
      Builder b = new Builder(x);
      b.add(x, 1.0);
      return b.build();
    }

    /** The distribution of scale * z for weights w on the grid z. */
    static Binned of(double[] z, double[] w, double scale) {
      Builder b = new Builder(8.0 * scale);
      for (int i = 0; i < z.length; i++) {
        if (w[i] != 0.0) {
          b.add(scale * z[i], w[i]);
        }
      }
      return b.build();
    }

    Binned convolve(Binned other) {
      double[] out = new double[w.length + other.w.length - 1];
      for (int i = 0; i < w.length; i++) {
        if (w[i] == 0.0) {
          continue;
        }
        for (int j = 0; j < other.w.length; j++) {
          out[i + j] += w[i] * other.w[j];
        }
      }
      return new Binned(lo + other.lo, out);
    }

    /**
     * Accumulates point masses in [-bound, bound], splitting each between its two neighbouring grid
     * points.
     */
    static final class Builder {
      private final int offset;
      private final double[] bins;

      Builder(double bound) {
        offset = (int) Math.ceil(Math.abs(bound) / T_STEP) + 2;
        bins = new double[2 * offset + 2];
      }

      void add(double x, double weight) {
        double pos = x / T_STEP;
        int i = (int) Math.floor(pos);
        double frac = pos - i;
        bins[i + offset] += weight * (1.0 - frac);
        bins[i + 1 + offset] += weight * frac;
      }

      Binned build() {
        int first = 0;
        while (first < bins.length - 1 && bins[first] == 0.0) {
          first++;
        }
        int last = bins.length - 1;
        while (last > first && bins[last] == 0.0) {
          last--;
        }
        return new Binned(first - offset, java.util.Arrays.copyOfRange(bins, first, last + 1));
      }
    }
  }
}
