package org.cohortfusion.retrain;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.cohortfusion.config.RetrainConfig;
import org.cohortfusion.evaluate.ClassificationMetrics;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.evaluate.PairedAuroc;

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
      double worst = e.drift().worst();
      boolean checked = config.maxDrift() != null;
      out.add(
          new Criterion(
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
                  e.drift().patternPsi(),
                  e.drift().labelPsi(),
                  e.drift().embeddingPsi() == null
                      ? "embedding dimensions not compared (other encoders)"
                      : String.format(
                          Locale.ROOT,
                          "embedding dimensions up to %.4f",
                          e.drift().worstEmbedding()))));
    }
    return new Decision(out.stream().allMatch(Criterion::passed), out);
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
