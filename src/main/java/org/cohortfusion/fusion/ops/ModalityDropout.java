package org.cohortfusion.fusion.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Modality dropout for training: randomly marks present modalities as absent in the presence mask, so that the
 * network learns to fuse any subset of modalities (cf. ModDrop, Neverova et al. 2016, arXiv 1501.00102). Apply it
 * to the presence input at TRAINING time only; never at evaluation.
 *
 * <p>Each present entry is dropped independently with probability {@code rate}; if that would drop every present
 * modality of a subject, one of its present modalities (chosen at random) is kept. Absent entries stay absent and
 * rows with nothing present are unchanged.
 */
public final class ModalityDropout {

    private ModalityDropout() {
    }

    /** A new presence mask ([batch, M], 0/1) with modality dropout applied; the input is not modified. */
    public static INDArray apply(INDArray presence, double rate, Random rng) {
        if (presence == null || presence.rank() != 2) {
            throw new IllegalArgumentException("presence must be a [batch, M] array");
        }
        if (!(rate >= 0.0 && rate < 1.0)) {
            throw new IllegalArgumentException("Modality dropout rate must be in [0, 1), got " + rate);
        }
        INDArray out = presence.dup();
        if (rate == 0.0) {
            return out;
        }
        long rows = presence.size(0);
        long cols = presence.size(1);
        for (long b = 0; b < rows; b++) {
            List<Long> present = new ArrayList<>();
            List<Long> dropped = new ArrayList<>();
            for (long m = 0; m < cols; m++) {
                if (presence.getDouble(b, m) != 0.0) {
                    present.add(m);
                    if (rng.nextDouble() < rate) {
                        dropped.add(m);
                    }
                }
            }
            if (!present.isEmpty() && dropped.size() == present.size()) {
                dropped.remove(rng.nextInt(dropped.size()));
            }
            for (long m : dropped) {
                out.putScalar(b, m, 0.0);
            }
        }
        return out;
    }
}
