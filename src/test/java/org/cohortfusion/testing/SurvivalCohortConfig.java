package org.cohortfusion.testing;

import java.nio.file.Path;

/**
 * The pipeline config of a generated cohort (clinical and labs, from {@code generate}) read as a
 * survival outcome: each subject's event time is derived from the generated label — positives have
 * their event (or censoring) 1-3 units after the index time, negatives 2-6 — so the models have
 * something to find. Small encoders and few epochs; a test appends its own keys (HOCON merges a
 * later object into an earlier one and a later value replaces an earlier one).
 */
public final class SurvivalCohortConfig {
  private SurvivalCohortConfig() {}

  /**
   * The config of run {@code name} over the generated tables in {@code cohort}, writing to {@code
   * out}.
   */
  public static String of(String name, Path cohort, Path out) {
    return """
        name = %s
        cohort-dir = "%s"
        subjects {
          path = subjects
          sql = \"\"\"
            SELECT *, index_time + CASE WHEN label = 1 THEN 1 + pmod(hash(subject_id), 100) / 50.0
                                        ELSE 2 + pmod(hash(subject_id), 100) / 25.0 END AS event_time
            FROM source
          \"\"\"
          outcome { kind = survival, intervals = [1.5, 2.5, 4, 6], horizons = [2, 3] }
        }
        modalities {
          clinical { kind = tabular, path = clinical }
          labs { kind = timeseries, path = labs, steps = 4 }
        }
        splits { seed = 5 }
        output { dir = "%s" }
        pretrain.encoders {
          clinical { embedding-size = 4, hidden = [8], epochs = 2 }
          labs { embedding-size = 4, cell = cnn, epochs = 2 }
        }
        fusion { default = mean, models { mean { what = [clinical, labs], how = mean, projection = 4, head = [8] } } }
        train { mode = local, validation = driver, epochs = 2, batch-size = 32 }
        """
        .formatted(name, cohort, out);
  }
}
