package org.cohortfusion.study;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.evaluate.report.Charts;
import org.cohortfusion.io.AtomicDirectory;

/**
 * Writes a study's {@code study.json} and {@code study.html} (the table and the plot of test AUROC,
 * or Harrell's C on a survival outcome, against marginal size), each replaced in one atomic rename
 * so a reader never sees half a file. The cells' directories beside them are each stage's own
 * atomic outputs.
 */
public final class StudyReport {
  public static final String JSON = "study.json";
  public static final String HTML = "study.html";

  private StudyReport() {}

  /** Writes both files under {@code studyDir} and returns the page's path. */
  public static String write(Configuration hconf, String studyDir, StudyResult result) {
    AtomicDirectory.replaceJson(hconf, studyDir + "/" + JSON, result);
    String page = studyDir + "/" + HTML;
    AtomicDirectory.replaceFile(hconf, page, html(result).getBytes(StandardCharsets.UTF_8));
    return page;
  }

  static String html(StudyResult r) {
    String metric = r.metricName();
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
        .append(esc(r.name()))
        .append(
            " - cohort-fusion study</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
                + "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
                + "td.l,th.l{text-align:left}</style></head><body>\n");
    h.append("<h1>")
        .append(esc(r.name()))
        .append(": study</h1>\n<p>")
        .append(r.cells().size())
        .append(" cell(s) × ")
        .append(r.models().size())
        .append(" fusion model(s), ")
        .append(String.format(Locale.ROOT, "%.0f", r.seconds()))
        .append(" s. Each cell changes one modality's embedding size from the base cell's (")
        .append(esc(r.baseSizes().toString()))
        .append(")");
    if (r.cv()) {
      h.append(
              " and is cross-validated on the same ingested cohort and folds: pretrain, extract, train and"
                  + " evaluate run once per fold (encoders of the modalities a cell does not vary are the"
                  + " base cell's of the same fold, pretrained once; ")
          .append(r.folds())
          .append(" folds")
          .append(r.repeats() > 1 ? " × " + r.repeats() + " repeats" : "")
          .append(
              "), and the cv stage pools each cell's out-of-fold predictions (every labeled subject once per"
                  + " model). The metric is POOLED OUT-OF-FOLD: "
                  + (r.survival()
                      ? "Harrell's C of the pooled out-of-fold risks with the cv stage's 95% bootstrap"
                          + " interval (risks of different folds' models compared, as the cv report explains)"
                      : "AUROC of the pooled out-of-fold predictions with DeLong's 95% interval")
                  + (r.repeats() > 1 ? ", of repeat 0" : "")
                  + "; n is the pooled subjects; fold mean ± sd is over the per-fold test "
                  + r.metricName()
                  + (r.repeats() > 1 ? " of every fold of every repeat" : "")
                  + ". Parameters: the count of every fold's network (the same); train s: the MEAN over"
                  + " the folds of train's seconds per fold. Robustness is not pooled (modalities are"
                  + " removed at random within each fold's test part): it is the MEAN over the folds of"
                  + " each fold's area under its test "
                  + r.metricName()
                  + " against the rate of modalities removed at random at test time (")
          .append(esc(r.removalRates().toString()))
          .append(
              "), divided by the span of the rates; - where some fold's curve is undefined (e.g. a"
                  + " test part with one class).</p>\n");
    } else {
      h.append(
              " and runs pretrain, extract, train and evaluate on the same ingested cohort and split"
                  + " (encoders of the modalities a cell does not vary are the base cell's, pretrained"
                  + " once). "
                  + (r.survival()
                      ? "Test Harrell's C of the risk 1 - S(last interval bound) with evaluate's 95% bootstrap interval;"
                          + " robustness: area under the test C"
                      : "Test AUROC with DeLong's 95% interval; robustness: area under the test AUROC")
                  + " against the rate of modalities removed at random at test time (")
          .append(esc(r.removalRates().toString()))
          .append("), divided by the span of the rates.</p>\n");
    }

    h.append("<h2>Table</h2>\n<table><tr><th class=\"l\">cell</th>");
    r.baseSizes().keySet().forEach(m -> h.append("<th>").append(esc(m)).append("</th>"));
    if (r.cv()) {
      h.append("<th class=\"l\">model</th><th>pooled out-of-fold ")
          .append(r.metricName())
          .append(" [95% CI]</th>")
          .append(r.repeats() > 1 ? "<th>pooled, mean ± sd over repeats</th>" : "")
          .append("<th>fold mean ± sd</th>")
          .append(r.survival() ? "<th>events</th>" : "<th>AUPRC</th>")
          .append(
              "<th>robustness (mean over folds)</th><th>parameters</th>"
                  + "<th>train s (mean over folds)</th><th>pooled n</th></tr>\n");
    } else {
      h.append(
          r.survival()
              ? "<th class=\"l\">model</th><th>test C [95% CI]</th><th>events</th><th>robustness</th><th>parameters</th>"
                  + "<th>train s</th><th>test n</th></tr>\n"
              : "<th class=\"l\">model</th><th>test AUROC [95% CI]</th><th>AUPRC</th><th>robustness</th><th>parameters</th>"
                  + "<th>train s</th><th>test n</th></tr>\n");
    }
    for (StudyResult.Row row : r.rows()) {
      h.append("<tr><td class=\"l\">").append(esc(row.cell())).append("</td>");
      r.baseSizes()
          .keySet()
          .forEach(
              m -> {
                String size = String.valueOf(row.sizes().get(m));
                h.append("<td>")
                    .append(m.equals(row.varied()) ? "<b>" + size + "</b>" : size)
                    .append("</td>");
              });
      h.append("<td class=\"l\">")
          .append(esc(row.model()))
          .append("</td><td>")
          .append(
              String.format(
                  Locale.ROOT,
                  "%.3f [%.3f, %.3f]",
                  row.metric(),
                  row.metricLower(),
                  row.metricUpper()))
          .append("</td><td>");
      if (r.cv() && r.repeats() > 1) {
        h.append(
                row.repeatsMean() == null
                    ? ""
                    : String.format(Locale.ROOT, "%.3f ± %.3f", row.repeatsMean(), row.repeatsSd()))
            .append("</td><td>");
      }
      if (r.cv()) {
        h.append(
                row.foldMean() == null
                    ? ""
                    : String.format(Locale.ROOT, "%.3f ± %.3f", row.foldMean(), row.foldSd()))
            .append("</td><td>");
      }
      h.append(r.survival() ? String.valueOf(row.testEvents()) : fmt(row.testAuprc()))
          .append("</td><td>")
          .append(r.cv() && Double.isNaN(row.robustnessArea()) ? "-" : fmt(row.robustnessArea()))
          .append("</td><td>")
          .append(row.parameters() == null ? "" : row.parameters().toString())
          .append("</td><td>")
          .append(
              row.trainSeconds() == null
                  ? ""
                  : String.format(Locale.ROOT, "%.1f", row.trainSeconds()))
          .append("</td><td>")
          .append(row.testSubjects())
          .append("</td></tr>\n");
    }
    h.append("</table>\n");

    List<Charts.Line> lines = sizeLines(r);
    if (!lines.isEmpty()) {
      double xMax =
          lines.stream().flatMapToDouble(l -> java.util.Arrays.stream(l.x())).max().orElse(1)
              * 1.05;
      byte[] png =
          Charts.lines(
              (r.cv() ? "Pooled out-of-fold " : "Test ")
                  + metric
                  + " against marginal representation size",
              "embedding size of the varied" + " modality",
              (r.cv() ? "pooled out-of-fold " : "test ") + metric,
              lines,
              false,
              xMax);
      h.append("<h2>")
          .append(metric)
          .append(" against marginal size</h2>\n<img alt=\"")
          .append(metric)
          .append(" against embedding size\" src=\"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(png))
          .append(
              "\">\n<p>One line per varied modality and model: the"
                  + " base cell at the modality's configured size and each cell that changes only that modality.</p>\n");
    }
    h.append("</body></html>\n");
    return h.toString();
  }

  /**
   * Per varied modality and model: (size, AUROC or C) of the base cell and of each cell varying
   * that modality, by size.
   */
  static List<Charts.Line> sizeLines(StudyResult r) {
    Map<String, TreeMap<Integer, Double>> points = new java.util.LinkedHashMap<>();
    List<String> varied =
        r.cells().stream().map(StudyGrid.Cell::varied).filter(v -> v != null).distinct().toList();
    for (String m : varied) {
      for (String model : r.models()) {
        TreeMap<Integer, Double> p = new TreeMap<>();
        for (StudyResult.Row row : r.rows()) {
          if (row.model().equals(model) && (row.varied() == null || row.varied().equals(m))) {
            p.put(row.sizes().get(m), row.metric());
          }
        }
        points.put(m + " / " + model, p);
      }
    }
    List<Charts.Line> lines = new ArrayList<>();
    points.forEach(
        (name, p) ->
            lines.add(
                new Charts.Line(
                    name,
                    p.keySet().stream().mapToDouble(Integer::doubleValue).toArray(),
                    p.values().stream().mapToDouble(Double::doubleValue).toArray())));
    return lines;
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v);
  }

  private static String esc(String s) {
    return s == null
        ? ""
        : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
