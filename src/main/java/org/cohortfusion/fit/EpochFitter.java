package org.cohortfusion.fit;

/**
 * How a network is trained for one epoch: in this process over minibatches it holds, or by
 * parameter averaging over minibatch shards on the executors ({@link AveragedFitter}).
 *
 * @param <M> the network type
 */
public interface EpochFitter<M> {
  /**
   * Trains {@code model} for epoch {@code epoch} (1-based) and returns the network as it stands
   * after it: parameter averaging hands back another object than it was given.
   */
  M fitEpoch(M model, int epoch);

  /** The training examples one epoch visits (for throughput). */
  long examples();
}
