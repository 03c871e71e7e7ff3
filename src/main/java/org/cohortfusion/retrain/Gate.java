package org.cohortfusion.retrain;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.cohortfusion.config.RetrainConfig;
import org.cohortfusion.evaluate.ClassificationMetrics;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.evaluate.PairedAuroc;
import org.cohortfusion.evaluate.SurvivalEvaluation;

/**
 * The champion/challenger gate: every criterion of {@code retrain.gate} judged on the same test
 * subjects, each with the numbers of both sides. The challenger is promoted only if every criterion
 * passes. Without a champion, the challenger must beat the best unimodal baseline instead.
 */
public final class Gate {
  private final RetrainConfig.GateConfig config;

  public Gate(RetrainConfig.GateConfig config) {
    this.config = config;
  }

  /**
   * One criterion.
   *
   * @param name what is judged
   * @param champion the champion's number (or the reference's: the best unimodal model without a
   *     champion)
   * @param challenger the challenger's number
   * @param rule the rule, with its threshold
   * @param passed whether the challenger passes
   * @param detail the numbers behind the verdict (a confidence interval, a count)
   */
  public record Criterion(
      String name,
      Double champion,
      Double challenger,
      String rule,
      boolean passed,
      String detail) {}

  /** The gate's verdict: promote only if every criterion passed. */
  public record Decision(boolean passed, List<Criterion> criteria) {
    public Decision {
      criteria = List.copyOf(criteria);
    }

    /** The criteria as an aligned text table for the console. */
    public String table() {
      StringBuilder s =
          new StringBuilder(
              String.format(
                  Locale.ROOT,
                  "%-36s %10s %10s  %-6s %s%n",
                  "criterion",
                  "champion",
                  "challenger",
                  "result",
                  "rule / detail"));
      for (Criterion c : criteria) {
        s.append(
            String.format(
                Locale.ROOT,
                "%-36s %10s %10s  %-6s %s%s%n",
                c.name(),
                number(c.champion()),
                number(c.challenger()),
                c.passed() ? "pass" : "FAIL",
                c.rule(),
                c.detail().isEmpty() ? "" : "; " + c.detail()));
      }
      return s.toString();
    }

    private static String number(Double d) {
      return d == null
          ? "-"
          : Double.isNaN(d)
              ? "n/a"
              : isCount(d)
                  ? String.format(Locale.ROOT, "%.0f", d)
                  : String.format(Locale.ROOT, "%.4f", d);
    }

    /** Subject counts print as integers; every other number is a metric in [0, 1]. */
    static boolean isCount(double d) {
      return d >= 2 && d == Math.rint(d);
    }
  }

  /**
   * What the gate judges.
   *
   * @param challenger the challenger's evaluation on the new snapshot's test split
   * @param champion the champion's evaluation on the same subjects (null: no champion yet)
   * @param reference without a champion, the best unimodal baseline on the same subjects (null:
   *     none trained)
   * @param paired challenger minus champion (or minus reference), paired DeLong on the same
   *     subjects
   * @param positives labeled test subjects of class 1
   * @param negatives labeled test subjects of class 0
   * @param drift drift of the training split from the champion's (null without a champion)
   */
  public record Evidence(
      EvaluateResult.ModelEvaluation challenger,
      EvaluateResult.ModelEvaluation champion,
      EvaluateResult.ModelEvaluation reference,
      PairedAuroc paired,
      long positives,
      long negatives,
      CohortProfile.Drift drift) {}

  public Decision judge(Evidence e) {
    List<Criterion> out = new ArrayList<>();
    out.add(atLeast("test subjects", e.positives() + e.negatives(), config.minTestSubjects(), ""));
    out.add(
        atLeast(
            "test subjects of the smaller class",
            Math.min(e.positives(), e.negatives()),
            config.minTestPositives(),
            e.positives() + " positive, " + e.negatives() + " negative"));
    if (e.champion() == null) {
      out.add(
          beatsReference(
              "AUROC",
              e.reference() == null ? null : e.reference().name(),
              e.reference() == null ? null : e.reference().test().auroc(),
              e.challenger().test().auroc(),
              e.paired() == null ? "" : interval(e.paired())));
    } else {
      PairedAuroc paired = e.paired();
      out.add(
          nonInferior(
              "test AUROC (paired DeLong)",
              paired.aurocB(),
              paired.aurocA(),
              paired.lower(),
              interval(paired)));
      out.add(
          worstPattern(
              "AUROC",
              e.champion()
                  .worstPattern()
                  .map(p -> new Worst(p.pattern(), p.n(), p.metrics().auroc())),
              e.challenger()
                  .worstPattern()
                  .map(p -> new Worst(p.pattern(), p.n(), p.metrics().auroc())),
              "no pattern has enough test subjects of both classes (evaluate.min-pattern-size)"));
      out.add(robustness("AUROC", robustnessArea(e.champion()), robustnessArea(e.challenger())));
    }
    ClassificationMetrics ct = e.challenger().test();
    out.add(
        new Criterion(
            "calibration (ECE)",
            e.champion() == null ? null : e.champion().test().ece(),
            ct.ece(),
            String.format(Locale.ROOT, "challenger <= %.3f", config.maxEce()),
            ct.ece() <= config.maxEce(),
            (e.champion() == null
                    ? ""
                    : String.format(
                        Locale.ROOT, "Brier champion %.4f, ", e.champion().test().brier()))
                + String.format(Locale.ROOT, "Brier challenger %.4f", ct.brier())));
    if (e.drift() != null) {
      out.add(drift(e.drift()));
    }
    return new Decision(out.stream().allMatch(Criterion::passed), out);
  }

  private Criterion drift(CohortProfile.Drift drift) {
    double worst = drift.worst();
    boolean checked = config.maxDrift() != null;
    return (new Criterion(
        "drift (PSI, largest)",
        null,
        worst,
        checked
            ? String.format(Locale.ROOT, "<= %.3f", config.maxDrift())
            : "reported only (retrain.gate.max-drift)",
        !checked || worst <= config.maxDrift(),
        String.format(
            Locale.ROOT,
            "patterns %.4f, label %.4f, %s",
            drift.patternPsi(),
            drift.labelPsi(),
            drift.embeddingPsi() == null
                ? "embedding dimensions not compared (other encoders)"
                : String.format(
                    Locale.ROOT, "embedding dimensions up to %.4f", drift.worstEmbedding()))));
  }

  /**
   * What the gate judges on a survival outcome: the same questions as {@link Evidence}, asked of
   * Harrell's C (paired by a bootstrap of the same subjects) and of the integrated Brier score.
   *
   * @param challenger the challenger's survival evaluation on the new snapshot's test split
   * @param champion the champion's on the same subjects (null: no champion yet)
   * @param reference without a champion, the best unimodal model on the same subjects (null: none)
   * @param paired challenger minus champion (or minus reference) in C, paired bootstrap
   * @param confidence the two-sided level of {@code paired}'s interval
   * @param events test subjects with the event
   * @param censored test subjects censored
   * @param drift drift of the training split from the champion's (null without a champion)
   */
  public record SurvivalEvidence(
      SurvivalEvaluation.ModelSurvival challenger,
      SurvivalEvaluation.ModelSurvival champion,
      SurvivalEvaluation.ModelSurvival reference,
      SurvivalEvaluation.PairedC paired,
      double confidence,
      long events,
      long censored,
      CohortProfile.Drift drift) {}

  public Decision judgeSurvival(SurvivalEvidence e) {
    List<Criterion> out = new ArrayList<>();
    out.add(atLeast("test subjects", e.events() + e.censored(), config.minTestSubjects(), ""));
    out.add(
        atLeast(
            "test subjects with the event",
            e.events(),
            config.minTestPositives(),
            e.events() + " events, " + e.censored() + " censored"));
    double challengerC = e.challenger().test().cIndex();
    SurvivalEvaluation.ModelSurvival other = e.champion() != null ? e.champion() : e.reference();
    if (e.champion() == null) {
      out.add(
          beatsReference(
              "C-index",
              e.reference() == null ? null : e.reference().name(),
              e.reference() == null ? null : e.reference().test().cIndex(),
              challengerC,
              e.paired() == null ? "" : interval(e.paired(), e.confidence())));
    } else {
      SurvivalEvaluation.PairedC p = e.paired();
      out.add(
          nonInferior(
              "test C-index (paired bootstrap)",
              e.champion().test().cIndex(),
              challengerC,
              p.lower(),
              interval(p, e.confidence())));
      out.add(
          worstPattern(
              "C-index",
              worstPattern(e.champion()).map(w -> new Worst(w.pattern(), w.n(), w.cIndex())),
              worstPattern(e.challenger()).map(w -> new Worst(w.pattern(), w.n(), w.cIndex())),
              "no pattern has enough test subjects (evaluate.min-pattern-size)"));
      out.add(robustness("C", meanC(e.champion()), meanC(e.challenger())));
    }
    double ibs = e.challenger().test().integratedBrier();
    out.add(
        other == null
            ? new Criterion(
                "calibration (integrated Brier)",
                null,
                ibs,
                "reported only (nothing to compare with)",
                true,
                "")
            : new Criterion(
                "calibration (integrated Brier)",
                other.test().integratedBrier(),
                ibs,
                String.format(
                    Locale.ROOT,
                    "challenger <= %s + %.3f",
                    e.champion() != null ? "champion" : "best unimodal model",
                    config.ibsMargin()),
                ibs <= other.test().integratedBrier() + config.ibsMargin(),
                ""));
    if (e.drift() != null) {
      out.add(drift(e.drift()));
    }
    return new Decision(out.stream().allMatch(Criterion::passed), out);
  }

  /** The lowest C of the patterns with at least evaluate.min-pattern-size test subjects. */
  static Optional<SurvivalEvaluation.PatternScores> worstPattern(
      SurvivalEvaluation.ModelSurvival m) {
    return m.patterns().stream()
        .filter(p -> !p.small() && !Double.isNaN(p.cIndex()))
        .min(java.util.Comparator.comparingDouble(SurvivalEvaluation.PatternScores::cIndex));
  }

  /** Mean C over the removal rates, as {@link #robustnessArea} for AUROC. */
  static double meanC(SurvivalEvaluation.ModelSurvival m) {
    return m.robustness().stream()
        .mapToDouble(Double::doubleValue)
        .filter(d -> !Double.isNaN(d))
        .average()
        .orElse(Double.NaN);
  }

  private static String interval(SurvivalEvaluation.PairedC p, double confidence) {
    return String.format(
        Locale.ROOT,
        "difference %+.4f, %.0f%% bootstrap CI [%+.4f, %+.4f]",
        p.difference(),
        confidence * 100,
        p.lower(),
        p.upper());
  }

  /**
   * With a champion: the lower bound of the paired difference (challenger minus champion) above
   * minus {@code retrain.gate.auroc-margin}.
   */
  private Criterion nonInferior(
      String name, double champion, double challenger, double lower, String detail) {
    return new Criterion(
        name,
        champion,
        challenger,
        String.format(
            Locale.ROOT, "lower bound of challenger - champion > -%.3f", config.aurocMargin()),
        lower > -config.aurocMargin(),
        detail);
  }

  /**
   * Without a champion: the challenger above the best unimodal model ({@code referenceName} null
   * when none was evaluated, which fails).
   */
  private static Criterion beatsReference(
      String metric, String referenceName, Double reference, double challenger, String detail) {
    String rule = "no champion: challenger > best unimodal model";
    if (referenceName == null) {
      return new Criterion(
          "test " + metric + " vs best unimodal model",
          null,
          challenger,
          rule,
          false,
          "no unimodal baseline was evaluated");
    }
    return new Criterion(
        "test " + metric + " vs " + referenceName,
        reference,
        challenger,
        rule,
        challenger > reference,
        detail);
  }

  /** A count the decision rests on, at least {@code min}. */
  private static Criterion atLeast(String name, long count, int min, String detail) {
    return new Criterion(name, null, (double) count, ">= " + min, count >= min, detail);
  }

  /** A model's worst missingness pattern: its name, size and metric. */
  private record Worst(String pattern, long n, double value) {}

  private Criterion worstPattern(
      String metric, Optional<Worst> champion, Optional<Worst> challenger, String noPattern) {
    String name = "worst missingness-pattern " + metric;
    String rule =
        String.format(Locale.ROOT, "challenger >= champion - %.3f", config.worstPatternMargin());
    if (champion.isEmpty() || challenger.isEmpty()) {
      return new Criterion(name, null, null, rule, true, noPattern);
    }
    Worst a = champion.get();
    Worst b = challenger.get();
    return new Criterion(
        name,
        a.value(),
        b.value(),
        rule,
        b.value() >= a.value() - config.worstPatternMargin(),
        "champion's worst "
            + a.pattern()
            + " (n="
            + a.n()
            + "), challenger's "
            + b.pattern()
            + " (n="
            + b.n()
            + ")");
  }

  /** The mean {@code metric} over the MCAR removal rates, the champion's minus a margin at most. */
  private Criterion robustness(String metric, double champion, double challenger) {
    return new Criterion(
        "robustness (mean " + metric + ", MCAR 0-0.9)",
        champion,
        challenger,
        String.format(Locale.ROOT, "challenger >= champion - %.3f", config.robustnessMargin()),
        challenger >= champion - config.robustnessMargin(),
        "");
  }

  /**
   * Mean AUROC over the removal rates: the area under the robustness curve divided by its width.
   */
  static double robustnessArea(EvaluateResult.ModelEvaluation m) {
    return m.robustness().stream()
        .mapToDouble(ClassificationMetrics::auroc)
        .filter(d -> !Double.isNaN(d))
        .average()
        .orElse(Double.NaN);
  }

  private static String interval(PairedAuroc p) {
    return String.format(
        Locale.ROOT,
        "difference %+.4f, %.0f%% CI [%+.4f, %+.4f], %d positive / %d negative",
        p.difference(),
        p.confidence() * 100,
        p.lower(),
        p.upper(),
        p.positives(),
        p.negatives());
  }
}
