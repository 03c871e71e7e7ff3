package org.cohortfusion.testing;

import java.nio.file.Path;

/**
 * The pipeline config of a generated cohort (clinical and labs, from {@code generate}) with its
 * class labels, for the study tests: small encoders and one fusion model, {@code mean}. A test
 * appends its own keys, e.g. its study block or {@code splits.folds} (HOCON merges a later object
 * into an earlier one and a later value replaces an earlier one).
 */
public final class StudyCohortConfig {
  private StudyCohortConfig() {}

  /**
   * The config of run {@code name} over the generated tables in {@code cohort}, writing to {@code
   * out}, with {@code epochs} for every encoder's pretraining and for train.
   */
  public static String of(String name, Path cohort, Path out, int epochs) {
    return """
        name = %s
        cohort-dir = "%s"
        subjects { path = subjects }
        modalities {
          clinical { kind = tabular, path = clinical }
          labs { kind = timeseries, path = labs, steps = 4 }
        }
        splits { seed = 5 }
        output { dir = "%s" }
        pretrain.encoders {
          clinical { embedding-size = 4, hidden = [8], epochs = %d }
          labs { embedding-size = 4, cell = cnn, epochs = %d }
        }
        fusion { default = mean, models {
          mean { what = [clinical, labs], how = mean, projection = 4, head = [8] }
        } }
        train { mode = local, epochs = %d, batch-size = 32 }
        """
        .formatted(name, cohort, out, epochs, epochs, epochs);
  }
}
