package org.cohortfusion.fusion.ops;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Masked building blocks shared by the fusion vertices. All inputs are [batch, ...] 2-d arrays. */
final class FusionMath {

    private FusionMath() {
    }

    /** Column m of the presence mask as a [batch, 1] array. */
    static INDArray col(INDArray a, int m) {
        return a.getColumn(m, true);
    }

    /** [batch, 1]: 1 where at least one modality is present, else 0. */
    static INDArray anyPresent(INDArray presence) {
        return presence.sum(true, 1).gt(0).castTo(presence.dataType());
    }

    /** [batch, 1]: 1 / (number present), 0 where none is present. */
    static INDArray inverseCount(INDArray presence) {
        INDArray count = presence.sum(true, 1);
        INDArray any = count.gt(0).castTo(presence.dataType());
        return any.div(count.add(any.rsub(1.0)));
    }

    /**
     * Softmax over the columns of {@code scores} restricted to entries where {@code mask} is 1. Masked entries get
     * weight exactly 0 (they never enter the normaliser, and their score is not even exponentiated); rows with no
     * unmasked entry get all-zero weights.
     */
    static INDArray maskedSoftmax(INDArray scores, INDArray mask) {
        INDArray forMax = scores.mul(mask).addi(mask.rsub(1.0).muli(-1e30));
        INDArray max = forMax.max(true, 1);
        INDArray shifted = scores.subColumnVector(max).muli(mask);
        INDArray e = Transforms.exp(shifted, false).muli(mask);
        INDArray z = e.sum(true, 1);
        INDArray safe = z.add(z.eq(0).castTo(z.dataType()));
        return e.divColumnVector(safe);
    }

    /** dL/dscores of a (masked) softmax, given its output weights and dL/dweights. */
    static INDArray softmaxBackward(INDArray weights, INDArray dWeights) {
        INDArray dot = weights.mul(dWeights).sum(true, 1);
        return weights.mul(dWeights.subColumnVector(dot));
    }

    /** Row-wise dot products of two [batch, d] arrays, as [batch, 1]. */
    static INDArray rowDot(INDArray a, INDArray b) {
        return a.mul(b).sum(true, 1);
    }

    /** Columns of a [batch, total] array from offset (inclusive), width columns wide. */
    static INDArray columns(INDArray a, long offset, long width) {
        return a.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + width));
    }

    /** [h ; 1] with h zero-filled where absent: the "append 1" trick of tensor fusion, masked. */
    static INDArray withOne(INDArray x, INDArray presenceColumn) {
        return Nd4j.hstack(x.mulColumnVector(presenceColumn), Nd4j.ones(x.dataType(), x.size(0), 1));
    }

    /** tanh derivative given tanh output. */
    static INDArray tanhGrad(INDArray tanhOut) {
        return tanhOut.mul(tanhOut).rsubi(1.0);
    }
}
