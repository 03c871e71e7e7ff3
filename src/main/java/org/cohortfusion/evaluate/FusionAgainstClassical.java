package org.cohortfusion.evaluate;

import java.util.Locale;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * The console lines comparing the fusion with the classical baselines on the scored subjects (the
 * test split, or the pooled out-of-fold predictions of cross-validation): the best of each kind by
 * the scored metric, then the pair chosen on validation. Both are printed because the best on the
 * scored subjects is an optimistic pick when many models compete, while the choice on validation is
 * the one a user can make without them. Shared by single-split evaluate and the cv stage, for class
 * labels (AUROC) and survival (C), so the lines read the same everywhere.
 *
 * @param digits decimals of every figure
 * @param bestLabel what precedes each score in the first line ("" or "pooled ")
 * @param scored the scored subjects as the second line names them ("test", "pooled")
 * @param chosenOn how the second pair was chosen ("validation", "mean validation AUROC over the
 *     folds")
 */
record FusionAgainstClassical(int digits, String bestLabel, String scored, String chosenOn) {

  /**
   * One model's figures in the lines.
   *
   * @param name the model
   * @param validation its validation metric (mean over the folds for cross-validation), NaN when it
   *     has none
   * @param score its metric on the scored subjects
   */
  record Pick(String name, double validation, double score) {}

  /** The paired interval of a difference, model minus reference. */
  record Interval(double lower, double upper) {}

  /** Single-split evaluate: test AUROC, four decimals. */
  static FusionAgainstClassical singleSplit() {
    return new FusionAgainstClassical(4, "", "test", "validation");
  }

  /** Single-split evaluate of a survival outcome: test C, three decimals as its other lines. */
  static FusionAgainstClassical singleSplitSurvival() {
    return new FusionAgainstClassical(3, "", "test", "validation C");
  }

  /**
   * The cv stage: pooled out-of-fold {@code metric} ("AUROC", "C"), the choice on its mean
   * validation value over the folds, three decimals.
   */
  static FusionAgainstClassical pooled(String metric) {
    return new FusionAgainstClassical(
        3, "pooled ", "pooled", "mean validation " + metric + " over the folds");
  }

  /**
   * Both lines, or only the first when no pair was chosen on validation; empty without a best
   * fusion and a best classical baseline.
   *
   * @param paired the paired interval of (model, reference), empty when it was not computed
   */
  String lines(
      Optional<Pick> bestFusion,
      Optional<Pick> bestClassical,
      Optional<Pick> chosenFusion,
      Optional<Pick> chosenClassical,
      BiFunction<String, String, Optional<Interval>> paired) {
    if (bestFusion.isEmpty() || bestClassical.isEmpty()) {
      return "";
    }
    StringBuilder s = new StringBuilder();
    Pick f = bestFusion.get();
    Pick c = bestClassical.get();
    s.append(
        String.format(
            Locale.ROOT,
            "Best fusion (%s, %s%s) %s the best classical baseline (%s, %s%s) by %s%s%n",
            f.name(),
            bestLabel,
            figure(f.score()),
            f.score() - c.score() >= 0 ? "beats" : "trails",
            c.name(),
            bestLabel,
            figure(c.score()),
            figure(Math.abs(f.score() - c.score())),
            interval(paired.apply(f.name(), c.name()))));
    if (chosenFusion.isPresent() && chosenClassical.isPresent()) {
      Pick vf = chosenFusion.get();
      Pick vc = chosenClassical.get();
      double d = vf.score() - vc.score();
      s.append(
          String.format(
              Locale.ROOT,
              "Chosen on %s: fusion %s (val %s, %s %s) %s classical %s (val %s, %s %s) by %s%s%n",
              chosenOn,
              vf.name(),
              figure(vf.validation()),
              scored,
              figure(vf.score()),
              d >= 0 ? "beats" : "trails",
              vc.name(),
              figure(vc.validation()),
              scored,
              figure(vc.score()),
              figure(Math.abs(d)),
              interval(paired.apply(vf.name(), vc.name()))));
    }
    return s.toString();
  }

  private String figure(double v) {
    return String.format(Locale.ROOT, "%." + digits + "f", v);
  }

  private String interval(Optional<Interval> i) {
    return i.map(v -> " (paired 95% CI " + signed(v.lower()) + " to " + signed(v.upper()) + ")")
        .orElse("");
  }

  private String signed(double v) {
    return String.format(Locale.ROOT, "%+." + digits + "f", v);
  }
}
