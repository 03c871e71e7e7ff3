package org.cohortfusion.fusion.ops;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Masked building blocks shared by the fusion vertices. All inputs are [batch, ...] 2-d arrays. */
final class FusionMath {

  private FusionMath() {}

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
   * Added to the score of an absent entry before the softmax: its exponential underflows to exactly
   * 0.
   */
  private static final double ABSENT_SCORE = -1e30;

  /**
   * Softmax over the columns of {@code scores} restricted to entries where {@code mask} is 1.
   * Masked entries get weight exactly 0 (their shifted score is about -1e30, whose exponential is
   * 0, and they are multiplied by the mask), so their score values never reach the weights; rows
   * with no unmasked entry get all-zero weights. Nine whole-array ops, whatever the number of
   * columns.
   */
  static INDArray maskedSoftmax(INDArray scores, INDArray mask) {
    // absent: score - 1e30 (present scores are unchanged: mask - 1 is exactly 0 there)
    INDArray z = mask.sub(1.0).muli(-ABSENT_SCORE).addi(scores);
    INDArray max = z.max(true, 1);
    INDArray e = Transforms.exp(z.subiColumnVector(max), false).muli(mask);
    // a present entry's exponential is at least exp(0) = 1 in the row's normaliser, so the tiny
    // term changes
    // nothing there; it makes a row with nothing present divide 0 by 1e-30 instead of by 0
    INDArray norm = e.sum(true, 1).addi(1e-30);
    return e.diviColumnVector(norm);
  }

  /**
   * The [M, sum(sizes)] matrix with ones where column j belongs to modality m: {@code
   * presence.mmul(it)} spreads a [batch, M] presence mask over the columns of the modalities'
   * concatenation in one op.
   */
  static INDArray blockIndicator(int[] sizes, org.nd4j.linalg.api.buffer.DataType dataType) {
    long total = 0;
    for (int s : sizes) {
      total += s;
    }
    INDArray e = Nd4j.zeros(dataType, sizes.length, total);
    long offset = 0;
    for (int m = 0; m < sizes.length; m++) {
      e.get(
              org.nd4j.linalg.indexing.NDArrayIndex.point(m),
              org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + sizes[m]))
          .assign(1.0);
      offset += sizes[m];
    }
    return e;
  }

  /** {@code op(a) op(b)} into a new c-order array (op = transpose where asked): one matmul. */
  static INDArray mm(INDArray a, INDArray b, boolean transposeA, boolean transposeB) {
    long rows = transposeA ? a.size(1) : a.size(0);
    long cols = transposeB ? b.size(0) : b.size(1);
    return Nd4j.gemm(
        a, b, Nd4j.createUninitialized(a.dataType(), rows, cols), transposeA, transposeB, 1.0, 0.0);
  }

  /**
   * {@code out = op(a) op(b) + beta * out}, written into {@code out} (which may be a view, e.g. of
   * the gradient array; beta must be 0 unless out is contiguous).
   */
  static INDArray mmInto(
      INDArray a, INDArray b, INDArray out, boolean transposeA, boolean transposeB, double beta) {
    if (out.elementWiseStride() == 1) {
      return Nd4j.gemm(a, b, out, transposeA, transposeB, 1.0, beta);
    }
    if (beta != 0.0) {
      throw new IllegalArgumentException("accumulating matmul needs a contiguous output");
    }
    return Nd4j.matmul(a, b, out, transposeA, transposeB, false);
  }

  /**
   * {@code out = op(a) op(b)}, written into {@code out} (which may be a view, e.g. of the gradient
   * array).
   */
  static INDArray mmInto(
      INDArray a, INDArray b, INDArray out, boolean transposeA, boolean transposeB) {
    return mmInto(a, b, out, transposeA, transposeB, 0.0);
  }

  /**
   * The modalities side by side, [batch, sum(d_m)], c order (one concat op; the array itself when M
   * = 1).
   */
  static INDArray concat(INDArray[] x) {
    return x.length == 1
        ? (x[0].ordering() == 'c' && !x[0].isView() ? x[0] : x[0].dup('c'))
        : Nd4j.hstack(x);
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
    return a.get(
        org.nd4j.linalg.indexing.NDArrayIndex.all(),
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
