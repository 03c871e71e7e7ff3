package org.cohortfusion.evaluate.report;

import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.cohortfusion.evaluate.SurvivalEvaluation;

/**
 * The report of a survival evaluation: the comparison table (Harrell's C with its bootstrap
 * interval, time-dependent AUROC and Brier score at the horizons, integrated Brier score, the
 * paired difference in C against the best unimodal model) and the C-index under test-time removal
 * of modalities, as one self-contained HTML page.
 */
final class SurvivalReport {
  static final String FIG_ROBUSTNESS = "robustness";

  private SurvivalReport() {}

  /** The comparison table as fixed-width text, best C first. */
  static String table(SurvivalEvaluation.Result r) {
    StringBuilder s =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%-22s %-9s %-22s %-28s %-28s %s%n",
                "model",
                "kind",
                "C-index [95% CI]",
                "tdAUROC at " + r.horizons(),
                "Brier at " + r.horizons(),
                "IBS"));
    for (SurvivalEvaluation.ModelSurvival m : sorted(r)) {
      s.append(
          String.format(
              Locale.ROOT,
              "%-22s %-9s %.3f [%.3f, %.3f]   %-28s %-28s %.3f%n",
              m.name(),
              m.kind(),
              m.test().cIndex(),
              m.test().cLower(),
              m.test().cUpper(),
              values(m.test().timeDependentAuroc()),
              values(m.test().brier()),
              m.test().integratedBrier()));
    }
    return s.toString();
  }

  static String html(SurvivalEvaluation.Result r, byte[] robustness) {
    StringBuilder h =
        new StringBuilder(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>cohort-fusion:"
                + " survival report</title><style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
                + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
                + "td:first-child,th:first-child{text-align:left}</style></head><body>");
    h.append("<h1>Survival outcome: ")
        .append(r.subjects())
        .append(" test subjects, ")
        .append(r.events())
        .append(" events</h1>");
    h.append("<p>Discrete-time hazard models over the follow-up intervals ending at ")
        .append(r.intervals())
        .append(
            ". Risk = 1 &minus; S(last interval bound). C-index: Harrell's, ties in risk &frac12;, 95% bootstrap"
                + " interval over subjects. Time-dependent AUROC (cumulative/dynamic) and Brier score with inverse"
                + " probability of censoring weights, at the horizons ")
        .append(r.horizons())
        .append("; IBS: integrated Brier score over the interval bounds.</p>");
    h.append(
        SurvivalTable.html(
            "C-index [95% CI]",
            List.of("tdAUROC", "Brier", "IBS"),
            "C vs best unimodal [95% CI]",
            sorted(r).stream()
                .map(
                    m ->
                        new SurvivalTable.Row(
                            m.name(),
                            m.kind(),
                            m.test().cIndex(),
                            m.test().cLower(),
                            m.test().cUpper(),
                            List.of(
                                values(m.test().timeDependentAuroc()),
                                values(m.test().brier()),
                                String.format(Locale.ROOT, "%.3f", m.test().integratedBrier()))))
                .toList(),
            // The column is the difference to the best unimodal model; the fusion-against-classical
            // pairs are in the summary below.
            r.bestUnimodal()
                .map(
                    u ->
                        r.comparisons().stream()
                            .filter(c -> c.reference().equals(u.name()))
                            .toList())
                .orElse(List.of())));
    h.append("<pre>").append(ReportAction.esc(r.summary())).append("</pre>");
    h.append("<h2>Robustness to missing modalities</h2><img id=\"")
        .append(FIG_ROBUSTNESS)
        .append("\" src=\"data:image/png;base64,")
        .append(Base64.getEncoder().encodeToString(robustness))
        .append("\" alt=\"C-index against the rate of modalities removed at test time\">");
    h.append(
        "<p>Every present modality of every test subject removed independently with the given probability, the"
            + " same removals for every model.</p></body></html>");
    return h.toString();
  }

  static byte[] robustnessChart(SurvivalEvaluation.Result r) {
    List<Charts.Line> lines = new ArrayList<>();
    double[] x = r.removalRates().stream().mapToDouble(Double::doubleValue).toArray();
    for (SurvivalEvaluation.ModelSurvival m : sorted(r)) {
      lines.add(
          new Charts.Line(
              m.name(), x, m.robustness().stream().mapToDouble(Double::doubleValue).toArray()));
    }
    return Charts.lines(
        "C-index under test-time modality removal",
        "rate of modalities removed",
        "C-index",
        lines,
        false,
        1.0);
  }

  private static List<SurvivalEvaluation.ModelSurvival> sorted(SurvivalEvaluation.Result r) {
    return r.models().stream()
        .sorted(
            Comparator.comparingDouble((SurvivalEvaluation.ModelSurvival m) -> -m.test().cIndex()))
        .toList();
  }

  private static String values(Map<String, Double> byHorizon) {
    List<String> v = new ArrayList<>();
    byHorizon.values().forEach(x -> v.add(String.format(Locale.ROOT, "%.3f", x)));
    return String.join(" / ", v);
  }
}
