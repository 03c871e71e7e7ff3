package org.cohortfusion.cohort;

import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.io.Json;

/**
 * stats.json: normalisation statistics fitted on the train split only, so that no validation or
 * test value leaks into preprocessing. Keyed by modality name.
 */
public record NormalizationStats(long trainSubjects, Map<String, ModalityStats> modalities) {

  /** Statistics of one modality; fields that do not apply to its kind are null. */
  public record ModalityStats(
      Map<String, ColumnMoments> numeric,
      Map<String, List<String>> vocabularies,
      double[] mean,
      double[] std) {}

  /** Mean, sample standard deviation (1.0 when undefined) and non-null count of one column. */
  public record ColumnMoments(double mean, double std, long count) {}

  public static NormalizationStats read(Configuration conf, String cohortDir) {
    return Json.read(conf, cohortDir + "/" + CohortManifest.STATS, NormalizationStats.class);
  }
}
