package org.cohortfusion.evaluate;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Test-time removal of modalities, for robustness curves and ablations (the missing-modality
 * evaluation the review arXiv 2408.02686 asks of intermediate fusion): a removed modality gets
 * presence 0 AND a zero input, exactly as an absent one arrives from the embeddings table.
 *
 * <p>Missing completely at random is keyed: the uniform draw of a (subject, modality) cell is a
 * pure function of (seed, subject id, modality index) — the first 53 bits of SHA-256 over the seed,
 * the modality index and the id's UTF-8 bytes — and a present modality is removed iff its draw is
 * below the rate. So the removals are the same for every model, nested across rates (what is
 * removed at 0.3 is also removed at 0.5: one draw decides every rate), and independent of row order
 * and partitioning: the driver (presence matrices for the metrics) and every executor (the batches
 * it scores) reproduce the same removals without shipping them.
 */
public final class ModalityRemoval {
  private ModalityRemoval() {}

  /** The uniform draw in [0, 1) of one (subject, modality) cell under {@code seed}. */
  public static double draw(long seed, String subjectId, int modality) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Cannot draw removals: no SHA-256 in this JVM", e);
    }
    // Fixed-width seed and modality first, so (seed, modality, id) -> bytes is one-to-one.
    sha.update(ByteBuffer.allocate(12).putLong(seed).putInt(modality).array());
    byte[] h = sha.digest(subjectId.getBytes(StandardCharsets.UTF_8));
    long bits = ByteBuffer.wrap(h).getLong() >>> 11;
    return bits * 0x1.0p-53;
  }

  /** The draws of every (row, modality) cell, {@code n * m} row-major. */
  public static double[] draws(long seed, List<String> subjectIds, int m) {
    double[] out = new double[subjectIds.size() * m];
    for (int r = 0; r < subjectIds.size(); r++) {
      for (int i = 0; i < m; i++) {
        out[r * m + i] = draw(seed, subjectIds.get(r), i);
      }
    }
    return out;
  }

  /**
   * Missing completely at random: the presence ({@code n * m}, row-major) with every present cell
   * removed whose draw ({@link #draws}) is below {@code rate}.
   */
  public static float[] completelyAtRandom(float[] presence, double[] draws, double rate) {
    if (rate < 0 || rate > 1) {
      throw new IllegalArgumentException(
          "Cannot remove modalities: rate " + rate + " is outside [0, 1]");
    }
    if (draws.length != presence.length) {
      throw new IllegalArgumentException(
          "Cannot remove modalities: "
              + draws.length
              + " draws for "
              + presence.length
              + " presence cells");
    }
    float[] out = presence.clone();
    for (int c = 0; c < out.length; c++) {
      if (draws[c] < rate) {
        out[c] = 0f;
      }
    }
    return out;
  }

  /** As {@link #completelyAtRandom(float[], double[], double)} for rows keyed by subject id. */
  public static float[] completelyAtRandom(
      float[] presence, List<String> subjectIds, int m, double rate, long seed) {
    return completelyAtRandom(presence, draws(seed, subjectIds, m), rate);
  }

  /** The presence ({@code n * m}) with modality {@code index} removed from every subject. */
  public static float[] entirely(float[] presence, int m, int index) {
    if (index < 0 || index >= m) {
      throw new IllegalArgumentException(
          "Cannot remove modality " + index + ": the rows hold " + m);
    }
    float[] out = presence.clone();
    for (int c = index; c < out.length; c += m) {
      out[c] = 0f;
    }
    return out;
  }
}
