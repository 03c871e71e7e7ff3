package org.cohortfusion.fusion.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Modality dropout for training: randomly marks present modalities as absent in the presence mask,
 * so that the network learns to fuse any subset of modalities (cf. ModDrop, Neverova et al. 2016,
 * arXiv 1501.00102), and ({@link #hide}) zeroes the dropped modalities' inputs. Apply it at
 * TRAINING time only; never at evaluation.
 *
 * <p>Each present entry is dropped independently with probability {@code rate}; if that would drop
 * every present modality of a subject, one of its present modalities (chosen at random) is kept.
 * Absent entries stay absent and rows with nothing present are unchanged.
 */
public final class ModalityDropout {

  private ModalityDropout() {}

  /**
   * Modality dropout on a whole batch of graph inputs: the modalities' inputs in presence order,
   * the presence mask last. Returns new inputs in which every dropped modality has presence 0 and a
   * zero input, as an absent modality arrives from the embeddings table and as evaluation removes
   * one ({@code evaluate.ModalityRemoval}): a path that reads the inputs without the mask (the wide
   * path of {@code FusionSpec.Wide}) then sees the modality gone too. The given arrays are not
   * modified (they may be a cached batch's).
   */
  public static INDArray[] hide(INDArray[] inputs, double rate, Random rng) {
    INDArray[] out = inputs.clone();
    int p = out.length - 1;
    INDArray before = inputs[p];
    INDArray after = apply(before, rate, rng);
    out[p] = after;
    int cols = (int) before.size(1);
    if (cols != p) {
      throw new IllegalArgumentException(
          "Cannot hide modalities: " + p + " modality inputs for " + cols + " presence columns");
    }
    double[] lost = before.sub(after).dup('c').data().asDouble();
    for (int m = 0; m < p; m++) {
      for (int r = 0; r < lost.length / cols; r++) {
        if (lost[r * cols + m] != 0.0) {
          if (out[m] == inputs[m]) {
            out[m] = inputs[m].dup();
          }
          out[m].slice(r).assign(0);
        }
      }
    }
    return out;
  }

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
