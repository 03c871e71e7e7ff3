package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The fusion-against-classical lines, written out in full: single-split (four decimals, test) and
 * pooled (three decimals, pooled, the metric named in the choice), with and without a paired
 * interval; no line without both kinds.
 */
class FusionAgainstClassicalTest {
  private static final Optional<FusionAgainstClassical.Pick> WIDE =
      Optional.of(new FusionAgainstClassical.Pick("wide", 0.66, 0.80));
  private static final Optional<FusionAgainstClassical.Pick> DEEP =
      Optional.of(new FusionAgainstClassical.Pick("deep", 0.70, 0.74));
  private static final Optional<FusionAgainstClassical.Pick> LIN =
      Optional.of(new FusionAgainstClassical.Pick("lin", 0.61, 0.78));
  private static final Optional<FusionAgainstClassical.Pick> GBT =
      Optional.of(new FusionAgainstClassical.Pick("gbt", 0.635, 0.77));

  @Test
  void singleSplitLines() {
    String s =
        FusionAgainstClassical.singleSplit()
            .lines(
                WIDE,
                LIN,
                DEEP,
                GBT,
                (m, r) ->
                    m.equals("wide")
                        ? Optional.of(new FusionAgainstClassical.Interval(-0.01, 0.05))
                        : Optional.empty());
    assertEquals(
        "Best fusion (wide, 0.8000) beats the best classical baseline (lin, 0.7800) by 0.0200"
            + " (paired 95% CI -0.0100 to +0.0500)\n"
            + "Chosen on validation: fusion deep (val 0.7000, test 0.7400) trails classical gbt"
            + " (val 0.6350, test 0.7700) by 0.0300\n",
        s.replace(System.lineSeparator(), "\n"));
  }

  @Test
  void pooledLinesNameTheMetricOfTheChoice() {
    String s =
        FusionAgainstClassical.pooled("C")
            .lines(
                WIDE,
                LIN,
                DEEP,
                GBT,
                (m, r) -> Optional.of(new FusionAgainstClassical.Interval(-0.02, 0.03)));
    assertEquals(
        "Best fusion (wide, pooled 0.800) beats the best classical baseline (lin, pooled 0.780) by"
            + " 0.020 (paired 95% CI -0.020 to +0.030)\n"
            + "Chosen on mean validation C over the folds: fusion deep (val 0.700, pooled 0.740)"
            + " trails classical gbt (val 0.635, pooled 0.770) by 0.030 (paired 95% CI -0.020 to"
            + " +0.030)\n",
        s.replace(System.lineSeparator(), "\n"));
  }

  @Test
  void noLinesWithoutBothKindsAndNoChoiceWithoutValidation() {
    FusionAgainstClassical p = FusionAgainstClassical.pooled("AUROC");
    assertEquals("", p.lines(WIDE, Optional.empty(), DEEP, GBT, (m, r) -> Optional.empty()));
    assertEquals(
        "Best fusion (wide, pooled 0.800) beats the best classical baseline (lin, pooled 0.780) by"
            + " 0.020\n",
        p.lines(WIDE, LIN, DEEP, Optional.empty(), (m, r) -> Optional.empty())
            .replace(System.lineSeparator(), "\n"));
  }
}
