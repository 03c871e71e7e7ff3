package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/**
 * What the label of the subjects table means: classes (binary or multiclass), or a survival outcome
 * — the event indicator in {@code label} (1 = the event, 0 = censored) and the time of the event or
 * of censoring in {@code event_time}, on index_time's clock. A survival subject enters at its index
 * time (a landmark): one whose event or censoring came at or before it is rejected.
 */
public record OutcomeConfig(
    @JsonPropertyDescription(
            "classes (default) or survival (label = event indicator 0/1, event_time = time of the event or of censoring, in index_time's unit).")
        Kind kind,
    @JsonPropertyDescription(
            "survival: upper bounds of the follow-up intervals of the discrete-time hazard model, as times after index_time (increasing, > 0), e.g. [365, 730, 1095, 1460, 1826].")
        List<Double> intervals,
    @JsonPropertyDescription(
            "survival: times after index_time at which evaluate reports time-dependent AUROC and Brier score (default: the last interval bound).")
        List<Double> horizons) {

  /** classes or survival. */
  public enum Kind {
    CLASSES,
    SURVIVAL;

    @com.fasterxml.jackson.annotation.JsonCreator
    public static Kind parse(String s) {
      for (Kind k : values()) {
        if (k.name().equalsIgnoreCase(s)) {
          return k;
        }
      }
      throw new ConfigException(
          "Bad value for config key 'subjects.outcome.kind': "
              + s
              + " (expected classes or survival)");
    }
  }

  public OutcomeConfig {
    kind = kind == null ? Kind.CLASSES : kind;
    intervals = intervals == null ? List.of() : List.copyOf(intervals);
    if (kind == Kind.SURVIVAL) {
      if (intervals.isEmpty()) {
        throw new ConfigException(
            "Bad value for config key 'subjects.outcome.intervals': a survival outcome needs the"
                + " follow-up intervals' upper bounds, e.g. [365, 730, 1095]");
      }
      for (int j = 0; j < intervals.size(); j++) {
        if (!(intervals.get(j) > (j == 0 ? 0 : intervals.get(j - 1)))) {
          throw new ConfigException(
              "Bad value for config key 'subjects.outcome.intervals': "
                  + intervals
                  + " must be positive and increasing");
        }
      }
    }
    horizons =
        horizons == null || horizons.isEmpty()
            ? (intervals.isEmpty() ? List.of() : List.of(intervals.get(intervals.size() - 1)))
            : List.copyOf(horizons);
    for (double h : horizons) {
      if (!(h > 0)) {
        throw new ConfigException(
            "Bad value for config key 'subjects.outcome.horizons': "
                + horizons
                + " must be positive");
      }
    }
  }

  public static OutcomeConfig classes() {
    return new OutcomeConfig(Kind.CLASSES, null, null);
  }

  public boolean survival() {
    return kind == Kind.SURVIVAL;
  }
}
