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
    long subjects = e.positives() + e.negatives();
    out.add(
        new Criterion(
            "test subjects",
            null,
            (double) subjects,
            ">= " + config.minTestSubjects(),
            subjects >= config.minTestSubjects(),
            ""));
    long smaller = Math.min(e.positives(), e.negatives());
    out.add(
        new Criterion(
            "test subjects of the smaller class",
            null,
            (double) smaller,
            ">= " + config.minTestPositives(),
            smaller >= config.minTestPositives(),
            e.positives() + " positive, " + e.negatives() + " negative"));
    if (e.champion() == null) {
      out.add(beatsReference(e));
    } else {
      out.add(nonInferior(e));
      out.add(worstPattern(e.champion(), e.challenger()));
      double championArea = robustnessArea(e.champion());
      double challengerArea = robustnessArea(e.challenger());
      out.add(
          new Criterion(
              "robustness (mean AUROC, MCAR 0-0.9)",
              championArea,
              challengerArea,
              String.format(
                  Locale.ROOT, "challenger >= champion - %.3f", config.robustnessMargin()),
              challengerArea >= championArea - config.robustnessMargin(),
              ""));
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
    long subjects = e.events() + e.censored();
    out.add(
        new Criterion(
            "test subjects",
            null,
            (double) subjects,
            ">= " + config.minTestSubjects(),
            subjects >= config.minTestSubjects(),
            ""));
    out.add(
        new Criterion(
            "test subjects with the event",
            null,
            (double) e.events(),
            ">= " + config.minTestPositives(),
            e.events() >= config.minTestPositives(),
            e.events() + " events, " + e.censored() + " censored"));
    double challengerC = e.challenger().test().cIndex();
    SurvivalEvaluation.ModelSurvival other = e.champion() != null ? e.champion() : e.reference();
    if (e.champion() == null) {
      out.add(
          e.reference() == null
              ? new Criterion(
                  "test C-index vs best unimodal model",
                  null,
                  challengerC,
                  "no champion: challenger > best unimodal model",
                  false,
                  "no unimodal baseline was evaluated")
              : new Criterion(
                  "test C-index vs " + e.reference().name(),
                  e.reference().test().cIndex(),
                  challengerC,
                  "no champion: challenger > best unimodal model",
                  challengerC > e.reference().test().cIndex(),
                  e.paired() == null ? "" : interval(e.paired(), e.confidence())));
    } else {
      SurvivalEvaluation.PairedC p = e.paired();
      out.add(
          new Criterion(
              "test C-index (paired bootstrap)",
              e.champion().test().cIndex(),
              challengerC,
              String.format(
                  Locale.ROOT,
                  "lower bound of challenger - champion > -%.3f",
                  config.aurocMargin()),
              p.lower() > -config.aurocMargin(),
              interval(p, e.confidence())));
      out.add(worstSurvivalPattern(e.champion(), e.challenger()));
      double championArea = meanC(e.champion());
      double challengerArea = meanC(e.challenger());
      out.add(
          new Criterion(
              "robustness (mean C, MCAR 0-0.9)",
              championArea,
              challengerArea,
              String.format(
                  Locale.ROOT, "challenger >= champion - %.3f", config.robustnessMargin()),
              challengerArea >= championArea - config.robustnessMargin(),
              ""));
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

  private Criterion worstSurvivalPattern(
      SurvivalEvaluation.ModelSurvival champion, SurvivalEvaluation.ModelSurvival challenger) {
    Optional<SurvivalEvaluation.PatternScores> a = worstPattern(champion);
    Optional<SurvivalEvaluation.PatternScores> b = worstPattern(challenger);
    String rule =
        String.format(Locale.ROOT, "challenger >= champion - %.3f", config.worstPatternMargin());
    if (a.isEmpty() || b.isEmpty()) {
      return new Criterion(
          "worst missingness-pattern C-index",
          null,
          null,
          rule,
          true,
          "no pattern has enough test subjects with a comparable pair (evaluate.min-pattern-size)");
    }
    double ca = a.get().cIndex();
    double cb = b.get().cIndex();
    return new Criterion(
        "worst missingness-pattern C-index",
        ca,
        cb,
        rule,
        cb >= ca - config.worstPatternMargin(),
        "champion's worst "
            + a.get().pattern()
            + " (n="
            + a.get().n()
            + "), challenger's "
            + b.get().pattern()
            + " (n="
            + b.get().n()
            + ")");
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

  private Criterion nonInferior(Evidence e) {
    PairedAuroc p = e.paired();
    return new Criterion(
        "test AUROC (paired DeLong)",
        p.aurocB(),
        p.aurocA(),
        String.format(
            Locale.ROOT, "lower bound of challenger - champion > -%.3f", config.aurocMargin()),
        p.lower() > -config.aurocMargin(),
        interval(p));
  }

  private Criterion beatsReference(Evidence e) {
    double challenger = e.challenger().test().auroc();
    if (e.reference() == null) {
      return new Criterion(
          "test AUROC vs best unimodal model",
          null,
          challenger,
          "no champion: challenger > best unimodal model",
          false,
          "no unimodal baseline was evaluated");
    }
    double reference = e.reference().test().auroc();
    return new Criterion(
        "test AUROC vs " + e.reference().name(),
        reference,
        challenger,
        "no champion: challenger > best unimodal model",
        challenger > reference,
        e.paired() == null ? "" : interval(e.paired()));
  }

  private Criterion worstPattern(
      EvaluateResult.ModelEvaluation champion, EvaluateResult.ModelEvaluation challenger) {
    Optional<EvaluateResult.PatternMetrics> a = champion.worstPattern();
    Optional<EvaluateResult.PatternMetrics> b = challenger.worstPattern();
    String rule =
        String.format(Locale.ROOT, "challenger >= champion - %.3f", config.worstPatternMargin());
    if (a.isEmpty() || b.isEmpty()) {
      return new Criterion(
          "worst missingness-pattern AUROC",
          null,
          null,
          rule,
          true,
          "no pattern has enough test subjects of both classes (evaluate.min-pattern-size)");
    }
    double ca = a.get().metrics().auroc();
    double cb = b.get().metrics().auroc();
    return new Criterion(
        "worst missingness-pattern AUROC",
        ca,
        cb,
        rule,
        cb >= ca - config.worstPatternMargin(),
        "champion's worst "
            + a.get().pattern()
            + " (n="
            + a.get().n()
            + "), challenger's "
            + b.get().pattern()
            + " (n="
            + b.get().n()
            + ")");
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
