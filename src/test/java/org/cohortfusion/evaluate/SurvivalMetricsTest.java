package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.cohortfusion.evaluate.SurvivalMetrics.BootstrapInterval;
import org.cohortfusion.evaluate.SurvivalMetrics.CensoringSurvival;
import org.cohortfusion.evaluate.SurvivalMetrics.Concordance;
import org.junit.jupiter.api.Test;

class SurvivalMetricsTest {
  private static final double EPS = 1e-12;

  /*
   * The hand-worked cohort used by several tests (E = event, C = censored):
   *
   *   subject  time  status  risk   S(2.5), S(3)
   *   A        1     E       0.90   0.2
   *   B        2     C       0.95   0.6
   *   C        3     E       0.70   0.5
   *   D        3     C       0.70   0.7
   *   E        4     E       0.80   0.9
   *   F        4     E       0.40   0.4
   *
   * It has a censoring tied with an event (C, D at 3), tied events (E, F at 4) and tied risks (C, D).
   */
  private static final double[] TIME = {1, 2, 3, 3, 4, 4};
  private static final boolean[] EVENT = {true, false, true, false, true, true};
  private static final double[] RISK = {0.90, 0.95, 0.70, 0.70, 0.80, 0.40};
  private static final double[] SURV = {0.2, 0.6, 0.5, 0.7, 0.9, 0.4};

  @Test
  void harrellOnTheHandWorkedCohort() {
    // Comparable pairs (earlier subject had the event, and the other is known to outlive it):
    //   A-B 0.90 < 0.95 discordant   (B censored at 2 > 1: still known to outlive A)
    //   A-C 0.90 > 0.70 concordant
    //   A-D 0.90 > 0.70 concordant
    //   A-E 0.90 > 0.80 concordant
    //   A-F 0.90 > 0.40 concordant
    //   C-D 0.70 = 0.70 tied risk    (same time 3, D censored: events before censorings)
    //   C-E 0.70 < 0.80 discordant
    //   C-F 0.70 > 0.40 concordant
    // Not comparable: B with anyone later (B censored first), D with E/F (D censored first), E-F
    // (both events at 4).
    // 5 concordant, 2 discordant, 1 tied, 8 comparable: C = (5 + 0.5) / 8 = 0.6875.
    Concordance c = SurvivalMetrics.harrellC(TIME, EVENT, RISK);
    assertEquals(5, c.concordant());
    assertEquals(2, c.discordant());
    assertEquals(1, c.tiedRisk());
    assertEquals(8, c.comparable());
    assertEquals(0.6875, c.cIndex(), EPS);
  }

  @Test
  void censoringKaplanMeierOnTheHandWorkedCohort() {
    // Censorings at 2 (B) and 3 (D).
    //   s = 2: at risk of censoring = subjects with time > 2 (C, D, E, F) + censored at 2 (B) = 5;
    // G = 1 - 1/5 = 4/5.
    //   s = 3: at risk = time > 3 (E, F) + censored at 3 (D) = 3; C's event at 3 came first, so C
    // is not at risk.
    //          G = 4/5 * (1 - 1/3) = 8/15. (R's survfit(Surv(time, 1 - status)) would keep C: 4/5 *
    // 3/4 = 3/5.)
    CensoringSurvival g = CensoringSurvival.of(TIME, EVENT);
    assertArrayEquals(new double[] {2, 3}, g.times(), 0);
    assertArrayEquals(new double[] {4.0 / 5, 8.0 / 15}, g.survival(), EPS);
    assertEquals(1, g.at(0.5), 0);
    assertEquals(1, g.at(1.99), 0);
    assertEquals(4.0 / 5, g.at(2), EPS); // right-continuous: the drop at 2 is in G(2)
    assertEquals(1, g.before(2), 0); // ... but not in the left limit G(2-)
    assertEquals(4.0 / 5, g.at(2.5), EPS);
    assertEquals(4.0 / 5, g.before(3), EPS);
    assertEquals(8.0 / 15, g.at(3), EPS);
    assertEquals(8.0 / 15, g.at(100), EPS);
    assertEquals(8.0 / 15, g.before(100), EPS);
  }

  @Test
  void censoringKaplanMeierOfUnsortedInputWithSeveralCensoredAtOneTime() {
    // Times 5C 1E 5C 3C 7E 5E 3E 9C, in no order. Sorted: 1E, 3E 3C, 5E 5C 5C, 7E, 9C.
    //   s = 3: at risk = time > 3 (5E 5C 5C 7E 9C = 5) + censored at 3 (1) = 6; G = 5/6.
    //   s = 5: at risk = time > 5 (7E 9C = 2) + censored at 5 (2) = 4; G = 5/6 * (1 - 2/4) = 5/12.
    //   s = 9: at risk = 0 + 1 = 1; G = 0.
    double[] time = {5, 1, 5, 3, 7, 5, 3, 9};
    boolean[] event = {false, true, false, false, true, true, true, false};
    CensoringSurvival g = CensoringSurvival.of(time, event);
    assertArrayEquals(new double[] {3, 5, 9}, g.times(), 0);
    assertArrayEquals(new double[] {5.0 / 6, 5.0 / 12, 0}, g.survival(), EPS);
  }

  @Test
  void withoutCensoringTheCensoringSurvivalIsOne() {
    CensoringSurvival g =
        CensoringSurvival.of(new double[] {3, 1, 2, 2}, new boolean[] {true, true, true, true});
    assertEquals(0, g.times().length);
    assertEquals(1, g.at(10), 0);
    assertEquals(1, g.before(2), 0);
  }

  @Test
  void timeDependentAurocOnTheHandWorkedCohort() {
    // Horizon 3. G(1-) = 1, G(3-) = 4/5 (see the Kaplan–Meier test).
    //   cases (event, time <= 3): A (risk 0.90, weight 1/G(1-) = 1), C (0.70, weight 1/G(3-) = 5/4)
    //   controls (time > 3): E (0.80), F (0.40); one shared weight 1/G(3), which cancels
    //   A beats E and F: 2 of 2. C beats F, loses to E: 1 of 2.
    //   AUROC = (1 * 2 + 5/4 * 1) / ((1 + 5/4) * 2) = 3.25 / 4.5 = 13/18.
    // (Unweighted it would be 3/4; with G(3) = 8/15 in place of G(3-) it would be 3.875 / 5.75.)
    assertEquals(13.0 / 18, SurvivalMetrics.timeDependentAuroc(TIME, EVENT, RISK, 3), EPS);
    // Horizon 1: case A only (weight 1); controls B C D E F. A (0.90) beats C, D, E, F, loses to B
    // (0.95): 4/5.
    assertEquals(0.8, SurvivalMetrics.timeDependentAuroc(TIME, EVENT, RISK, 1), EPS);
    // A tie between case and control risk counts one half. Horizon 3 with F's risk set to C's 0.70:
    //   A beats E, F: 2. C loses to E, ties F: 0.5. AUROC = (2 + 5/4 * 0.5) / (9/4 * 2) = 2.625 /
    // 4.5.
    double[] tiedRisk = RISK.clone();
    tiedRisk[5] = 0.70;
    assertEquals(2.625 / 4.5, SurvivalMetrics.timeDependentAuroc(TIME, EVENT, tiedRisk, 3), EPS);
  }

  @Test
  void timeDependentAurocIsNaNWithoutCasesOrControls() {
    // Before the first time nobody is a case; at the last time nobody is a control.
    assertTrue(Double.isNaN(SurvivalMetrics.timeDependentAuroc(TIME, EVENT, RISK, 0.5)));
    assertTrue(Double.isNaN(SurvivalMetrics.timeDependentAuroc(TIME, EVENT, RISK, 4)));
    // Only censorings up to the horizon: controls but no cases.
    assertTrue(
        Double.isNaN(
            SurvivalMetrics.timeDependentAuroc(
                new double[] {1, 2, 5},
                new boolean[] {false, false, true},
                new double[] {1, 2, 3},
                3)));
  }

  @Test
  void brierOnTheHandWorkedCohort() {
    // Horizon 3, G(1) = 1, G(3) = 8/15:
    //   A event at 1 <= 3:   (0 - 0.2)^2 / G(1) = 0.04
    //   B censored at 2:     0
    //   C event at 3 <= 3:   (0 - 0.5)^2 / G(3) = 0.25 * 15/8 = 0.46875
    //   D censored at 3:     0 (not after the horizon)
    //   E time 4 > 3:        (1 - 0.9)^2 / G(3) = 0.01 * 15/8 = 0.01875
    //   F time 4 > 3:        (1 - 0.4)^2 / G(3) = 0.36 * 15/8 = 0.675
    //   mean over 6 = 1.2025 / 6
    assertEquals(1.2025 / 6, SurvivalMetrics.brierScore(TIME, EVENT, SURV, 3), EPS);
    // Horizon 2.5, G(2.5) = 4/5:
    //   A 0.04; B 0; C (1 - 0.5)^2 / 0.8 = 0.3125; D (1 - 0.7)^2 / 0.8 = 0.1125; E 0.01 / 0.8 =
    // 0.0125;
    //   F 0.36 / 0.8 = 0.45; mean = 0.9275 / 6
    assertEquals(0.9275 / 6, SurvivalMetrics.brierScore(TIME, EVENT, SURV, 2.5), EPS);
  }

  @Test
  void integratedBrierOnHandWorkedCases() {
    // Censored cohort, grid {2.5, 3}, the same S at both times: the trapezoid over one interval
    // divided by its
    // length is the mean of the two end points: (0.9275 / 6 + 1.2025 / 6) / 2 = 1.065 / 6.
    double[][] rows = new double[SURV.length][];
    for (int i = 0; i < SURV.length; i++) {
      rows[i] = new double[] {SURV[i], SURV[i]};
    }
    assertEquals(
        1.065 / 6,
        SurvivalMetrics.integratedBrierScore(TIME, EVENT, rows, new double[] {2.5, 3}),
        EPS);
    // Uncensored events at 1, 2, 3; S = 1 everywhere; unequal grid {0.5, 1.5, 3.5}:
    //   BS(0.5) = 0 (all alive, predicted alive); BS(1.5) = 1/3 (subject 1 dead); BS(3.5) = 1 (all
    // dead).
    //   area = 1 * (0 + 1/3) / 2 + 2 * (1/3 + 1) / 2 = 1/6 + 4/3 = 3/2; span 3; IBS = 1/2.
    double[][] ones = {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}};
    assertEquals(
        0.5,
        SurvivalMetrics.integratedBrierScore(
            new double[] {1, 2, 3},
            new boolean[] {true, true, true},
            ones,
            new double[] {0.5, 1.5, 3.5}),
        EPS);
  }

  @Test
  void brierRefusesAnInfiniteWeight() {
    // Event and censoring share the last time 2: G(2) = 1 - 1/1 = 0, and Graf's weight of the event
    // at 2 is 1/G(2).
    double[] time = {1, 2, 2};
    boolean[] event = {true, true, false};
    assertThrows(
        IllegalArgumentException.class,
        () -> SurvivalMetrics.brierScore(time, event, new double[] {0.5, 0.5, 0.5}, 2));
    // Before that time no weight needs G(2): horizon 1.5 gives A (0.5^2 / G(1) = 0.25) and two
    // controls
    // ((1 - 0.5)^2 / G(1.5) = 0.25 each, G(1.5) = 1): 0.75 / 3.
    assertEquals(
        0.75 / 3, SurvivalMetrics.brierScore(time, event, new double[] {0.5, 0.5, 0.5}, 1.5), EPS);
  }

  // ---- brute-force oracles, written from the definitions without the production code's sorting or
  // trees ----

  /**
   * Harrell's pairs straight from the definition, O(n^2): {concordant, discordant, tied,
   * comparable}.
   */
  private static long[] harrellByPairs(double[] time, boolean[] event, double[] risk) {
    long[] counts = new long[4];
    for (int i = 0; i < time.length; i++) {
      for (int j = 0; j < time.length; j++) {
        boolean iFirst = event[i] && (time[i] < time[j] || (time[i] == time[j] && !event[j]));
        if (i == j || !iFirst) {
          continue;
        }
        if (risk[i] > risk[j]) {
          counts[0]++;
        } else if (risk[i] < risk[j]) {
          counts[1]++;
        } else {
          counts[2]++;
        }
        counts[3]++;
      }
    }
    return counts;
  }

  private static double cFromCounts(long[] counts) {
    return counts[3] == 0 ? Double.NaN : (counts[0] + 0.5 * counts[2]) / counts[3];
  }

  /**
   * Reverse Kaplan–Meier by its product, recomputed for each t: {@code inclusive} gives G(t), else
   * G(t-).
   */
  private static double censoringSurvival(
      double[] time, boolean[] event, double t, boolean inclusive) {
    double g = 1;
    double[] censorTimes = new double[time.length];
    int m = 0;
    for (int i = 0; i < time.length; i++) {
      if (!event[i]) {
        censorTimes[m++] = time[i];
      }
    }
    double[] distinct = Arrays.stream(censorTimes, 0, m).distinct().toArray();
    for (double s : distinct) {
      if (s > t || (s == t && !inclusive)) {
        continue;
      }
      int censoredAtS = 0;
      int later = 0;
      for (int i = 0; i < time.length; i++) {
        if (time[i] == s && !event[i]) {
          censoredAtS++;
        }
        if (time[i] > s) {
          later++;
        }
      }
      g *= 1 - (double) censoredAtS / (later + censoredAtS);
    }
    return g;
  }

  /**
   * Uno's IPCW AUROC over all case-control pairs, O(n^2), each control with its own weight 1/G(t).
   */
  private static double aurocByPairs(double[] time, boolean[] event, double[] risk, double t) {
    double num = 0;
    double caseWeights = 0;
    double controlWeights = 0;
    for (int j = 0; j < time.length; j++) {
      if (time[j] > t) {
        controlWeights += 1 / censoringSurvival(time, event, t, true);
      }
    }
    for (int i = 0; i < time.length; i++) {
      if (!(event[i] && time[i] <= t)) {
        continue;
      }
      double wi = 1 / censoringSurvival(time, event, time[i], false);
      caseWeights += wi;
      for (int j = 0; j < time.length; j++) {
        if (time[j] > t) {
          double wj = 1 / censoringSurvival(time, event, t, true);
          double psi = risk[i] > risk[j] ? 1 : risk[i] == risk[j] ? 0.5 : 0;
          num += wi * wj * psi;
        }
      }
    }
    return num / (caseWeights * controlWeights);
  }

  /** Graf's IPCW Brier score, term by term. */
  private static double brierByDefinition(double[] time, boolean[] event, double[] s, double t) {
    double sum = 0;
    for (int i = 0; i < time.length; i++) {
      if (time[i] <= t && event[i]) {
        sum += s[i] * s[i] / censoringSurvival(time, event, time[i], true);
      } else if (time[i] > t) {
        sum += (1 - s[i]) * (1 - s[i]) / censoringSurvival(time, event, t, true);
      }
    }
    return sum / time.length;
  }

  /**
   * Integer times 1..10 (many ties, of every kind), roughly a third censored, risks rounded to
   * tenths.
   */
  private record Cohort(double[] time, boolean[] event, double[] risk, double[] surv) {}

  private static Cohort randomCohort(SplittableRandom rnd, int n, double censoredFraction) {
    double[] time = new double[n];
    boolean[] event = new boolean[n];
    double[] risk = new double[n];
    double[] surv = new double[n];
    for (int i = 0; i < n; i++) {
      time[i] = 1 + rnd.nextInt(10);
      event[i] = rnd.nextDouble() >= censoredFraction;
      // Risk related to time, so C is away from 1/2, and rounded, so risks tie.
      risk[i] = Math.round((10 - time[i] + 6 * rnd.nextDouble()) / 2) / 5.0 - 1;
      surv[i] = Math.round(rnd.nextDouble() * 8) / 8.0;
    }
    return new Cohort(time, event, risk, surv);
  }

  @Test
  void harrellMatchesAllPairsOnRandomCohortsWithTies() {
    SplittableRandom rnd = new SplittableRandom(11);
    for (int trial = 0; trial < 200; trial++) {
      Cohort c = randomCohort(rnd, 1 + rnd.nextInt(80), rnd.nextDouble() * 0.6);
      long[] oracle = harrellByPairs(c.time(), c.event(), c.risk());
      Concordance got = SurvivalMetrics.harrellC(c.time(), c.event(), c.risk());
      assertEquals(oracle[0], got.concordant(), "trial " + trial);
      assertEquals(oracle[1], got.discordant(), "trial " + trial);
      assertEquals(oracle[2], got.tiedRisk(), "trial " + trial);
      assertEquals(oracle[3], got.comparable(), "trial " + trial);
      assertEquals(cFromCounts(oracle), got.cIndex(), EPS, "trial " + trial);
    }
  }

  @Test
  void censoringSurvivalMatchesItsProductOnRandomCohorts() {
    SplittableRandom rnd = new SplittableRandom(12);
    for (int trial = 0; trial < 50; trial++) {
      Cohort c = randomCohort(rnd, 1 + rnd.nextInt(60), 0.4);
      CensoringSurvival g = CensoringSurvival.of(c.time(), c.event());
      for (double t = 0.5; t <= 11; t += 0.5) {
        assertEquals(
            censoringSurvival(c.time(), c.event(), t, true),
            g.at(t),
            EPS,
            "trial " + trial + " t " + t);
        assertEquals(
            censoringSurvival(c.time(), c.event(), t, false),
            g.before(t),
            EPS,
            "trial " + trial + " t " + t);
      }
    }
  }

  @Test
  void timeDependentAurocMatchesAllPairsOnRandomCohorts() {
    SplittableRandom rnd = new SplittableRandom(13);
    for (int trial = 0; trial < 60; trial++) {
      Cohort c = randomCohort(rnd, 2 + rnd.nextInt(60), rnd.nextDouble() * 0.6);
      for (double t : new double[] {2, 4.5, 7}) {
        double oracle = aurocByPairs(c.time(), c.event(), c.risk(), t);
        double got = SurvivalMetrics.timeDependentAuroc(c.time(), c.event(), c.risk(), t);
        if (Double.isNaN(oracle)) { // 0/0: no case or no control
          assertTrue(Double.isNaN(got), "trial " + trial + " t " + t);
        } else {
          assertEquals(oracle, got, EPS, "trial " + trial + " t " + t);
        }
      }
    }
  }

  @Test
  void brierMatchesItsDefinitionOnRandomCohorts() {
    SplittableRandom rnd = new SplittableRandom(14);
    for (int trial = 0; trial < 60; trial++) {
      Cohort c = randomCohort(rnd, 1 + rnd.nextInt(60), rnd.nextDouble() * 0.6);
      // Horizons below the largest time, where G(t) > 0 (the last time may be censoring-only,
      // making G zero there).
      for (double t : new double[] {1.5, 3, 6.5}) {
        double oracle = brierByDefinition(c.time(), c.event(), c.surv(), t);
        if (Double.isInfinite(oracle) || Double.isNaN(oracle)) {
          continue; // an event shares G's zero: the production code throws, checked in
          // brierRefusesAnInfiniteWeight
        }
        assertEquals(
            oracle,
            SurvivalMetrics.brierScore(c.time(), c.event(), c.surv(), t),
            EPS,
            "trial " + trial + " t " + t);
      }
    }
  }

  // ---- properties ----

  @Test
  void aPerfectScoreGivesOne() {
    SplittableRandom rnd = new SplittableRandom(15);
    for (int trial = 0; trial < 30; trial++) {
      Cohort c = randomCohort(rnd, 5 + rnd.nextInt(60), 0.3);
      // Integer times: -2 time is strictly higher for earlier times, and the +1 for an event puts
      // it above a
      // censoring at the same time (which it must precede) but below anyone at an earlier time.
      double[] perfect = new double[c.time().length];
      for (int i = 0; i < perfect.length; i++) {
        perfect[i] = -2 * c.time()[i] + (c.event()[i] ? 1 : 0);
      }
      Concordance h = SurvivalMetrics.harrellC(c.time(), c.event(), perfect);
      if (h.comparable() > 0) {
        assertEquals(1, h.cIndex(), 0);
        assertEquals(0, h.discordant());
        assertEquals(0, h.tiedRisk());
      }
      for (double t : new double[] {3, 6}) {
        double auc = SurvivalMetrics.timeDependentAuroc(c.time(), c.event(), perfect, t);
        if (!Double.isNaN(auc)) { // NaN: no case or no control at t in this small cohort
          assertEquals(1, auc, EPS, "trial " + trial + " t " + t);
        }
      }
    }
  }

  @Test
  void reversingTheScoreGivesOneMinusC() {
    SplittableRandom rnd = new SplittableRandom(16);
    for (int trial = 0; trial < 50; trial++) {
      Cohort c = randomCohort(rnd, 2 + rnd.nextInt(60), 0.3);
      double[] reversed = Arrays.stream(c.risk()).map(r -> -r).toArray();
      Concordance forward = SurvivalMetrics.harrellC(c.time(), c.event(), c.risk());
      Concordance backward = SurvivalMetrics.harrellC(c.time(), c.event(), reversed);
      assertEquals(forward.concordant(), backward.discordant());
      assertEquals(forward.discordant(), backward.concordant());
      assertEquals(forward.tiedRisk(), backward.tiedRisk());
      if (forward.comparable() > 0) {
        assertEquals(1 - forward.cIndex(), backward.cIndex(), EPS);
      }
    }
  }

  @Test
  void withoutCensoringTimeDependentAurocIsMannWhitneyOfEventByT() {
    SplittableRandom rnd = new SplittableRandom(17);
    for (int trial = 0; trial < 50; trial++) {
      Cohort c = randomCohort(rnd, 2 + rnd.nextInt(80), 0);
      double t = 1 + rnd.nextInt(9) + 0.5 * rnd.nextInt(2);
      // Plain Mann–Whitney: positives = event by t, negatives = still event-free at t.
      double wins = 0;
      int pos = 0;
      int neg = 0;
      for (int i = 0; i < c.time().length; i++) {
        if (c.time()[i] <= t) {
          pos++;
        } else {
          neg++;
        }
      }
      for (int i = 0; i < c.time().length; i++) {
        for (int j = 0; j < c.time().length; j++) {
          if (c.time()[i] <= t && c.time()[j] > t) {
            wins += c.risk()[i] > c.risk()[j] ? 1 : c.risk()[i] == c.risk()[j] ? 0.5 : 0;
          }
        }
      }
      double got = SurvivalMetrics.timeDependentAuroc(c.time(), c.event(), c.risk(), t);
      if (pos == 0 || neg == 0) {
        assertTrue(Double.isNaN(got));
      } else {
        assertEquals(wins / ((double) pos * neg), got, EPS, "trial " + trial);
      }
    }
  }

  @Test
  void withoutCensoringBrierIsTheMeanSquaredError() {
    SplittableRandom rnd = new SplittableRandom(18);
    for (int trial = 0; trial < 50; trial++) {
      Cohort c = randomCohort(rnd, 1 + rnd.nextInt(80), 0);
      double t = 0.5 + rnd.nextInt(11);
      double sse = 0;
      for (int i = 0; i < c.time().length; i++) {
        double alive = c.time()[i] > t ? 1 : 0;
        sse += (alive - c.surv()[i]) * (alive - c.surv()[i]);
      }
      assertEquals(
          sse / c.time().length, SurvivalMetrics.brierScore(c.time(), c.event(), c.surv(), t), EPS);
    }
  }

  @Test
  void negativeZeroRiskTiesPositiveZero() {
    // Events at 1 and 2 with risks -0.0 and 0.0: one comparable pair, equal risks, so C = 1/2.
    Concordance c =
        SurvivalMetrics.harrellC(
            new double[] {1, 2}, new boolean[] {true, true}, new double[] {-0.0, 0.0});
    assertEquals(1, c.tiedRisk());
    assertEquals(0.5, c.cIndex(), 0);
  }

  @Test
  void noComparablePairGivesNaN() {
    // Both censored, or both events at one time: nothing is comparable.
    assertTrue(
        Double.isNaN(
            SurvivalMetrics.harrellC(
                    new double[] {1, 2}, new boolean[] {false, false}, new double[] {1, 2})
                .cIndex()));
    Concordance tiedEvents =
        SurvivalMetrics.harrellC(
            new double[] {3, 3}, new boolean[] {true, true}, new double[] {1, 2});
    assertEquals(0, tiedEvents.comparable());
    assertTrue(Double.isNaN(tiedEvents.cIndex()));
  }

  // ---- bootstrap ----

  /** Type 7 quantile, as R's quantile() computes it. */
  private static double type7(double[] sorted, double p) {
    double h = (sorted.length - 1) * p;
    int lo = (int) Math.floor(h);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  }

  @Test
  void bootstrapFollowsItsDocumentedResamplingWithBruteForceConcordance() {
    SplittableRandom data = new SplittableRandom(19);
    Cohort c = randomCohort(data, 40, 0.3);
    int b = 200;
    long seed = 20;
    // Replay the documented draws: one SplittableRandom(seed), n calls of nextInt(n) per replicate,
    // in order.
    SplittableRandom rnd = new SplittableRandom(seed);
    int n = c.time().length;
    double[] reps = new double[b];
    int defined = 0;
    for (int r = 0; r < b; r++) {
      double[] t = new double[n];
      boolean[] e = new boolean[n];
      double[] k = new double[n];
      for (int i = 0; i < n; i++) {
        int pick = rnd.nextInt(n);
        t[i] = c.time()[pick];
        e[i] = c.event()[pick];
        k[i] = c.risk()[pick];
      }
      double cr = cFromCounts(harrellByPairs(t, e, k));
      if (!Double.isNaN(cr)) {
        reps[defined++] = cr;
      }
    }
    double[] sorted = Arrays.copyOf(reps, defined);
    Arrays.sort(sorted);
    BootstrapInterval got =
        SurvivalMetrics.bootstrapHarrellC(c.time(), c.event(), c.risk(), b, 0.9, seed);
    assertEquals(cFromCounts(harrellByPairs(c.time(), c.event(), c.risk())), got.estimate(), EPS);
    assertEquals(type7(sorted, 0.05), got.lower(), EPS);
    assertEquals(type7(sorted, 0.95), got.upper(), EPS);
    assertEquals(b - defined, got.undefined());
    assertEquals(b, got.replicates());
    assertTrue(got.lower() <= got.estimate() && got.estimate() <= got.upper(), got.toString());
  }

  @Test
  void bootstrapCountsReplicatesWithoutComparablePairs() {
    // Two subjects, A event at 1 and B censored at 2: a replicate of {A, A} or {B, B} has no
    // comparable pair
    // (tied events, or censored only); {A, B} in either order has one, concordant, so C = 1. With
    // 400 replicates,
    // about half are undefined; the defined ones are all 1.
    BootstrapInterval got =
        SurvivalMetrics.bootstrapHarrellC(
            new double[] {1, 2}, new boolean[] {true, false}, new double[] {2, 1}, 400, 0.95, 3);
    assertTrue(got.undefined() > 120 && got.undefined() < 280, got.toString());
    assertEquals(1, got.lower(), 0);
    assertEquals(1, got.upper(), 0);
    // The same seed gives the same interval.
    assertEquals(
        got,
        SurvivalMetrics.bootstrapHarrellC(
            new double[] {1, 2}, new boolean[] {true, false}, new double[] {2, 1}, 400, 0.95, 3));
  }

  @Test
  void bootstrapIntervalNarrowsWithMoreSubjects() {
    // The percentile interval's width shrinks roughly as 1/sqrt(n): 16 times the subjects, about a
    // quarter the width.
    SplittableRandom rnd = new SplittableRandom(21);
    Cohort small = randomCohort(rnd, 100, 0.3);
    Cohort large = randomCohort(rnd, 1600, 0.3);
    BootstrapInterval s =
        SurvivalMetrics.bootstrapHarrellC(small.time(), small.event(), small.risk(), 300, 0.95, 1);
    BootstrapInterval l =
        SurvivalMetrics.bootstrapHarrellC(large.time(), large.event(), large.risk(), 300, 0.95, 1);
    double ratio = (l.upper() - l.lower()) / (s.upper() - s.lower());
    assertTrue(ratio > 0.15 && ratio < 0.4, "width ratio " + ratio);
  }

  // ---- input checks ----

  @Test
  void rejectsMalformedInput() {
    double[] t = {1, 2};
    boolean[] e = {true, false};
    assertThrows(
        IllegalArgumentException.class, () -> SurvivalMetrics.harrellC(t, new boolean[] {true}, t));
    assertThrows(
        IllegalArgumentException.class, () -> SurvivalMetrics.harrellC(t, e, new double[] {1}));
    assertThrows(
        IllegalArgumentException.class, () -> SurvivalMetrics.harrellC(new double[] {0, 1}, e, t));
    assertThrows(
        IllegalArgumentException.class,
        () -> SurvivalMetrics.harrellC(new double[] {Double.NaN, 1}, e, t));
    assertThrows(
        IllegalArgumentException.class,
        () -> SurvivalMetrics.harrellC(t, e, new double[] {Double.NaN, 1}));
    assertThrows(
        IllegalArgumentException.class,
        () -> SurvivalMetrics.harrellC(new double[0], new boolean[0], new double[0]));
    assertThrows(
        IllegalArgumentException.class, () -> SurvivalMetrics.timeDependentAuroc(t, e, t, 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> SurvivalMetrics.brierScore(t, e, new double[] {0.5, 1.5}, 1));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SurvivalMetrics.integratedBrierScore(
                t, e, new double[][] {{1, 1}, {1, 1}}, new double[] {2, 1}));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SurvivalMetrics.integratedBrierScore(
                t, e, new double[][] {{1}, {1}}, new double[] {1}));
    assertThrows(
        IllegalArgumentException.class,
        () -> SurvivalMetrics.bootstrapHarrellC(t, e, t, 0, 0.95, 1));
    assertThrows(
        IllegalArgumentException.class, () -> SurvivalMetrics.bootstrapHarrellC(t, e, t, 10, 1, 1));
  }
}
