package org.cohortfusion.fusion.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Modality dropout for training: randomly marks present modalities as absent in the presence mask,
 * so that the network learns to fuse any subset of modalities (cf. ModDrop, Neverova et al. 2016,
 * arXiv 1501.00102). Apply it to the presence input at TRAINING time only; never at evaluation.
 *
 * <p>Each present entry is dropped independently with probability {@code rate}; if that would drop
 * every present modality of a subject, one of its present modalities (chosen at random) is kept.
 * Absent entries stay absent and rows with nothing present are unchanged.
 */
public final class ModalityDropout {

  private ModalityDropout() {}

  /**
   * A new presence mask ([batch, M], 0/1) with modality dropout applied; the input is not modified.
   */
  public static INDArray apply(INDArray presence, double rate, Random rng) {
    if (presence == null || presence.rank() != 2) {
      throw new IllegalArgumentException("presence must be a [batch, M] array");
    }
    if (!(rate >= 0.0 && rate < 1.0)) {
      throw new IllegalArgumentException("Modality dropout rate must be in [0, 1), got " + rate);
    }
    if (rate == 0.0) {
      return presence.dup();
    }
    // On a Java copy: one read and one write of the array, not an ND4J call per entry.
    int rows = (int) presence.size(0);
    int cols = (int) presence.size(1);
    double[] in = presence.dup('c').data().asDouble();
    double[] out = in.clone();
    List<Integer> present = new ArrayList<>();
    List<Integer> dropped = new ArrayList<>();
    for (int b = 0; b < rows; b++) {
      present.clear();
      dropped.clear();
      for (int m = 0; m < cols; m++) {
        if (in[b * cols + m] != 0.0) {
          present.add(m);
          if (rng.nextDouble() < rate) {
            dropped.add(m);
          }
        }
      }
      if (!present.isEmpty() && dropped.size() == present.size()) {
        dropped.remove(rng.nextInt(dropped.size()));
      }
      for (int m : dropped) {
        out[b * cols + m] = 0.0;
      }
    }
    return Nd4j.create(out, new long[] {rows, cols}, 'c').castTo(presence.dataType());
  }
}
