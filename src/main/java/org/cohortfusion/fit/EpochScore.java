package org.cohortfusion.fit;

import java.util.List;
import java.util.Map;

/**
 * What one epoch scored on the validation split.
 *
 * @param key what epochs are ranked by, compared element by element: higher is better, a later
 *     element breaks the ties of the earlier ones, and NaN (undefined, such as AUROC on a split of
 *     one class) ranks below every number
 * @param loss the validation loss the history records (NaN when not computed)
 * @param rank the validation rank statistic the history records: AUROC, or C for survival heads
 * @param metrics what the epoch's checkpoint records in its provenance
 */
public record EpochScore(List<Double> key, double loss, double rank, Map<String, Double> metrics) {
  /**
   * Differences up to this size are ties: two evaluations of one network differ by rounding only.
   */
  static final double TOLERANCE = 1e-9;

  public EpochScore {
    if (key.isEmpty()) {
      throw new IllegalArgumentException("Cannot rank epochs: an empty score key");
    }
    key = List.copyOf(key);
    // In the caller's order: checkpoints' provenance.json lists them so, the same in every run.
    metrics = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metrics));
  }

  /** Ranked by the lower validation loss. */
  public static EpochScore byLoss(double loss, double rank, Map<String, Double> metrics) {
    return new EpochScore(List.of(-loss), loss, rank, metrics);
  }

  /** Ranked by the higher rank statistic (AUROC, C). */
  public static EpochScore byRank(double rank, double loss, Map<String, Double> metrics) {
    return new EpochScore(List.of(rank), loss, rank, metrics);
  }

  /**
   * Ranked by the higher rank statistic, ties (and an undefined statistic) broken by the higher
   * {@code tieBreak}.
   */
  public static EpochScore byRankThen(
      double rank, double tieBreak, double loss, Map<String, Double> metrics) {
    return new EpochScore(List.of(rank, tieBreak), loss, rank, metrics);
  }

  /** Whether this score beats the best key so far ({@code null}: no epoch yet, so it does). */
  public boolean improves(List<Double> best) {
    if (best == null) {
      return true;
    }
    if (best.size() != key.size()) {
      throw new IllegalArgumentException(
          "Cannot compare epoch scores: keys of " + key.size() + " and " + best.size() + " values");
    }
    for (int i = 0; i < key.size(); i++) {
      double c = key.get(i);
      double b = best.get(i);
      if (Double.isNaN(c) && Double.isNaN(b)) {
        continue;
      }
      if (Double.isNaN(b)) {
        return true;
      }
      if (Double.isNaN(c)) {
        return false;
      }
      if (c > b + TOLERANCE) {
        return true;
      }
      if (c < b - TOLERANCE) {
        return false;
      }
    }
    return false;
  }
}
