package org.cohortfusion.evaluate;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.cohortfusion.train.Batch;

/**
 * Test-time removal of modalities, for robustness curves and ablations (the missing-modality
 * evaluation the review arXiv 2408.02686 asks of intermediate fusion): a removed modality gets
 * presence 0 AND a zero input, exactly as an absent one arrives from the embeddings table.
 */
public final class ModalityRemoval {
  private ModalityRemoval() {}

  /**
   * Missing completely at random: every present modality of every subject is removed independently
   * with probability {@code rate}. One uniform draw per (subject, modality) cell, in row order,
   * decides every rate (removed iff the draw is below the rate): with the same seed the removals
   * are the same for every model and nested across rates (what is removed at 0.3 is also removed at
   * 0.5), so a curve over rates shows the effect of the rate, not of new draws.
   */
  public static List<Batch> completelyAtRandom(List<Batch> batches, double rate, long seed) {
    if (rate < 0 || rate > 1) {
      throw new IllegalArgumentException(
          "Cannot remove modalities: rate " + rate + " is outside [0, 1]");
    }
    Random rng = new Random(seed);
    List<Batch> out = new ArrayList<>(batches.size());
    for (Batch b : batches) {
      int m = b.numModalities();
      boolean[] remove = new boolean[b.size() * m];
      for (int r = 0; r < b.size(); r++) {
        for (int i = 0; i < m; i++) {
          boolean draw =
              rng.nextDouble()
                  < rate; // drawn for every cell: the stream does not depend on presence
          remove[r * m + i] = draw && b.presence()[r * m + i] != 0f;
        }
      }
      out.add(removed(b, remove));
    }
    return out;
  }

  /** Modality {@code index} (position in the embeddings' order) removed from every subject. */
  public static List<Batch> entirely(List<Batch> batches, int index) {
    List<Batch> out = new ArrayList<>(batches.size());
    for (Batch b : batches) {
      int m = b.numModalities();
      if (index < 0 || index >= m) {
        throw new IllegalArgumentException(
            "Cannot remove modality " + index + ": the batches hold " + m);
      }
      boolean[] remove = new boolean[b.size() * m];
      for (int r = 0; r < b.size(); r++) {
        remove[r * m + index] = true;
      }
      out.add(removed(b, remove));
    }
    return out;
  }

  private static Batch removed(Batch b, boolean[] remove) {
    int m = b.numModalities();
    float[] presence = b.presence().clone();
    float[][] features = new float[m][];
    for (int i = 0; i < m; i++) {
      features[i] = b.features()[i].clone();
    }
    for (int r = 0; r < b.size(); r++) {
      for (int i = 0; i < m; i++) {
        if (remove[r * m + i]) {
          presence[r * m + i] = 0f;
          java.util.Arrays.fill(features[i], r * b.dims()[i], (r + 1) * b.dims()[i], 0f);
        }
      }
    }
    return new Batch(
        b.dims().clone(),
        features,
        presence,
        b.labels().clone(),
        b.numClasses(),
        null,
        null,
        b.survival());
  }
}
