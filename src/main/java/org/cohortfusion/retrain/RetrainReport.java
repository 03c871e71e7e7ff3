package org.cohortfusion.retrain;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.evaluate.SurvivalEvaluation;

/**
 * The retrain report: one self-contained HTML page with the gate table, the drift section and the
 * lineage.
 */
final class RetrainReport {
  private RetrainReport() {}

  /**
   * One missingness pattern's test metric for the challenger and, when there is one, the champion
   * (null: no champion, or the pattern is not among the champion's).
   */
  record PatternRow(String pattern, long n, boolean tooSmall, double challenger, Double champion) {}

  /** The pattern rows of a class-label evaluation (AUROC). */
  static List<PatternRow> patterns(
      EvaluateResult.ModelEvaluation challenger, EvaluateResult.ModelEvaluation champion) {
    Map<String, Double> byPattern = new TreeMap<>();
    if (champion != null) {
      champion.patterns().forEach(p -> byPattern.put(p.pattern(), p.metrics().auroc()));
    }
    return challenger.patterns().stream()
        .map(
            p ->
                new PatternRow(
                    p.pattern(),
                    p.n(),
                    p.tooSmall(),
                    p.metrics().auroc(),
                    byPattern.get(p.pattern())))
        .toList();
  }

  /** The pattern rows of a survival evaluation (Harrell's C). */
  static List<PatternRow> survivalPatterns(
      SurvivalEvaluation.ModelSurvival challenger, SurvivalEvaluation.ModelSurvival champion) {
    Map<String, Double> byPattern = new TreeMap<>();
    if (champion != null) {
      champion.patterns().forEach(p -> byPattern.put(p.pattern(), p.cIndex()));
    }
    return challenger.patterns().stream()
        .map(
            p ->
                new PatternRow(
                    p.pattern(), p.n(), p.small(), p.cIndex(), byPattern.get(p.pattern())))
        .toList();
  }

  /**
   * metric the name of the patterns' metric (AUROC, C-index) hasChampion whether the challenger met
   * a champion (then the pattern table has its column)
   */
  static String html(
      String cohort,
      RetrainResult r,
      String metric,
      List<PatternRow> patterns,
      boolean hasChampion,
      CohortProfile profile,
      Lineage championLineage) {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Retrain ")
        .append(esc(cohort))
        .append(" / ")
        .append(esc(r.model()))
        .append(
            "</title><style>body{font-family:sans-serif;max-width:70em;"
                + "margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;"
                + "text-align:right}td:first-child,th:first-child{text-align:left}.fail{color:#b00;font-weight:bold}"
                + ".pass{color:#070}</style></head><body>\n");
    h.append("<h1>Retrain of ")
        .append(esc(r.model()))
        .append(" on ")
        .append(esc(cohort))
        .append("</h1>\n");
    h.append("<p><b>")
        .append(r.promoted() ? "Promoted" : "Not promoted")
        .append("</b>: v")
        .append(r.version())
        .append(" judged against ")
        .append(esc(r.comparedWith()))
        .append("; champion after this run: ")
        .append(r.championAfter() < 0 ? "none" : "v" + r.championAfter())
        .append(". Run ")
        .append(esc(r.runId()))
        .append(".</p>\n");

    h.append(
        "<h2>Gate</h2>\n<table><tr><th>criterion</th><th>champion / reference</th><th>challenger</th>"
            + "<th>result</th><th>rule</th><th>detail</th></tr>\n");
    for (Gate.Criterion c : r.criteria()) {
      h.append("<tr><td>")
          .append(esc(c.name()))
          .append("</td><td>")
          .append(num(c.champion()))
          .append("</td><td>")
          .append(num(c.challenger()))
          .append("</td><td class=\"")
          .append(c.passed() ? "pass\">pass" : "fail\">FAIL")
          .append("</td><td>")
          .append(esc(c.rule()))
          .append("</td><td>")
          .append(esc(c.detail()))
          .append("</td></tr>\n");
    }
    h.append("</table>\n");

    h.append(
            "<h2>Test metrics per missingness pattern</h2>\n<table><tr><th>pattern</th><th>n</th><th>challenger ")
        .append(esc(metric))
        .append("</th>")
        .append(hasChampion ? "<th>champion " + esc(metric) + "</th>" : "")
        .append("</tr>\n");
    for (PatternRow p : patterns) {
      h.append("<tr><td>")
          .append(esc(p.pattern()))
          .append(p.tooSmall() ? " (too small)" : "")
          .append("</td><td>")
          .append(p.n())
          .append("</td><td>")
          .append(num(p.challenger()))
          .append("</td>")
          .append(hasChampion ? "<td>" + num(p.champion()) + "</td>" : "")
          .append("</tr>\n");
    }
    h.append("</table>\n");

    h.append("<h2>Drift</h2>\n");
    if (r.drift() == null) {
      h.append("<p>No champion yet: nothing to compare the training split with.</p>\n");
    } else {
      CohortProfile.Drift d = r.drift();
      h.append(
          String.format(
              Locale.ROOT,
              "<p>Training split: %d labeled subjects for the champion, %d now. Population "
                  + "stability index of the missingness patterns %.4f, of the label %.4f (below 0.1: no shift; above 0.25: "
                  + "major).</p>%n",
              d.subjectsBefore(),
              d.subjectsAfter(),
              d.patternPsi(),
              d.labelPsi()));
      h.append(
          "<table><tr><th>modality</th><th>present, champion's training</th><th>present, now</th></tr>\n");
      d.presence()
          .forEach(
              (m, v) ->
                  h.append(
                      String.format(
                          Locale.ROOT,
                          "<tr><td>%s</td><td>%.3f</td><td>%.3f</td></tr>%n",
                          esc(m),
                          v[0],
                          v[1])));
      h.append("</table>\n");
      h.append(patternTable(championLineage.trainProfile().patterns(), profile.patterns()));
      h.append(labelTable(championLineage.labelsBySplit(), r.lineage().labelsBySplit()));
      if (d.embeddingPsi() == null) {
        h.append(
            "<p>Embedding dimensions not compared: the encoders differ from the champion's.</p>\n");
      } else {
        h.append(
            "<table><tr><th>modality</th><th>dimensions</th><th>mean PSI</th><th>largest PSI</th>"
                + "<th>dimensions above 0.1</th></tr>\n");
        d.embeddingPsi()
            .forEach(
                (m, psi) ->
                    h.append(
                        String.format(
                            Locale.ROOT,
                            "<tr><td>%s</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%d</td></tr>%n",
                            esc(m),
                            psi.length,
                            java.util.Arrays.stream(psi).average().orElse(Double.NaN),
                            java.util.Arrays.stream(psi).max().orElse(Double.NaN),
                            java.util.Arrays.stream(psi).filter(x -> x > 0.1).count())));
        h.append("</table>\n");
      }
    }

    h.append("<h2>Lineage of v").append(r.version()).append("</h2>\n<table>\n");
    Lineage l = r.lineage();
    row(h, "run id", l.runId());
    row(h, "compared with", l.comparedWith() == null ? "-" : "v" + l.comparedWith());
    row(
        h,
        "warm-started from",
        l.warmStartedFrom() == null ? "- (fresh initialisation)" : "v" + l.warmStartedFrom());
    row(h, "cohort content digest", l.cohortContentDigest());
    row(h, "cohort input fingerprint (file listing)", l.cohortInputFingerprint());
    row(h, "config SHA-256", l.configSha256());
    row(h, "code version", l.codeVersion());
    l.encoders().forEach((m, sha) -> row(h, "encoder " + m, sha));
    row(h, "embeddings descriptor SHA-256", l.embeddingsSha256());
    row(h, "embeddings content digest", l.embeddingsContentDigest());
    row(h, "splits", String.valueOf(l.split()));
    row(h, "training + validation subjects", String.valueOf(l.fitSubjects()));
    h.append("</table>\n</body></html>\n");
    return h.toString();
  }

  private static String patternTable(Map<String, Long> before, Map<String, Long> after) {
    double nb = before.values().stream().mapToLong(Long::longValue).sum();
    double na = after.values().stream().mapToLong(Long::longValue).sum();
    TreeMap<String, long[]> all = new TreeMap<>();
    before.forEach((p, c) -> all.computeIfAbsent(p, k -> new long[2])[0] = c);
    after.forEach((p, c) -> all.computeIfAbsent(p, k -> new long[2])[1] = c);
    StringBuilder h =
        new StringBuilder(
            "<table><tr><th>missingness pattern</th><th>share, champion's training</th>"
                + "<th>share, now</th></tr>\n");
    for (Map.Entry<String, long[]> e : all.entrySet()) {
      h.append(
          String.format(
              Locale.ROOT,
              "<tr><td>%s</td><td>%.3f</td><td>%.3f</td></tr>%n",
              esc(e.getKey()),
              nb == 0 ? 0 : e.getValue()[0] / nb,
              na == 0 ? 0 : e.getValue()[1] / na));
    }
    return h.append("</table>\n").toString();
  }

  /** Share of label 1 per split, champion's cohort and now (binary cohorts: the gate's case). */
  private static String labelTable(
      Map<String, Map<String, Long>> before, Map<String, Map<String, Long>> after) {
    StringBuilder h =
        new StringBuilder(
            "<table><tr><th>split</th><th>labeled, champion's cohort</th><th>label 1 share</th>"
                + "<th>labeled, now</th><th>label 1 share</th></tr>\n");
    TreeMap<String, Boolean> splits = new TreeMap<>();
    if (before != null) {
      before.keySet().forEach(k -> splits.put(k, true));
    }
    after.keySet().forEach(k -> splits.put(k, true));
    for (String split : splits.keySet()) {
      Map<String, Long> b = before == null ? Map.of() : before.getOrDefault(split, Map.of());
      Map<String, Long> a = after.getOrDefault(split, Map.of());
      long nb = b.values().stream().mapToLong(Long::longValue).sum();
      long na = a.values().stream().mapToLong(Long::longValue).sum();
      h.append(
          String.format(
              Locale.ROOT,
              "<tr><td>%s</td><td>%d</td><td>%s</td><td>%d</td><td>%s</td></tr>%n",
              esc(split),
              nb,
              nb == 0
                  ? "-"
                  : String.format(Locale.ROOT, "%.3f", b.getOrDefault("1", 0L) / (double) nb),
              na,
              na == 0
                  ? "-"
                  : String.format(Locale.ROOT, "%.3f", a.getOrDefault("1", 0L) / (double) na)));
    }
    return h.append("</table>\n").toString();
  }

  private static void row(StringBuilder h, String k, String v) {
    h.append("<tr><td>")
        .append(esc(k))
        .append("</td><td>")
        .append(esc(v == null ? "-" : v))
        .append("</td></tr>\n");
  }

  private static String num(Double d) {
    return d == null
        ? "-"
        : Double.isNaN(d)
            ? "n/a"
            : Gate.Decision.isCount(d)
                ? String.format(Locale.ROOT, "%.0f", d)
                : String.format(Locale.ROOT, "%.4f", d);
  }

  static String esc(String s) {
    return s == null
        ? ""
        : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
