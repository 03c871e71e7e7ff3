package org.cohortfusion.evaluate;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.cohortfusion.cohort.survival.IntervalConcordance;

/**
 * Held-out metrics of right-censored survival outcomes.
 *
 * <p>Every method takes, per subject, {@code time[i]} (time from the index or prediction time to
 * the event or to censoring, finite and {@code > 0}) and {@code event[i]} ({@code true}: the event
 * was observed at {@code time[i]}; {@code false}: censored at {@code time[i]}). A risk score is
 * higher for an earlier event; a predicted survival probability is {@code S_i(t) = P(T_i > t)}.
 *
 * <p>One tie rule runs through the class: at equal times, events happen before censorings, so a
 * subject censored at {@code t} is known to have outlived a subject whose event was at {@code t}
 * (R's {@code survival::concordance}, see T. Therneau's vignette "The concordance statistic";
 * scikit-survival's reverse Kaplan–Meier).
 *
 * <p>Error messages name counts and parameters only, never a subject's time, event or score.
 */
public final class SurvivalMetrics {
  private SurvivalMetrics() {}

  /**
   * Harrell's concordance index with the pair counts it is made of.
   *
   * @param cIndex {@code (concordant + tiedRisk / 2) / comparable}; NaN when no pair is comparable
   * @param concordant comparable pairs where the subject with the earlier event has the higher risk
   * @param discordant comparable pairs where it has the lower risk
   * @param tiedRisk comparable pairs with equal risks
   * @param comparable all comparable pairs, {@code concordant + discordant + tiedRisk}
   */
  public record Concordance(
      double cIndex, long concordant, long discordant, long tiedRisk, long comparable) {}

  /**
   * Harrell's concordance index: F. E. Harrell, R. M. Califf, D. B. Pryor, K. L. Lee and R. A.
   * Rosati, "Evaluating the yield of medical tests", JAMA 247(18), 1982; F. E. Harrell, K. L. Lee
   * and D. B. Mark, "Multivariable prognostic models", Statistics in Medicine 15(4), 1996.
   *
   * <p>A pair (i, j) is comparable when i's event was observed and i is known to have failed first:
   * {@code time_i < time_j}, or {@code time_i == time_j} with j censored (events before censorings,
   * as in R's {@code survival::concordance}). Pairs with equal times and both events, or both
   * censored, and pairs where the earlier subject was censored, are not comparable. A comparable
   * pair is concordant when {@code risk_i > risk_j}, discordant when {@code risk_i < risk_j}, and
   * counts one half when the risks are equal.
   *
   * <p>O(n log n): subjects are visited from the latest time down while a Fenwick tree counts, per
   * risk rank, the subjects already known to outlive the current one.
   */
  public static Concordance harrellC(double[] time, boolean[] event, double[] risk) {
    int n = checkSubjects("concordance", time, event);
    checkScores("concordance", "risk", risk, n);
    int[] rank = denseRanks(risk);
    int ranks = 0;
    for (int r : rank) {
      ranks = Math.max(ranks, r);
    }
    Integer[] order = byTime(time);
    long[] tree = new long[ranks + 1];
    long inTree = 0;
    long concordant = 0;
    long discordant = 0;
    long tied = 0;
    int end =
        n; // order[start, end) is the group of equal times being visited; the tree holds all later
    // ones
    while (end > 0) {
      int start = end - 1;
      while (start > 0 && time[order[start - 1]] == time[order[end - 1]]) {
        start--;
      }
      // Censored subjects of this time outlive its events (events before censorings), so they enter
      // the tree first.
      for (int k = start; k < end; k++) {
        if (!event[order[k]]) {
          add(tree, rank[order[k]]);
          inTree++;
        }
      }
      for (int k = start; k < end; k++) {
        int i = order[k];
        if (event[i]) {
          long below = prefix(tree, rank[i] - 1);
          long atOrBelow = prefix(tree, rank[i]);
          concordant += below;
          tied += atOrBelow - below;
          discordant += inTree - atOrBelow;
        }
      }
      // Events of this time are not comparable with one another, so they enter only after all were
      // counted.
      for (int k = start; k < end; k++) {
        if (event[order[k]]) {
          add(tree, rank[order[k]]);
          inTree++;
        }
      }
      end = start;
    }
    long comparable = concordant + discordant + tied;
    double c = comparable == 0 ? Double.NaN : (concordant + 0.5 * tied) / comparable;
    return new Concordance(c, concordant, discordant, tied, comparable);
  }

  /**
   * Kaplan–Meier estimate of the censoring distribution {@code G(t) = P(C > t)}: censoring is the
   * event and events are censorings (the "reverse" Kaplan–Meier; E. L. Kaplan and P. Meier,
   * "Nonparametric estimation from incomplete observations", JASA 53(282), 1958). At a time {@code
   * s} where {@code c_s} subjects are censored, {@code G} drops by the factor {@code 1 - c_s /
   * r_s}, where {@code r_s} counts the subjects with {@code time > s} plus those censored at {@code
   * s}: subjects whose event was at {@code s} are no longer at risk of being censored at {@code s},
   * because events happen before censorings (scikit-survival's {@code kaplan_meier_estimator(...,
   * reverse=True)}; R's {@code survfit(Surv(time, 1 - status) ~ 1)} instead keeps them in {@code
   * r_s}).
   *
   * @param times the distinct censoring times, ascending
   * @param survival {@code G(times[k])}, the value from {@code times[k]} on (right-continuous)
   */
  public record CensoringSurvival(double[] times, double[] survival) {
    public CensoringSurvival {
      if (times.length != survival.length) {
        throw new IllegalArgumentException(
            "Censoring survival: " + times.length + " times for " + survival.length + " values");
      }
      times = times.clone();
      survival = survival.clone();
    }

    @Override
    public double[] times() {
      return times.clone();
    }

    @Override
    public double[] survival() {
      return survival.clone();
    }

    /** Estimates {@code G} from the subjects' times and event indicators. */
    public static CensoringSurvival of(double[] time, boolean[] event) {
      int n = checkSubjects("censoring survival", time, event);
      Integer[] order = byTime(time);
      double[] t = new double[n];
      double[] g = new double[n];
      int drops = 0;
      double value = 1;
      int start = 0;
      while (start < n) {
        int end = start + 1;
        while (end < n && time[order[end]] == time[order[start]]) {
          end++;
        }
        int censored = 0;
        for (int k = start; k < end; k++) {
          if (!event[order[k]]) {
            censored++;
          }
        }
        if (censored > 0) {
          int atRisk =
              (n - end) + censored; // later subjects plus those censored now; events now went first
          value *= 1 - (double) censored / atRisk;
          t[drops] = time[order[start]];
          g[drops] = value;
          drops++;
        }
        start = end;
      }
      return new CensoringSurvival(Arrays.copyOf(t, drops), Arrays.copyOf(g, drops));
    }

    /** {@code G(t) = P(C > t)}: the product over censoring times {@code s <= t}. */
    public double at(double t) {
      int k = lastIndex(t, true);
      return k < 0 ? 1 : survival[k];
    }

    /** The left limit {@code G(t-) = P(C >= t)}: the product over censoring times {@code s < t}. */
    public double before(double t) {
      int k = lastIndex(t, false);
      return k < 0 ? 1 : survival[k];
    }

    /** Index of the last censoring time {@code <= t} (or {@code < t}), -1 if none. */
    private int lastIndex(double t, boolean inclusive) {
      int k = Arrays.binarySearch(times, t);
      if (k >= 0) {
        return inclusive ? k : k - 1; // times are distinct
      }
      return -k - 2; // -(insertion point) - 1 encoded; the last time below t sits just before the
      // insertion point
    }
  }

  /**
   * Time-dependent AUROC at {@code horizon}, cumulative cases against dynamic controls, with
   * inverse probability of censoring weights: H. Uno, T. Cai, L. Tian and L. J. Wei, "Evaluating
   * prediction rules for t-year survivors with censored regression models", JASA 102(478), 2007; H.
   * Hung and C.-T. Chiang, "Estimation methods for time-dependent AUC models with survival data",
   * Canadian Journal of Statistics 38(1), 2010.
   *
   * <p>Cases: {@code time_i <= horizon} with an event, weight {@code 1 / G(time_i-)}; controls:
   * {@code time_j > horizon}, weight {@code 1 / G(horizon)}; subjects censored at or before the
   * horizon are neither. The AUROC is {@code sum_ij w_i w_j psi(risk_i, risk_j) / (sum_i w_i *
   * sum_j w_j)} with {@code psi} 1 when {@code risk_i > risk_j}, 1/2 when equal, 0 otherwise. All
   * controls share one weight, which therefore cancels. {@code G} is {@link CensoringSurvival#of}
   * of the same subjects. O(n log n) (controls sorted, one binary search per case).
   *
   * @return the AUROC, NaN when there are no cases or no controls
   */
  public static double timeDependentAuroc(
      double[] time, boolean[] event, double[] risk, double horizon) {
    int n = checkSubjects("time-dependent AUROC", time, event);
    checkScores("time-dependent AUROC", "risk", risk, n);
    checkHorizon("time-dependent AUROC", horizon);
    CensoringSurvival g = CensoringSurvival.of(time, event);
    int controls = 0;
    for (double t : time) {
      if (t > horizon) {
        controls++;
      }
    }
    double[] controlRisk = new double[controls];
    for (int i = 0, j = 0; i < n; i++) {
      if (time[i] > horizon) {
        controlRisk[j++] = risk[i];
      }
    }
    Arrays.sort(controlRisk);
    double weightedWins = 0;
    double caseWeight = 0;
    for (int i = 0; i < n; i++) {
      if (event[i] && time[i] <= horizon) {
        double w = 1 / g.before(time[i]); // > 0: subject i itself is uncensored before time_i
        int below = IntervalConcordance.firstAtLeast(controlRisk, risk[i]);
        int atOrBelow = IntervalConcordance.firstAbove(controlRisk, risk[i]);
        // Per case the fraction of controls beaten, so a case beating all adds exactly w and a
        // perfect score gives 1.
        weightedWins += w * ((below + 0.5 * (atOrBelow - below)) / controls);
        caseWeight += w;
      }
    }
    if (caseWeight == 0 || controls == 0) {
      return Double.NaN;
    }
    return weightedWins / caseWeight;
  }

  /**
   * Brier score at {@code horizon} with inverse probability of censoring weights: E. Graf, C.
   * Schmoor, W. Sauerbrei and M. Schumacher, "Assessment and comparison of prognostic
   * classification schemes for survival data", Statistics in Medicine 18(17–18), 1999, equation
   * (6).
   *
   * <p>The mean over all n subjects of: {@code S_i(horizon)^2 / G(time_i)} when {@code time_i <=
   * horizon} with an event; {@code (1 - S_i(horizon))^2 / G(horizon)} when {@code time_i >
   * horizon}; 0 when censored at or before the horizon. {@code G(time_i)} is Graf's choice; it
   * differs from the left limit {@code G(time_i-)} (Gerds and Schumacher 2006) only when a
   * censoring shares subject i's event time. {@code G} is {@link CensoringSurvival#of} of the same
   * subjects.
   *
   * @param survival {@code S_i(horizon)}, one per subject, in [0, 1]
   * @throws IllegalArgumentException when a needed weight is infinite: {@code G(time_i) = 0}, which
   *     happens only when the latest time holds both an event and a censoring
   */
  public static double brierScore(
      double[] time, boolean[] event, double[] survival, double horizon) {
    int n = checkSubjects("Brier score", time, event);
    checkScores("Brier score", "survival probability", survival, n);
    for (double s : survival) {
      if (s < 0 || s > 1) {
        throw new IllegalArgumentException(
            "Cannot compute Brier score: a survival probability is outside [0, 1]");
      }
    }
    checkHorizon("Brier score", horizon);
    return brier(time, event, survival, horizon, CensoringSurvival.of(time, event));
  }

  private static double brier(
      double[] time, boolean[] event, double[] survival, double horizon, CensoringSurvival g) {
    double sum = 0;
    for (int i = 0; i < time.length; i++) {
      double weight;
      double residual;
      if (time[i] <= horizon && event[i]) {
        weight = g.at(time[i]);
        residual = survival[i];
      } else if (time[i] > horizon) {
        weight = g.at(horizon);
        residual = 1 - survival[i];
      } else {
        continue;
      }
      if (weight == 0) {
        throw new IllegalArgumentException(
            "Cannot compute Brier score: the censoring survival is 0 where a weight "
                + "needs it (an event and a censoring share the latest time)");
      }
      sum += residual * residual / weight;
    }
    return sum / time.length;
  }

  /**
   * Integrated Brier score (Graf et al. 1999, section 3): {@link #brierScore} at each time of
   * {@code grid}, integrated by the trapezoid rule and divided by the span {@code grid[last] -
   * grid[0]}, so it is the mean Brier score over that interval (not over {@code [0, max time]}).
   *
   * @param survival {@code survival[i][k] = S_i(grid[k])}, one row per subject
   * @param grid evaluation times, strictly increasing, at least two
   */
  public static double integratedBrierScore(
      double[] time, boolean[] event, double[][] survival, double[] grid) {
    int n = checkSubjects("integrated Brier score", time, event);
    if (survival.length != n) {
      throw new IllegalArgumentException(
          "Cannot compute integrated Brier score: "
              + survival.length
              + " survival rows for "
              + n
              + " subjects");
    }
    if (grid.length < 2) {
      throw new IllegalArgumentException(
          "Cannot compute integrated Brier score: need at least two grid times, have "
              + grid.length);
    }
    for (int k = 0; k < grid.length; k++) {
      checkHorizon("integrated Brier score", grid[k]);
      if (k > 0 && !(grid[k] > grid[k - 1])) {
        throw new IllegalArgumentException(
            "Cannot compute integrated Brier score: grid times must strictly increase");
      }
    }
    for (double[] row : survival) {
      if (row.length != grid.length) {
        throw new IllegalArgumentException(
            "Cannot compute integrated Brier score: a survival row has "
                + row.length
                + " values for "
                + grid.length
                + " grid times");
      }
    }
    double[] brier = new double[grid.length];
    double[] column = new double[n];
    for (int k = 0; k < grid.length; k++) {
      for (int i = 0; i < n; i++) {
        column[i] = survival[i][k];
      }
      brier[k] = brierScore(time, event, column, grid[k]);
    }
    double area = 0;
    for (int k = 1; k < grid.length; k++) {
      area += (grid[k] - grid[k - 1]) * (brier[k] + brier[k - 1]) / 2;
    }
    return area / (grid[grid.length - 1] - grid[0]);
  }

  /**
   * A percentile bootstrap interval (B. Efron and R. J. Tibshirani, "An Introduction to the
   * Bootstrap", Chapman & Hall 1993, chapter 13).
   *
   * @param estimate the statistic on all subjects
   * @param lower the {@code (1 - confidence) / 2} quantile of the replicates
   * @param upper the {@code (1 + confidence) / 2} quantile of the replicates
   * @param confidence the interval's confidence level
   * @param replicates replicates drawn
   * @param undefined replicates left out because the statistic was NaN there (no comparable pair)
   */
  public record BootstrapInterval(
      double estimate,
      double lower,
      double upper,
      double confidence,
      int replicates,
      int undefined) {
    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "%.4f [%.4f, %.4f] (%.0f%%, %d replicates, %d undefined)",
          estimate,
          lower,
          upper,
          100 * confidence,
          replicates,
          undefined);
    }
  }

  /**
   * Nonparametric bootstrap of {@link #harrellC} over subjects: DeLong's variance is for the
   * two-sample AUROC and does not cover censored pairs. Replicate b draws n subject indices with
   * replacement as {@code rnd.nextInt(n)}, in order, from one {@code new SplittableRandom(seed)}
   * shared by all replicates, and computes the C-index of those subjects (a subject drawn twice is
   * two subjects). Quantiles interpolate linearly between order statistics (Hyndman and Fan 1996,
   * type 7, R's default). Replicates without a comparable pair are left out and counted.
   *
   * @param replicates number of bootstrap replicates B, at least 1
   * @param confidence the interval's confidence level, in (0, 1)
   * @return the interval; its bounds are NaN when every replicate was undefined
   */
  public static BootstrapInterval bootstrapHarrellC(
      double[] time, boolean[] event, double[] risk, int replicates, double confidence, long seed) {
    int n = checkSubjects("bootstrap concordance", time, event);
    checkScores("bootstrap concordance", "risk", risk, n);
    if (replicates < 1) {
      throw new IllegalArgumentException(
          "Cannot bootstrap concordance: " + replicates + " replicates");
    }
    if (!(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException(
          "Cannot bootstrap concordance: confidence must be in (0, 1), got "
              + String.format(Locale.ROOT, "%s", confidence));
    }
    double estimate = harrellC(time, event, risk).cIndex();
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] values = new double[replicates];
    int defined = 0;
    double[] t = new double[n];
    boolean[] e = new boolean[n];
    double[] r = new double[n];
    for (int b = 0; b < replicates; b++) {
      for (int k = 0; k < n; k++) {
        int i = rnd.nextInt(n);
        t[k] = time[i];
        e[k] = event[i];
        r[k] = risk[i];
      }
      double c = harrellC(t, e, r).cIndex();
      if (!Double.isNaN(c)) {
        values[defined++] = c;
      }
    }
    double[] sorted = Arrays.copyOf(values, defined);
    Arrays.sort(sorted);
    double lower = quantile(sorted, (1 - confidence) / 2);
    double upper = quantile(sorted, (1 + confidence) / 2);
    return new BootstrapInterval(
        estimate, lower, upper, confidence, replicates, replicates - defined);
  }

  /** Hyndman–Fan type 7 quantile of ascending {@code sorted}; NaN when empty. */
  static double quantile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    double h = (sorted.length - 1) * p;
    int lo = (int) Math.floor(h);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  }

  private static int checkSubjects(String what, double[] time, boolean[] event) {
    if (time.length != event.length) {
      throw new IllegalArgumentException(
          "Cannot compute "
              + what
              + ": "
              + time.length
              + " times for "
              + event.length
              + " event indicators");
    }
    if (time.length == 0) {
      throw new IllegalArgumentException("Cannot compute " + what + ": no subjects");
    }
    for (double t : time) {
      if (!(t > 0) || Double.isInfinite(t)) {
        throw new IllegalArgumentException(
            "Cannot compute " + what + ": times must be finite and > 0");
      }
    }
    return time.length;
  }

  private static void checkScores(String what, String name, double[] scores, int n) {
    if (scores.length != n) {
      throw new IllegalArgumentException(
          "Cannot compute "
              + what
              + ": "
              + scores.length
              + " "
              + name
              + " values for "
              + n
              + " subjects");
    }
    for (double s : scores) {
      if (!Double.isFinite(s)) {
        throw new IllegalArgumentException(
            "Cannot compute " + what + ": every " + name + " must be finite");
      }
    }
  }

  private static void checkHorizon(String what, double horizon) {
    if (!(horizon > 0) || Double.isInfinite(horizon)) {
      throw new IllegalArgumentException(
          "Cannot compute " + what + ": evaluation times must be finite and > 0");
    }
  }

  /** Subject indices sorted by ascending time. */
  private static Integer[] byTime(double[] time) {
    Integer[] order = new Integer[time.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (p, q) -> Double.compare(time[p], time[q]));
    return order;
  }

  /**
   * 1-based ranks of the distinct values: equal values share a rank, the smallest value has rank 1.
   */
  private static int[] denseRanks(double[] v) {
    // + 0.0 turns -0.0 into 0.0: the boxed distinct() and binarySearch would otherwise rank them
    // apart, though equal.
    double[] distinct = Arrays.stream(v).map(x -> x + 0.0).sorted().distinct().toArray();
    int[] rank = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      rank[i] = Arrays.binarySearch(distinct, v[i] + 0.0) + 1;
    }
    return rank;
  }

  /** Fenwick tree: one more subject at rank {@code r}. */
  private static void add(long[] tree, int r) {
    for (; r < tree.length; r += r & -r) {
      tree[r]++;
    }
  }

  /** Fenwick tree: subjects at ranks 1 to {@code r}. */
  private static long prefix(long[] tree, int r) {
    long s = 0;
    for (; r > 0; r -= r & -r) {
      s += tree[r];
    }
    return s;
  }
}
