package org.cohortfusion.evaluate.report;

import java.util.List;
import java.util.Locale;
import org.cohortfusion.evaluate.SurvivalEvaluation;

/**
 * The survival comparison table of the evaluation page and of the cross-validation page: one row
 * per model, in the caller's order, with its name, kind, C-index and 95% interval, the page's own
 * columns, and the paired difference in C against the best unimodal model. A missing value shows as
 * "-".
 */
final class SurvivalTable {
  private SurvivalTable() {}

  /**
   * One model's row.
   *
   * @param cells the page's own columns, as HTML, in the order of the table's headers
   */
  record Row(
      String name, String kind, double c, double cLower, double cUpper, List<String> cells) {}

  /**
   * The table as HTML, ending with {@code </table>}.
   *
   * @param cHeader header of the C-index column
   * @param headers headers of the page's own columns (HTML)
   * @param pairedHeader header of the paired difference column
   * @param comparisons the paired differences, by model name; a model without one gets "-"
   */
  static String html(
      String cHeader,
      List<String> headers,
      String pairedHeader,
      List<Row> rows,
      List<SurvivalEvaluation.PairedC> comparisons) {
    StringBuilder h =
        new StringBuilder("<table><tr><th class=\"l\">model</th><th class=\"l\">kind</th><th>")
            .append(cHeader)
            .append("</th>");
    headers.forEach(c -> h.append("<th>").append(c).append("</th>"));
    h.append("<th>").append(pairedHeader).append("</th></tr>\n");
    for (Row m : rows) {
      String paired =
          comparisons.stream()
              .filter(c -> c.model().equals(m.name()))
              .findFirst()
              .map(
                  c ->
                      String.format(
                          Locale.ROOT,
                          "%+.3f [%+.3f, %+.3f]",
                          c.difference(),
                          c.lower(),
                          c.upper()))
              .orElse("-");
      h.append("<tr><td class=\"l\">")
          .append(ReportAction.esc(m.name()))
          .append("</td><td class=\"l\">")
          .append(ReportAction.esc(m.kind()))
          .append("</td><td>")
          .append(CvReport.fmt(m.c()))
          .append(" [")
          .append(CvReport.fmt(m.cLower()))
          .append(", ")
          .append(CvReport.fmt(m.cUpper()))
          .append("]</td>");
      m.cells().forEach(c -> h.append("<td>").append(c).append("</td>"));
      h.append("<td>").append(paired).append("</td></tr>\n");
    }
    return h.append("</table>").toString();
  }
}
