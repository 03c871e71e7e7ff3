package org.cohortfusion.evaluate.report;

import java.util.List;

/**
 * What report wrote.
 *
 * @param indexHtml path of the self-contained {@code index.html}
 * @param comparisonTable the comparison table as fixed-width text (also printed by the CLI)
 * @param summary best model by test AUROC, its margin over the best unimodal model, its worst
 *     missingness pattern
 * @param figures ids of the embedded figures ({@code <img id=...>}), in page order
 * @param notes statements about what the report could not show and why (e.g. no per-epoch training
 *     history)
 */
public record ReportResult(
    String indexHtml,
    String comparisonTable,
    String summary,
    List<String> figures,
    List<String> notes) {
  public ReportResult {
    figures = List.copyOf(figures);
    notes = List.copyOf(notes);
  }
}
