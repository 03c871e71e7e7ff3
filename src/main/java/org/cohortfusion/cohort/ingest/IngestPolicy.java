package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.config.CheckPolicy;
import org.cohortfusion.config.DuplicatePolicy;
import org.cohortfusion.config.ModalityConfig;
import org.cohortfusion.config.SchemaMerge;
import org.cohortfusion.config.TableFormat;

/**
 * The per-table check policies of the config and what they decide: which check stops the run
 * (error) and which sets rows apart (reject). Kept in one place so that a misplaced or unknown key
 * fails before any table is read, with the key to change in its message.
 */
final class IngestPolicy {
  private IngestPolicy() {}

  /**
   * Every check's policy for the table under config key {@code key}: the default of each reason,
   * overridden by {@code <key>.checks}. A key naming no check fails here, before any table is read.
   */
  static Map<RejectReason, CheckPolicy> policies(String key, Map<String, CheckPolicy> overrides) {
    Map<RejectReason, CheckPolicy> p = new EnumMap<>(RejectReason.class);
    for (RejectReason r : RejectReason.values()) {
      p.put(r, r.defaultPolicy());
    }
    for (Map.Entry<String, CheckPolicy> o : overrides.entrySet()) {
      RejectReason r = RejectReason.forCheck(o.getKey());
      if (r == null || r == RejectReason.DUPLICATE) {
        throw new IngestException(
            "Cannot use config key '"
                + key
                + ".checks."
                + o.getKey()
                + "': unknown check; expected one of "
                + Arrays.stream(RejectReason.values())
                    .filter(x -> x != RejectReason.DUPLICATE)
                    .map(RejectReason::check)
                    .toList()
                + " (duplicates have their own key, "
                + key
                + ".duplicates)");
      }
      p.put(r, o.getValue());
    }
    return p;
  }

  /**
   * null-values means something for CSV only, schema-merge = union for Parquet only: set on the
   * other format, either would be ignored, and a misplaced option should not pass silently.
   */
  static void checkCsvOnlyKeys(
      String key, TableFormat format, List<String> nullValues, SchemaMerge merge) {
    if (format == TableFormat.PARQUET && !nullValues.equals(ModalityConfig.DEFAULT_NULL_VALUES)) {
      throw new IngestException(
          "Cannot use config key '"
              + key
              + ".null-values': it applies to csv tables only (Parquet has nulls)");
    }
    if (format == TableFormat.CSV && merge == SchemaMerge.UNION) {
      throw new IngestException(
          "Cannot use config key '"
              + key
              + ".schema-merge = union': it applies to Parquet tables only;"
              + " the csv files of a table need the same header");
    }
  }

  /** Stops the run when the table has unreadable files and its policy for them is error. */
  static void failOnUnreadable(
      String table, TableSource.Files files, Map<RejectReason, CheckPolicy> policies) {
    if (!files.unreadable().isEmpty()
        && policies.get(RejectReason.UNREADABLE_FILE) == CheckPolicy.ERROR) {
      throw new IngestException(
          "Cannot read table '"
              + table
              + "': "
              + files.unreadable().size()
              + " unreadable file(s), first "
              + files.unreadable().get(0)
              + " (set checks.unreadable-file = reject to set them apart and go on)");
    }
  }

  /**
   * Stops the run at the first reason counted in {@code byReason} whose policy is error, naming the
   * first such row by file and line or row (one small job) and the key that would let it pass.
   */
  static void failOnErrorPolicies(CheckedTable t, Map<String, Long> byReason) {
    for (Map.Entry<String, Long> e : byReason.entrySet()) {
      if (e.getKey().equals("ACCEPTED")) {
        continue;
      }
      RejectReason reason = RejectReason.valueOf(e.getKey());
      boolean error =
          reason == RejectReason.DUPLICATE
              ? t.duplicates().mode() == DuplicatePolicy.Mode.ERROR
              : t.policies().get(reason) == CheckPolicy.ERROR;
      if (!error) {
        continue;
      }
      Row first =
          t.rows()
              .filter(col(CheckedTable.REASON).equalTo(reason.name()))
              .select(TableSource.SOURCE_FILE, TableSource.ROW_ORDER, CheckedTable.MESSAGE)
              .orderBy(TableSource.SOURCE_FILE, TableSource.ROW_ORDER)
              .first();
      String key = t.name().equals("subjects") ? "subjects" : "modalities." + t.name();
      String fix =
          reason == RejectReason.DUPLICATE
              ? "set " + key + ".duplicates = first or latest:<column> to keep one row per key"
              : "set "
                  + key
                  + ".checks."
                  + reason.check()
                  + " = reject to write such rows to rejects";
      throw new IngestException(
          "Cannot ingest table '"
              + t.name()
              + "': "
              + e.getValue()
              + " row(s) fail check '"
              + reason.check()
              + "' ("
              + reason.name()
              + "), first in file "
              + first.get(0)
              + (t.files().format() == TableFormat.CSV ? " at line " : " at row ")
              + first.get(1)
              + ": "
              + first.get(2)
              + "; "
              + fix);
    }
  }
}
