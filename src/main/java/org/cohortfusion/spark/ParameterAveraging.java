package org.cohortfusion.spark;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;

/**
 * dl4j-spark's synchronous parameter averaging over {@link MinibatchShards}, configured in one
 * place for pretrain and train.
 *
 * <p>Every averaging round is a few Spark jobs (a count of the round's shards, broadcast of the
 * parameters and updater state, fit, tree aggregation): tens to hundreds of milliseconds of
 * scheduling and serialisation whatever the batch. A round must therefore carry many minibatches
 * per worker, or the run is all overhead (DL4J's own guidance: below about 10 ms per step, expect
 * little gain). The default frequency gives an epoch at most {@link #ROUNDS_PER_EPOCH} rounds and a
 * round at least {@link #MIN_STEPS_PER_ROUND} minibatches per worker; a single worker fits the
 * whole epoch in one round.
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
    if (workers == 1) {
      // Nothing to average with: a round boundary would only cost a broadcast and a collect.
      return (int) Math.max(1, perWorker);
    }
    return (int)
        Math.max(MIN_STEPS_PER_ROUND, (perWorker + ROUNDS_PER_EPOCH - 1) / ROUNDS_PER_EPOCH);
  }

  /**
   * How one run averages: {@code workers} replicas, each fitting {@code averagingFrequency} shards
   * per round; the shards' order per epoch drawn from {@code seed}.
   *
   * <p>dl4j-spark's master is handed one round at a time, already cut and partitioned ({@link #of},
   * {@link #rdd}), never a whole epoch. Given a whole epoch it rounds its number of splits down
   * ({@code SparkUtils.balancedRandomSplit}), so a split can hold more than {@code workers x
   * averagingFrequency} shards, and each worker then stops after {@code averagingFrequency}
   * minibatches ({@code maxBatchesPerWorker}): the rest of the split is never fitted. With the
   * default frequency (two rounds an epoch) that dropped about half of the train split in every
   * epoch, and the same half every time, since the shards came in the same order.
   */
  public record Rounds(int workers, int averagingFrequency, long seed) {
    public Rounds {
      if (workers < 1 || averagingFrequency < 1) {
        throw new IllegalArgumentException(
            "Cannot average parameters: need at least one worker and an averaging frequency >= 1");
      }
    }

    /**
     * The epoch's rounds: every shard once, in an order drawn from (seed, epoch), cut into runs of
     * at most {@code workers x averagingFrequency}.
     */
    public List<List<String>> of(List<String> paths, int epoch) {
      List<String> order = new ArrayList<>(paths);
      Collections.shuffle(order, new Random(seed * 1_000_003L + epoch));
      int perRound = workers * averagingFrequency;
      List<List<String>> out = new ArrayList<>();
      for (int from = 0; from < order.size(); from += perRound) {
        out.add(List.copyOf(order.subList(from, Math.min(order.size(), from + perRound))));
      }
      return out;
    }

    /**
     * One round's shards in {@code workers} partitions of at most {@code averagingFrequency} each,
     * which the master keeps as they are ({@link Repartition#Never}): a partition per replica.
     */
    public JavaRDD<String> rdd(JavaSparkContext jsc, List<String> round) {
      return jsc.parallelize(round, workers);
    }

    /**
     * A training master for shards of {@code batchSize} examples each: every round, each of the
     * replicas fits its partition of the round's shards, then the parameters and the updater state
     * are averaged.
     */
    public ParameterAveragingTrainingMaster master(int batchSize) {
      return new ParameterAveragingTrainingMaster.Builder(workers, batchSize)
          .batchSizePerWorker(batchSize)
          .averagingFrequency(averagingFrequency)
          .workerPrefetchNumBatches(0)
          .repartionData(Repartition.Never)
          .saveUpdater(true)
          .rngSeed(seed)
          .build();
    }
  }
}
