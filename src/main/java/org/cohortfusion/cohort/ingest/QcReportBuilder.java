package org.cohortfusion.cohort.ingest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.spark.internal.ValueCounts;
import org.cohortfusion.stage.ModalitySpec;
import org.cohortfusion.stage.QcReport;

/**
 * Builds the QC report from counts gathered elsewhere (no job of its own): per table the rows by
 * reason, the aligned subjects by presence pattern, label and split, and the warnings that should
 * be read before the cohort is used.
 */
final class QcReportBuilder {
  /**
   * A time series with at least this share of its accepted observations after the index time looks
   * like a unit mix-up.
   */
  static final double AFTER_INDEX_WARNING_SHARE = 0.99;

  private final PipelineConfig config;
  private final TrimmedIds trimmedIds;

  QcReportBuilder(PipelineConfig config, TrimmedIds trimmedIds) {
    this.config = config;
    this.trimmedIds = trimmedIds;
  }

  /**
   * The observed QC groups as rows of (presence flags..., split, label, count), as {@link #report}
   * reads them.
   */
  static List<Row> qcGroups(Map<String, Object> observed, List<ModalitySpec> specs) {
    List<Row> rows = new ArrayList<>();
    ValueCounts.fromResult(observed.get(AlignedWriter.QC_GROUPS_METRIC))
        .forEach(
            (group, n) -> {
              String[] parts = group.split("\\|", 3);
              Object[] values = new Object[specs.size() + 3];
              for (int i = 0; i < specs.size(); i++) {
                values[i] = parts[0].charAt(i) == '1';
              }
              values[specs.size()] = parts[2];
              values[specs.size() + 1] = parts[1].equals("-") ? null : Integer.valueOf(parts[1]);
              values[specs.size() + 2] = n;
              rows.add(RowFactory.create(values));
            });
    return rows;
  }

  /**
   * {@code rowsIn}: per table, its rows as read, counted apart from {@code counts} ({@link
   * RowsRead}); {@code groups}: rows of (presence flags..., split, label, count) of the aligned
   * cohort.
   */
  QcReport report(
      List<CheckedTable> tables,
      Map<String, Long> rowsIn,
      Map<String, Map<String, Long>> counts,
      Map<String, Long> afterIndex,
      List<Row> groups,
      List<ModalitySpec> specs,
      List<String> classes) {
    Map<String, Long> patterns = new TreeMap<>();
    Map<String, Long> present = new LinkedHashMap<>();
    Map<String, Map<String, Long>> balance = new TreeMap<>();
    Map<String, Long> splitCounts = new TreeMap<>();
    long total = 0;
    int k = specs.size();
    for (Row r : groups) {
      long n = r.getLong(k + 2);
      List<String> names = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        if (r.getBoolean(i)) {
          names.add(specs.get(i).name());
          present.merge(specs.get(i).name(), n, Long::sum);
        }
      }
      patterns.merge(String.join("+", names), n, Long::sum);
      String label = r.isNullAt(k + 1) ? "unlabeled" : classes.get(r.getInt(k + 1));
      balance.computeIfAbsent(r.getString(k), s -> new TreeMap<>()).merge(label, n, Long::sum);
      splitCounts.merge(r.getString(k), n, Long::sum);
      total += n;
    }
    Map<String, QcReport.TableQc> tableQc = new LinkedHashMap<>();
    for (CheckedTable t : tables) {
      Map<String, Long> byReason = new TreeMap<>(counts.get(t.name()));
      long accepted = byReason.getOrDefault("ACCEPTED", 0L);
      byReason.remove("ACCEPTED");
      tableQc.put(
          t.name(),
          new QcReport.TableQc(
              t.kind(),
              t.files().readable().size(),
              t.files().unreadable().size(),
              rowsIn.get(t.name()),
              accepted,
              byReason,
              afterIndex.getOrDefault(t.name(), 0L),
              t.name().equals("subjects") ? total : present.getOrDefault(t.name(), 0L),
              trimmedIds.of(t.name())));
    }
    return new QcReport(config.name(), tableQc, total, patterns, balance, splitCounts, List.of());
  }

  /** Aligned subjects with a label (any split). */
  static long labeledSubjects(QcReport qc) {
    return qc.labelBalance().values().stream()
        .flatMap(m -> m.entrySet().stream())
        .filter(e -> !e.getKey().equals("unlabeled"))
        .mapToLong(Map.Entry::getValue)
        .sum();
  }

  /**
   * The report with what should be looked at before the cohort is used: a modality no aligned
   * subject has, a single label class, and for time series a unit mix-up of 'time' and
   * subjects.index_time (nearly every accepted observation after its subject's index time, or the
   * two time ranges far apart). All from counts the aligned write gathered.
   */
  QcReport withWarnings(
      QcReport qc,
      Map<String, ModalityJoin> joins,
      Map<String, Object> alignedCounts,
      long labeled,
      Map<String, List<String>> schemaWarnings) {
    List<QcReport.Warning> warnings = new ArrayList<>();
    for (Map.Entry<String, QcReport.TableQc> e : qc.tables().entrySet()) {
      QcReport.TableQc t = e.getValue();
      String name = e.getKey();
      if (name.equals("subjects")) {
        continue;
      }
      if (t.subjectsPresent() == 0) {
        String why =
            t.rowsIn() == 0
                ? "the table is empty"
                : t.accepted() == 0
                    ? "all " + t.rowsIn() + " rows were rejected " + t.rejected()
                    : t.accepted()
                        + " of "
                        + t.rowsIn()
                        + " rows were accepted but none is used"
                        + (t.afterIndexTime() > 0
                            ? " (" + t.afterIndexTime() + " after index_time)"
                            : "");
        warnings.add(
            new QcReport.Warning(
                "EMPTY_MODALITY",
                name,
                "modality '"
                    + name
                    + "' ("
                    + config.resolve(config.modalities().get(name).path())
                    + "): no aligned subject has it: "
                    + why));
      }
      if (joins.get(name) instanceof ModalityJoin.TimeSeries ts) {
        if (t.accepted() > 0 && t.afterIndexTime() >= AFTER_INDEX_WARNING_SHARE * t.accepted()) {
          warnings.add(
              new QcReport.Warning(
                  "TIME_AFTER_INDEX",
                  name,
                  String.format(
                      Locale.ROOT,
                      "time series '%s': %d of %d accepted observations (%.1f%%) fall after their subject's index_time and are not used;"
                          + " are column 'time' and subjects.index_time in one unit?",
                      name,
                      t.afterIndexTime(),
                      t.accepted(),
                      100.0 * t.afterIndexTime() / t.accepted())));
        }
        ts.timeRanges(alignedCounts)
            .filter(ModalityJoin.TimeRanges::apart)
            .ifPresent(
                r ->
                    warnings.add(
                        new QcReport.Warning(
                            "TIME_RANGES_APART",
                            name,
                            String.format(
                                Locale.ROOT,
                                "time series '%s': the times of its %d accepted observations and the index times of their subjects do not overlap"
                                    + " (gap %.3g times the wider range; magnitudes %.3g-fold apart); are column 'time' and subjects.index_time in one unit?",
                                name,
                                t.accepted(),
                                r.wider() == 0 ? Double.POSITIVE_INFINITY : r.gap() / r.wider(),
                                r.scaleRatio()))));
      }
    }
    for (Map.Entry<String, List<String>> e : schemaWarnings.entrySet()) {
      for (String w : e.getValue()) {
        warnings.add(
            new QcReport.Warning("SCHEMA_UNION", e.getKey(), "table '" + e.getKey() + "': " + w));
      }
    }
    long classesSeen =
        qc.labelBalance().values().stream()
            .flatMap(m -> m.keySet().stream())
            .filter(k -> !k.equals("unlabeled"))
            .distinct()
            .count();
    if (labeled > 0 && classesSeen == 1) {
      warnings.add(
          new QcReport.Warning(
              "SINGLE_CLASS",
              "subjects",
              "all "
                  + labeled
                  + " labeled subjects of table 'subjects' have the same value in column 'label': one class, nothing to discriminate"
                  + " (pretrain and train need two)"));
    }
    return new QcReport(
        qc.cohort(),
        qc.tables(),
        qc.subjectsAligned(),
        qc.patterns(),
        qc.labelBalance(),
        qc.splitCounts(),
        warnings);
  }
}
