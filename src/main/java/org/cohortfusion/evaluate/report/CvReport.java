package org.cohortfusion.evaluate.report;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.evaluate.CrossValidationResult;
import org.cohortfusion.evaluate.SurvivalCrossValidation;
import org.cohortfusion.io.AtomicDirectory;

/**
 * The cross-validation page, {@code <output.dir>/cv/report.html} (self-contained): every model's
 * pooled out-of-fold metrics with DeLong intervals, the per-fold AUROCs and their mean ± sd, the
 * paired differences against the reference (the unimodal baseline chosen on validation per fold,
 * {@link CrossValidationResult#bestUnimodal()}), the pooled metrics per missingness pattern, the
 * robustness curves averaged over the folds and, with repeats, the pooled AUROC of every repeat.
 * Metrics only, never subject-level values.
 */
public final class CvReport {
  public static final String FILE = "report.html";

  private CvReport() {}

  /**
   * Writes the page to {@code <cvDir>/report.html} (one rename over any old one) and returns its
   * path.
   */
  public static String write(
      Configuration hconf, String cvDir, CrossValidationResult r, String title) {
    String path = cvDir + "/" + FILE;
    AtomicDirectory.replaceFile(hconf, path, html(r, title).getBytes(StandardCharsets.UTF_8));
    return path;
  }

  static String html(CrossValidationResult r, String title) {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
        .append(ReportAction.esc(title))
        .append(
            " - cohort-fusion cross-validation</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
                + "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
                + "td.l,th.l{text-align:left}.small{color:#999}</style></head><body>\n");
    h.append("<h1>")
        .append(ReportAction.esc(title))
        .append(": ")
        .append(r.folds())
        .append("-fold cross-validation</h1>\n");
    h.append("<p>")
        .append(r.subjects())
        .append(" labeled subjects, each with exactly one out-of-fold prediction per model; ")
        .append(ReportAction.esc(r.validation()))
        .append(
            ". Pooled AUROC: ties count one half, 95% interval by DeLong's"
                + " method. Pooling puts the scores of ")
        .append(r.folds())
        .append(
            " different models on one ROC curve: read it" + " with the per-fold mean ± sd.</p>\n");
    h.append("<pre>").append(ReportAction.esc(r.summary())).append("</pre>\n");

    String reference = r.bestUnimodal().map(CrossValidationResult.Model::name).orElse(null);
    h.append(
            "<h2>Models</h2>\n<table><tr><th class=\"l\">model</th><th class=\"l\">kind</th><th>pooled AUROC [95% CI]</th>"
                + "<th>AUPRC</th><th>Brier</th><th>ECE</th><th>fold AUROC mean ± sd</th><th>per fold</th>"
                + "<th>vs ")
        .append(reference == null ? "reference" : ReportAction.esc(reference))
        .append(" [paired 95% CI]</th></tr>\n");
    for (CrossValidationResult.Model m : r.models()) {
      StringBuilder folds = new StringBuilder();
      m.perFold().forEach(f -> folds.append(fmt(f.test().auroc())).append(' '));
      String vs =
          r.comparisons().stream()
              .filter(c -> c.model().equals(m.name()) && c.reference().equals(reference))
              .findFirst()
              .map(
                  c ->
                      String.format(
                          Locale.ROOT,
                          "%+.3f [%+.3f, %+.3f]",
                          c.paired().difference(),
                          c.paired().lower(),
                          c.paired().upper()))
              .orElse(m.name().equals(reference) ? "reference" : "");
      h.append("<tr><td class=\"l\">")
          .append(ReportAction.esc(m.name()))
          .append("</td><td class=\"l\">")
          .append(ReportAction.esc(m.kind()))
          .append("</td><td>")
          .append(
              String.format(
                  Locale.ROOT,
                  "%.3f [%.3f, %.3f]",
                  m.pooled().auroc(),
                  m.pooledAurocLower(),
                  m.pooledAurocUpper()))
          .append("</td><td>")
          .append(fmt(m.pooled().auprc()))
          .append("</td><td>")
          .append(fmt(m.pooled().brier()))
          .append("</td><td>")
          .append(fmt(m.pooled().ece()))
          .append("</td><td>")
          .append(String.format(Locale.ROOT, "%.3f ± %.3f", m.auroc().mean(), m.auroc().sd()))
          .append("</td><td>")
          .append(folds.toString().trim())
          .append("</td><td>")
          .append(vs)
          .append("</td></tr>\n");
    }
    h.append("</table>\n");

    Map<String, Map<String, Double>> byPattern = new LinkedHashMap<>();
    Map<String, Long> sizes = new TreeMap<>();
    for (CrossValidationResult.Model m : r.models()) {
      Map<String, Double> v = new TreeMap<>();
      m.patterns()
          .forEach(
              p -> {
                v.put(p.pattern(), p.metrics().auroc());
                sizes.put(p.pattern(), p.n());
              });
      byPattern.put(m.name(), v);
    }
    h.append(patternTable("AUROC", byPattern, sizes, r.minPatternSize(), r.folds()));

    if (!r.removalRates().isEmpty()) {
      Map<String, Charts.Line> lines = new LinkedHashMap<>();
      double[] x = r.removalRates().stream().mapToDouble(Double::doubleValue).toArray();
      for (CrossValidationResult.Model m : r.models()) {
        if (m.robustness().size() == x.length) {
          lines.put(
              m.name(),
              new Charts.Line(
                  m.name(),
                  x,
                  m.robustness().stream()
                      .mapToDouble(CrossValidationResult.MeanSd::mean)
                      .toArray()));
        }
      }
      if (!lines.isEmpty()) {
        byte[] png =
            Charts.lines(
                "Robustness: AUROC under MCAR removal of modalities (mean over folds)",
                "removal rate",
                "AUROC",
                Emphasis.styled(lines, Emphasis.of(r)),
                false,
                x[x.length - 1]);
        h.append("<h2>Robustness</h2>\n<img alt=\"robustness\" src=\"data:image/png;base64,")
            .append(Base64.getEncoder().encodeToString(png))
            .append("\">\n<p>On pooled AUROC. ")
            .append(ReportAction.esc(Emphasis.caption(Emphasis.of(r))))
            .append("</p>\n");
      }
    }

    if (r.repeated() != null && !r.repeated().isEmpty()) {
      Map<String, Repeats> repeats = new LinkedHashMap<>();
      r.repeated()
          .forEach(
              (name, rep) ->
                  repeats.put(
                      name,
                      new Repeats(
                          rep.pooledAuroc(), rep.pooledAurocOverRepeats(), rep.foldAuroc())));
      h.append(repeatsTable("AUROC", repeats));
    }
    h.append("</body></html>\n");
    return h.toString();
  }

  /**
   * Writes the page of a survival cross-validation ({@link SurvivalCrossValidation}) to {@code
   * <cvDir>/report.html} and returns its path: every model's pooled C with its bootstrap interval,
   * its per-fold C and their mean ± sd, the paired differences against the reference (the unimodal
   * baseline chosen on validation C per fold), the pooled C per missingness pattern and, with
   * repeats, the pooled C of every repeat.
   */
  public static String writeSurvival(
      Configuration hconf, String cvDir, SurvivalCrossValidation.Result r, String title) {
    String path = cvDir + "/" + FILE;
    AtomicDirectory.replaceFile(
        hconf, path, survivalHtml(r, title).getBytes(StandardCharsets.UTF_8));
    return path;
  }

  static String survivalHtml(SurvivalCrossValidation.Result r, String title) {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
        .append(ReportAction.esc(title))
        .append(
            " - cohort-fusion cross-validation</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
                + "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
                + "td.l,th.l{text-align:left}.small{color:#999}</style></head><body>\n");
    h.append("<h1>")
        .append(ReportAction.esc(title))
        .append(": ")
        .append(r.folds())
        .append("-fold cross-validation (survival)</h1>\n<p>")
        .append(r.subjects())
        .append(" labeled subjects (")
        .append(r.events())
        .append(" events), each with exactly one out-of-fold prediction per model; ")
        .append(ReportAction.esc(r.validation()))
        .append(
            ". Pooled C: Harrell's C of the out-of-fold risks of all subjects, 95% bootstrap"
                + " interval; it compares subjects scored by different fold models, so read it with"
                + " the per-fold mean ± sd.</p>\n");
    h.append("<pre>")
        .append(
            ReportAction.esc(
                CrossValidationResult.referenceLine(
                    r.bestUnimodal().map(SurvivalCrossValidation.Model::name).orElse(null),
                    r.unimodalBaselines(),
                    "C")))
        .append(ReportAction.esc(r.fusionAgainstClassical()))
        .append("</pre>\n");
    h.append(
        SurvivalTable.html(
            "pooled C [95% CI]",
            List.of("per-fold C mean ± sd", "per-fold C"),
            "pooled C - reference [95% CI]",
            r.models().stream()
                .map(
                    m ->
                        new SurvivalTable.Row(
                            m.name(),
                            m.kind(),
                            m.pooledC(),
                            m.pooledCLower(),
                            m.pooledCUpper(),
                            List.of(
                                fmt(m.foldCIndex().mean()) + " ± " + fmt(m.foldCIndex().sd()),
                                String.join(" ", m.foldC().stream().map(CvReport::fmt).toList()))))
                .toList(),
            r.comparisons().stream().filter(c -> c.reference().equals(r.reference())).toList()));
    h.append('\n');
    Map<String, Map<String, Double>> byPattern = new LinkedHashMap<>();
    Map<String, Long> sizes = new TreeMap<>();
    for (SurvivalCrossValidation.Model m : r.models()) {
      Map<String, Double> v = new TreeMap<>();
      m.patterns()
          .forEach(
              p -> {
                v.put(p.pattern(), p.cIndex());
                sizes.put(p.pattern(), p.n());
              });
      byPattern.put(m.name(), v);
    }
    h.append(patternTable("Harrell's C", byPattern, sizes, r.minPatternSize(), r.folds()));
    if (r.repeated() != null && !r.repeated().isEmpty()) {
      Map<String, Repeats> repeats = new LinkedHashMap<>();
      r.repeated()
          .forEach(
              (name, rep) ->
                  repeats.put(
                      name, new Repeats(rep.pooledC(), rep.pooledCOverRepeats(), rep.foldC())));
      h.append(repeatsTable("C", repeats));
    }
    h.append("</body></html>\n");
    return h.toString();
  }

  /**
   * The pooled metric per missingness pattern, largest pattern first, one column per model; the
   * patterns smaller than {@code minPatternSize} are folded into one row and listed apart.
   *
   * @param byPattern by model (in column order), its metric by pattern
   * @param sizes subjects per pattern
   */
  private static String patternTable(
      String metric,
      Map<String, Map<String, Double>> byPattern,
      Map<String, Long> sizes,
      int minPatternSize,
      int folds) {
    StringBuilder h = new StringBuilder();
    h.append("<h2>Missingness patterns (pooled)</h2>\n<p>")
        .append(ReportAction.esc(metric))
        .append(
            " of the pooled out-of-fold predictions of the subjects with each pattern, largest"
                + " pattern first; patterns with fewer than ")
        .append(minPatternSize)
        .append(" subjects (evaluate.min-pattern-size × ")
        .append(folds)
        .append(") are folded into one row.</p>\n");
    List<Map.Entry<String, Long>> bySize =
        sizes.entrySet().stream()
            .sorted(
                Map.Entry.<String, Long>comparingByValue()
                    .reversed()
                    .thenComparing(Map.Entry.comparingByKey()))
            .toList();
    h.append("<table id=\"patterns\"><tr><th class=\"l\">pattern</th><th>n</th>");
    byPattern.keySet().forEach(m -> h.append("<th>").append(ReportAction.esc(m)).append("</th>"));
    h.append("</tr>\n");
    long foldedSubjects = 0;
    List<Map.Entry<String, Long>> small = new ArrayList<>();
    for (Map.Entry<String, Long> p : bySize) {
      if (p.getValue() < minPatternSize) {
        foldedSubjects += p.getValue();
        small.add(p);
        continue;
      }
      h.append("<tr><td class=\"l\">")
          .append(ReportAction.esc(p.getKey()))
          .append("</td><td>")
          .append(p.getValue())
          .append("</td>");
      byPattern
          .values()
          .forEach(
              v ->
                  h.append("<td>")
                      .append(fmt(v.getOrDefault(p.getKey(), Double.NaN)))
                      .append("</td>"));
      h.append("</tr>\n");
    }
    if (!small.isEmpty()) {
      h.append("<tr class=\"small\"><td class=\"l\">")
          .append(ReportAction.otherPatterns(foldedSubjects, small.size()))
          .append("</td><td>")
          .append(foldedSubjects)
          .append("</td>");
      byPattern.keySet().forEach(m -> h.append("<td>-</td>"));
      h.append("</tr>\n</table>\n<details id=\"small-patterns\"><summary>")
          .append(ReportAction.otherPatterns(foldedSubjects, small.size()))
          .append(": fewer than ")
          .append(minPatternSize)
          .append(
              " subjects each</summary>\n<table><tr><th class=\"l\">pattern</th><th>n</th>"
                  + "</tr>\n");
      small.forEach(
          p ->
              h.append("<tr><td class=\"l\">")
                  .append(ReportAction.esc(p.getKey()))
                  .append("</td><td>")
                  .append(p.getValue())
                  .append("</td></tr>\n"));
      h.append("</table></details>\n");
    } else {
      h.append("</table>\n");
    }
    return h.toString();
  }

  /** One model over the repeats: its pooled metric per repeat, their mean ± sd, all folds'. */
  private record Repeats(
      List<Double> pooled,
      CrossValidationResult.MeanSd overRepeats,
      CrossValidationResult.MeanSd folds) {}

  /** The repeats table: per model, the pooled metric of each repeat and the spreads. */
  private static String repeatsTable(String metric, Map<String, Repeats> repeats) {
    StringBuilder h = new StringBuilder();
    String m = ReportAction.esc(metric);
    h.append("<h2>Repeats</h2>\n<table><tr><th class=\"l\">model</th><th>pooled ")
        .append(m)
        .append(" per repeat</th><th>mean ± sd over repeats</th><th>fold ")
        .append(m)
        .append(" mean ± sd, all repeats</th></tr>\n");
    repeats.forEach(
        (name, rep) -> {
          StringBuilder each = new StringBuilder();
          rep.pooled().forEach(a -> each.append(fmt(a)).append(' '));
          h.append("<tr><td class=\"l\">")
              .append(ReportAction.esc(name))
              .append("</td><td>")
              .append(each.toString().trim())
              .append("</td><td>")
              .append(
                  String.format(
                      Locale.ROOT, "%.3f ± %.3f", rep.overRepeats().mean(), rep.overRepeats().sd()))
              .append("</td><td>")
              .append(
                  String.format(Locale.ROOT, "%.3f ± %.3f", rep.folds().mean(), rep.folds().sd()))
              .append("</td></tr>\n");
        });
    h.append("</table>\n");
    return h.toString();
  }

  /** A metric with three decimals, "-" when there is none (NaN). */
  static String fmt(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
  }
}
