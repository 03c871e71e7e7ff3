package org.cohortfusion.cohort.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The observable-optimal probability against cases derived by hand, or reduced by hand to a
 * one-dimensional integral that the test evaluates by its own composite Simpson rule (not the
 * grid-and-convolution code under test). Tolerances are the integration accuracy the class promises
 * for a probability, 1e-4.
 */
class ObservablePosteriorTest {
  private static final double TOL = 1e-4;

  private static GenerateOptions options(double intercept, double[] effects, double interaction) {
    return GenerateOptions.defaults()
        .withIntercept(intercept)
        .withEffects(effects)
        .withInteraction(interaction);
  }

  private static double sigmoid(double x) {
    return 1.0 / (1.0 + Math.exp(-x));
  }

  private static double normalPdf(double x) {
    return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  }

  /** Composite Simpson over [-12, 12] with 4800 intervals. */
  private static double integrate(DoubleUnaryOperator f) {
    int n = 4800;
    double a = -12.0, h = 24.0 / n;
    double s = f.applyAsDouble(a) + f.applyAsDouble(a + n * h);
    for (int i = 1; i < n; i++) {
      s += (i % 2 == 1 ? 4 : 2) * f.applyAsDouble(a + i * h);
    }
    return s * h / 3.0;
  }

  private static ObservablePosterior.Evidence all() {
    ObservablePosterior.Evidence e = new ObservablePosterior.Evidence();
    for (Modality m : Modality.values()) {
      e.present(m);
    }
    return e;
  }

  @Test
  void withoutEffectsTheProbabilityIsTheSigmoidOfTheIntercept() {
    GenerateOptions o = options(0.7, new double[5], 0.0);
    assertEquals(
        sigmoid(0.7), ObservablePosterior.probability(o, all().gaussian(0, 2.0, 0.6, 0.8)), 1e-9);
  }

  @Test
  void labelDependentAbsenceShiftsTheOddsByTheRatioOfAbsenceRates() {
    // MNAR_LABEL at rate 0.5: positives lack omics with 0.4 * 0.5 = 0.2, negatives with 1.6 * 0.5 =
    // 0.8.
    GenerateOptions o =
        options(0.0, new double[5], 0.0)
            .withMissingness(
                Modality.OMICS, new Missingness(0.5, Missingness.Mechanism.MNAR_LABEL));
    ObservablePosterior.Evidence without =
        new ObservablePosterior.Evidence().present(Modality.CLINICAL).present(Modality.IMAGING);
    // prior 1/2: posterior odds = (0.2 / 0.8) -> 0.2; with omics (0.8 / 0.2) -> 0.8
    assertEquals(0.2, ObservablePosterior.probability(o, without), 1e-9);
    assertEquals(0.8, ObservablePosterior.probability(o, all()), 1e-9);
  }

  @Test
  void clinicalAloneSaysNothingThroughClinicalsOwnPresence() {
    // Clinical MNAR_LABEL: a clinical-only subject may be one whose clinical coin said "absent"
    // (then
    // kept), so only the other modalities' absence counts. Notes MNAR_LABEL at 0.5 gives 0.2 / 0.8.
    GenerateOptions o =
        options(0.0, new double[5], 0.0)
            .withMissingness(
                Modality.CLINICAL, new Missingness(0.5, Missingness.Mechanism.MNAR_LABEL))
            .withMissingness(
                Modality.NOTES, new Missingness(0.5, Missingness.Mechanism.MNAR_LABEL));
    ObservablePosterior.Evidence clinicalOnly =
        new ObservablePosterior.Evidence().present(Modality.CLINICAL);
    assertEquals(0.2, ObservablePosterior.probability(o, clinicalOnly), 1e-9);
    // With omics present too, clinical's presence counts: odds (0.8 / 0.2) * (0.2 / 0.8) = 1.
    assertEquals(
        0.5, ObservablePosterior.probability(o, clinicalOnly.present(Modality.OMICS)), 1e-9);
  }

  @Test
  void aGaussianObservationGivesTheConjugatePosteriorThenTheLogisticNormalIntegral() {
    // age standardised y = 1.2 = 0.6 z1 + 0.8 e: precision 1 + 0.36 / 0.64, mean (0.6 * 1.2 / 0.64)
    // / precision.
    double precision = 1.0 + 0.36 / 0.64;
    double mean = 0.6 * 1.2 / 0.64 / precision;
    double sd = 1.0 / Math.sqrt(precision);
    double b0 = -0.3, a1 = 1.5;
    double expected = integrate(x -> sigmoid(b0 + a1 * (mean + sd * x)) * normalPdf(x));
    GenerateOptions o = options(b0, new double[] {a1, 0, 0, 0, 0}, 0.0);
    assertEquals(
        expected, ObservablePosterior.probability(o, all().gaussian(0, 1.2, 0.6, 0.8)), TOL);
  }

  @Test
  void absentLatentsAreMarginalisedOverTheirPrior() {
    // z2 unobserved: E[sigmoid(b0 + a2 z2)] over N(0, 1).
    double b0 = 0.4, a2 = 2.0;
    double expected = integrate(x -> sigmoid(b0 + a2 * x) * normalPdf(x));
    GenerateOptions o = options(b0, new double[] {0, a2, 0, 0, 0}, 0.0);
    assertEquals(
        expected,
        ObservablePosterior.probability(
            o, new ObservablePosterior.Evidence().present(Modality.CLINICAL)),
        TOL);
  }

  @Test
  void theInteractionOfTwoSymmetricPosteriorsAveragesToOneHalf() {
    // b0 = 0, only c z3 z4: z3 -> -z3 maps the logit to its negative, so E[sigmoid] = 1/2 exactly.
    GenerateOptions o = options(0.0, new double[5], 1.0);
    assertEquals(0.5, ObservablePosterior.probability(o, all()), TOL);
    // And with z3 known exactly (huge precision) at 1.0, the logit is z4 ~ posterior: E = integral.
    ObservablePosterior.Evidence e =
        all().gaussian(2, 1.0 * 1000.0, 1000.0, 1.0); // z3 = 1 with sd 1e-3
    double expected = integrate(x -> sigmoid(x) * normalPdf(x));
    assertEquals(expected, ObservablePosterior.probability(o, e), TOL);
  }

  @Test
  void noteWordCountsGiveABernoulliLikelihoodInTheSigmoidOfTheLatent() {
    int risk = 7, reassuring = 2;
    double a5 = 1.0, b0 = -0.5;
    DoubleUnaryOperator lik =
        z ->
            Math.pow(sigmoid(1.5 * z), risk)
                * Math.pow(1.0 - sigmoid(1.5 * z), reassuring)
                * normalPdf(z);
    double expected = integrate(z -> sigmoid(b0 + a5 * z) * lik.applyAsDouble(z)) / integrate(lik);
    ObservablePosterior.Evidence e = all();
    e.riskWords = risk;
    e.reassuringWords = reassuring;
    assertEquals(
        expected,
        ObservablePosterior.probability(options(b0, new double[] {0, 0, 0, 0, a5}, 0.0), e),
        TOL);
  }

  @Test
  void featureDependentAbsenceTiltsTheLatentTowardsLowValues() {
    // MNAR_FEATURE at rate 0.5: absent with min(1, 2 * 0.5 * sigmoid(-2 z)) = sigmoid(-2 z).
    GenerateOptions o =
        options(0.0, new double[] {0, 0, 0, 1.0, 0}, 0.0)
            .withMissingness(
                Modality.LABS, new Missingness(0.5, Missingness.Mechanism.MNAR_FEATURE));
    DoubleUnaryOperator absent = z -> sigmoid(-2 * z) * normalPdf(z);
    double expectedAbsent =
        integrate(z -> sigmoid(z) * absent.applyAsDouble(z)) / integrate(absent);
    ObservablePosterior.Evidence e = new ObservablePosterior.Evidence().present(Modality.CLINICAL);
    assertEquals(expectedAbsent, ObservablePosterior.probability(o, e), TOL);
    DoubleUnaryOperator present = z -> (1 - sigmoid(-2 * z)) * normalPdf(z);
    double expectedPresent =
        integrate(z -> sigmoid(z) * present.applyAsDouble(z)) / integrate(present);
    assertEquals(
        expectedPresent, ObservablePosterior.probability(o, e.present(Modality.LABS)), TOL);
  }

  @Test
  void aPatternTheModelCannotProduceIsConditionedOnTheRowsAlone() {
    // Rate 0: nobody lacks omics or labs, yet a planted NO_MODALITY target has no modality at all.
    // Without the
    // impossible presence factors only the prior remains: sigmoid(0.7) for a logit without effects.
    GenerateOptions o =
        options(0.7, new double[5], 0.0)
            .withMissingness(Modality.OMICS, new Missingness(0.0, Missingness.Mechanism.MNAR_LABEL))
            .withMissingness(
                Modality.LABS, new Missingness(0.0, Missingness.Mechanism.MNAR_FEATURE));
    assertEquals(
        sigmoid(0.7), ObservablePosterior.probability(o, new ObservablePosterior.Evidence()), 1e-9);
  }

  @Test
  void theSmokerCategoryIsAProbitLikelihood() {
    // Oracle: the category probabilities of 0.8 z + e cut at -0.2 and 0.8 sum to one for every z,
    // and "current" at z = 1 is P(e > 0) = 1/2.
    for (double z = -3; z <= 3; z += 0.5) {
      double sum =
          ObservablePosterior.smokerLikelihood(0, z)
              + ObservablePosterior.smokerLikelihood(1, z)
              + ObservablePosterior.smokerLikelihood(2, z);
      assertEquals(1.0, sum, 1e-12);
    }
    assertEquals(0.5, ObservablePosterior.smokerLikelihood(2, 1.0), 1e-12);
  }
}
