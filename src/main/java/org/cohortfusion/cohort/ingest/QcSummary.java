package org.cohortfusion.cohort.ingest;

import java.util.Map;
import org.cohortfusion.stage.QcReport;

/**
 * The short, readable QC summary (qc.txt, and what the CLI prints): counts only, never subject
 * values.
 */
public final class QcSummary {
  private static final int SHOWN_PATTERNS = 8;

  private QcSummary() {}

  public static String render(QcReport qc) {
    StringBuilder s = new StringBuilder();
    s.append("QC summary of cohort '").append(qc.cohort()).append("'\n\n");
    if (!qc.warnings().isEmpty()) {
      // First and loud: a warning is about the science, and a long table would bury it.
      s.append("WARNINGS (").append(qc.warnings().size()).append(", also in qc.json):\n");
      qc.warnings()
          .forEach(
              w ->
                  s.append("  ! [").append(w.code()).append("] ").append(w.message()).append("\n"));
      s.append("\n");
    }
    s.append(
        String.format(
            "%-14s %-10s %10s %10s %10s  %s%n",
            "table", "kind", "rows in", "accepted", "rejected", "rejected by reason"));
    for (Map.Entry<String, QcReport.TableQc> e : qc.tables().entrySet()) {
      QcReport.TableQc t = e.getValue();
      s.append(
          String.format(
              "%-14s %-10s %10d %10d %10d  %s%s%n",
              e.getKey(),
              t.kind(),
              t.rowsIn(),
              t.accepted(),
              t.rejectedTotal(),
              t.rejected().isEmpty() ? "-" : t.rejected().toString(),
              t.unreadableFiles() > 0
                  ? "  (" + t.unreadableFiles() + " unreadable file(s) set apart)"
                  : ""));
      if (t.idsTrimmed() > 0) {
        s.append(
            String.format(
                "%-14s %-10s %10s %10d subject_id values trimmed of whitespace (id-whitespace = trim)%n",
                "", "", "", t.idsTrimmed()));
      }
      if (t.afterIndexTime() > 0) {
        s.append(
            String.format(
                "%-14s %-10s %10s %10d observations after index_time, not used%n",
                "", "", "", t.afterIndexTime()));
      }
    }
    s.append("\nSubjects aligned: ").append(qc.subjectsAligned()).append("\n");
    s.append("\nModality presence:\n");
    qc.tables()
        .forEach(
            (name, t) -> {
              if (!t.kind().equals("subjects")) {
                s.append(
                    String.format(
                        "  %-14s %8d  (%5.1f%%)%n",
                        name, t.subjectsPresent(), pct(t.subjectsPresent(), qc.subjectsAligned())));
              }
            });
    s.append("\nMissingness patterns (modalities present):\n");
    qc.patterns().entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(SHOWN_PATTERNS)
        .forEach(e -> s.append(String.format("  %8d  %s%n", e.getValue(), e.getKey())));
    if (qc.patterns().size() > SHOWN_PATTERNS) {
      long rest =
          qc.patterns().values().stream()
              .sorted(java.util.Comparator.reverseOrder())
              .skip(SHOWN_PATTERNS)
              .mapToLong(Long::longValue)
              .sum();
      s.append(
          String.format(
              "  %8d  in %d other patterns (all in qc.json)%n",
              rest, qc.patterns().size() - SHOWN_PATTERNS));
    }
    s.append("\nLabel balance per split:\n");
    qc.labelBalance()
        .forEach(
            (split, labels) ->
                s.append(
                    String.format(
                        "  %-11s %8d  %s%n", split, qc.splitCounts().get(split), labels)));
    return s.toString();
  }

  private static double pct(long part, long whole) {
    return whole == 0 ? 0.0 : 100.0 * part / whole;
  }
}
