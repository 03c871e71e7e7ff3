package org.cohortfusion.stage;

import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.io.Json;

/**
 * qc.json: the exact accounting of an ingest run. For every table rowsIn = accepted + the sum of
 * rejected, where rowsIn is counted on the rows as read, apart from the counts by reason (ingest
 * publishes nothing when they differ); subject-level values never appear, only counts.
 *
 * @param tables per input table
 * @param subjectsAligned subjects in the aligned cohort
 * @param patterns missingness patterns ("clinical+imaging", "none" never occurs) and their counts
 * @param labelBalance split -> label class -> count ("unlabeled" for null labels)
 * @param splitCounts split -> subjects
 * @param warnings what ingest published but a person should look at (empty modality, one label
 *     class, time units that look mixed up), with the counts; never a subject-level value
 */
public record QcReport(
    String cohort,
    Map<String, TableQc> tables,
    long subjectsAligned,
    Map<String, Long> patterns,
    Map<String, Map<String, Long>> labelBalance,
    Map<String, Long> splitCounts,
    java.util.List<Warning> warnings) {

  public QcReport {
    // qc.json files written before warnings existed have none.
    warnings = warnings == null ? java.util.List.of() : java.util.List.copyOf(warnings);
  }

  /**
   * @param code what kind of warning: EMPTY_MODALITY, SINGLE_CLASS, TIME_AFTER_INDEX,
   *     TIME_RANGES_APART, SCHEMA_UNION
   * @param table the table it concerns
   * @param message the warning with its counts
   */
  public record Warning(String code, String table, String message) {}

  /**
   * @param kind subjects or a modality kind
   * @param files data files read
   * @param unreadableFiles files set apart as unreadable (their rows cannot be counted)
   * @param rowsIn rows read from the readable files (after the table's sql), counted before any
   *     check
   * @param accepted rows accepted
   * @param rejected reason code -> rows
   * @param afterIndexTime time series only: accepted observations after the subject's index time,
   *     not used
   * @param subjectsPresent subjects of the aligned cohort that have this modality
   * @param idsTrimmed rows whose subject_id had leading or trailing whitespace removed
   *     (id-whitespace = trim)
   */
  public record TableQc(
      String kind,
      int files,
      int unreadableFiles,
      long rowsIn,
      long accepted,
      Map<String, Long> rejected,
      long afterIndexTime,
      long subjectsPresent,
      long idsTrimmed) {

    public long rejectedTotal() {
      return rejected.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  public static QcReport read(Configuration conf, String cohortDir) {
    return Json.read(conf, cohortDir + "/" + CohortManifest.QC_JSON, QcReport.class);
  }
}
