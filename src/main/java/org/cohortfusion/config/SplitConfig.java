package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Subject-level train/validation/test assignment (and optional k-fold assignment). */
public record SplitConfig(
    @JsonPropertyDescription(
            "hash (default): from a hash of subject_id and seed; column: the subjects table's split column.")
        Mode mode,
    @JsonPropertyDescription(
            "Seed mixed into the subject_id hash; same seed and ids give the same splits on any cluster.")
        Long seed,
    @JsonPropertyDescription("Fraction of subjects in the train split.") Double train,
    @JsonPropertyDescription("Fraction of subjects in the validation split.") Double validation,
    @JsonPropertyDescription("Fraction of subjects in the test split.") Double test,
    @JsonPropertyDescription(
            "Stratify the hash split by label so each split gets the label mix of the cohort (exact per label).")
        Boolean stratify,
    @JsonPropertyDescription(
            "k > 1 also assigns cross-validation folds 0..k-1 (column 'fold'); 0 = none. With k >= 3, run and"
                + " study cross-validate (every later stage, or every study cell, per fold).")
        Integer folds,
    @JsonPropertyDescription(
            "Repeated k-fold: run (cross-validation) repeats the folds this many times (default 1), repeat r"
                + " with folds assigned as ingest would with seed + r; for very small cohorts.")
        Integer repeats) {

  public enum Mode {
    HASH,
    COLUMN;

    @JsonCreator
    public static Mode parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("expected hash or column, got '" + value + "'");
      }
    }

    @JsonValue
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public SplitConfig {
    mode = mode == null ? Mode.HASH : mode;
    seed = seed == null ? 17L : seed;
    train = train == null ? 0.7 : train;
    validation = validation == null ? 0.15 : validation;
    test = test == null ? 0.15 : test;
    stratify = stratify == null ? Boolean.TRUE : stratify;
    folds = folds == null ? 0 : folds;
    repeats = repeats == null ? 1 : repeats;
  }

  /** This config with the fold seed of repeat {@code r} (seed + r). */
  public SplitConfig forRepeat(int r) {
    return new SplitConfig(mode, seed + r, train, validation, test, stratify, folds, 1);
  }

  public static SplitConfig defaults() {
    return new SplitConfig(null, null, null, null, null, null, null, null);
  }
}
