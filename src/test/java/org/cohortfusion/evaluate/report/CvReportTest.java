package org.cohortfusion.evaluate.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.cohortfusion.evaluate.ClassificationMetrics;
import org.cohortfusion.evaluate.CrossValidationResult;
import org.cohortfusion.evaluate.EvaluateResult;
import org.junit.jupiter.api.Test;

/**
 * The cross-validation page's pattern table and robustness emphasis, from a result constructed
 * here.
 */
class CvReportTest {
  static final int MIN = 60;

  private static CrossValidationResult.Model model(String name, String kind, double auroc) {
    ClassificationMetrics m = new ClassificationMetrics(auroc, 0.5, 0.7, 0.7, 0.2, 0.05, 1000);
    CrossValidationResult.MeanSd sd = new CrossValidationResult.MeanSd(auroc, 0.01);
    // Sizes in no particular order; b (7) and a+c (12) are under the threshold.
    List<EvaluateResult.PatternMetrics> patterns = new ArrayList<>();
    Map.of("a+b", 300L, "b", 7L, "a+b+c", 500L, "a+c", 12L, "a", 181L)
        .forEach((p, n) -> patterns.add(new EvaluateResult.PatternMetrics(p, n, n < MIN, m)));
    return new CrossValidationResult.Model(
        name,
        kind,
        name,
        m,
        auroc - 0.02,
        auroc + 0.02,
        List.of(new CrossValidationResult.FoldMetrics(0, m)),
        sd,
        sd,
        sd,
        sd,
        patterns,
        List.of(sd, sd),
        Map.of());
  }

  @Test
  void patternsBySizeSmallOnesFoldedAndBestModelsNamedBold() {
    CrossValidationResult r =
        new CrossValidationResult(
            3,
            2,
            1000,
            "inner validation",
            MIN,
            List.of(0.0, 0.5),
            List.of(
                model("early", "early", 0.9),
                model("mean", "fusion", 0.8),
                model("attn", "fusion", 0.85),
                model("unimodal:a", "unimodal", 0.7),
                model("linear", "classical", 0.75)),
            List.of(),
            Map.of(),
            null,
            "cv/metrics.json",
            List.of(),
            null,
            null);
    String html = CvReport.html(r, "cv-test");
    String table = html.substring(html.indexOf("<table id=\"patterns\">"));
    table = table.substring(0, table.indexOf("</table>"));
    List<String> rows = new ArrayList<>();
    Matcher row =
        Pattern.compile("<tr[^>]*><td class=\"l\">([^<]*)</td><td>(\\d+)</td>").matcher(table);
    while (row.find()) {
      rows.add(row.group(1) + "=" + row.group(2));
    }
    assertEquals(
        List.of("a+b+c=500", "a+b=300", "a=181", "other patterns (19 subjects, 2 patterns)=19"),
        rows);
    String folded = html.substring(html.indexOf("<details id=\"small-patterns\">"));
    assertTrue(
        folded.indexOf("<td class=\"l\">a+c</td><td>12</td>")
            < folded.indexOf("<td class=\"l\">b</td><td>7</td>"),
        folded);
    assertTrue(
        html.contains(
            "Bold: attn (best fusion, blue), unimodal:a (best unimodal, vermillion), linear (best"
                + " classical, bluish green); thin grey: every other model."),
        "robustness emphasis");
  }
}
