package org.cohortfusion.spark;

import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;

/**
 * dl4j-spark's synchronous parameter averaging over {@link MinibatchShards}, configured in one
 * place for pretrain and train.
 *
 * <p>Every averaging round is a few Spark jobs (split, repartition, broadcast of the parameters and
 * updater state, fit, tree aggregation): tens to hundreds of milliseconds of scheduling and
 * serialisation whatever the batch. A round must therefore carry many minibatches per worker, or
 * the run is all overhead (DL4J's own guidance: below about 10 ms per step, expect little gain).
 * The default frequency gives an epoch at most {@link #ROUNDS_PER_EPOCH} rounds and a round at
 * least {@link #MIN_STEPS_PER_ROUND} minibatches per worker.
 */
public final class ParameterAveraging {
  /** Upper bound on averaging rounds per epoch chosen by default. */
  public static final int ROUNDS_PER_EPOCH = 2;

  /** Lower bound on minibatches per worker between two averagings chosen by default. */
  public static final int MIN_STEPS_PER_ROUND = 5;

  private ParameterAveraging() {}

  /**
   * The averaging frequency to use: the configured one, or the default for this many shards and
   * workers.
   */
  public static int averagingFrequency(Integer configured, long shards, int workers) {
    if (configured != null) {
      return configured;
    }
    long perWorker = (shards + workers - 1) / workers;
    return (int)
        Math.max(MIN_STEPS_PER_ROUND, (perWorker + ROUNDS_PER_EPOCH - 1) / ROUNDS_PER_EPOCH);
  }

  /**
   * A training master for shards of {@code batchSize} examples each: every round, each of {@code
   * workers} replicas fits {@code averagingFrequency} shards (dl4j-spark splits the path list and
   * repartitions it evenly), then the parameters and the updater state are averaged.
   */
  public static ParameterAveragingTrainingMaster master(
      int workers, int batchSize, int averagingFrequency, long seed) {
    return new ParameterAveragingTrainingMaster.Builder(workers, batchSize)
        .batchSizePerWorker(batchSize)
        .averagingFrequency(averagingFrequency)
        .workerPrefetchNumBatches(0)
        .repartionData(Repartition.Always)
        .repartitionStrategy(RepartitionStrategy.Balanced)
        .saveUpdater(true)
        .rngSeed(seed)
        .build();
  }
}
