package org.cohortfusion.fit;

import java.util.List;
import java.util.function.IntFunction;
import org.apache.spark.api.java.JavaSparkContext;
import org.cohortfusion.spark.MinibatchShards;
import org.cohortfusion.spark.ParameterAveraging;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;

/**
 * An epoch of dl4j-spark's synchronous parameter averaging over the minibatch shards of the train
 * split: every shard once, one {@code fitPaths} call per averaging round, each replica fitting its
 * partition of the round ({@link ParameterAveraging.Rounds}).
 */
public final class AveragedFitter {
  private AveragedFitter() {}

  /**
   * A multi-layer network (pretrain's encoders), every epoch's shards read by {@code loader}, each
   * fitted with the random draws {@link SeededShards} gives it. Continues from the network it is
   * handed, whose parameters become the replicas' start.
   */
  public static EpochFitter<MultiLayerNetwork> network(
      JavaSparkContext jsc,
      ParameterAveraging.Rounds rounds,
      int batchSize,
      MinibatchShards shards,
      DataSetLoader loader) {
    return new EpochFitter<>() {
      private SparkDl4jMultiLayer net;

      @Override
      public MultiLayerNetwork fitEpoch(MultiLayerNetwork model, int epoch) {
        if (net == null || net.getNetwork() != model) {
          net = new SparkDl4jMultiLayer(jsc, model, rounds.master(batchSize));
        }
        net.getNetwork().getLayerWiseConfigurations().setEpochCount(epoch - 1);
        DataSetLoader seeded = SeededShards.of(loader, rounds.seed(), epoch);
        for (List<String> round : rounds.of(shards.paths(), epoch)) {
          net.fitPaths(rounds.rdd(jsc, round), seeded);
        }
        return net.getNetwork();
      }

      @Override
      public long examples() {
        return shards.examples();
      }
    };
  }

  /**
   * A computation graph (train's fusion networks), epoch {@code e}'s shards read by {@code
   * loaders.apply(e)} (the loader may draw per epoch, as modality dropout does), each fitted with
   * the random draws {@link SeededShards} gives it.
   */
  public static EpochFitter<ComputationGraph> graph(
      JavaSparkContext jsc,
      ParameterAveraging.Rounds rounds,
      int batchSize,
      MinibatchShards shards,
      IntFunction<MultiDataSetLoader> loaders) {
    return new EpochFitter<>() {
      private SparkComputationGraph net;

      @Override
      public ComputationGraph fitEpoch(ComputationGraph model, int epoch) {
        if (net == null || net.getNetwork() != model) {
          net = new SparkComputationGraph(jsc, model, rounds.master(batchSize));
        }
        net.getNetwork().getConfiguration().setEpochCount(epoch - 1);
        MultiDataSetLoader seeded = SeededShards.of(loaders.apply(epoch), rounds.seed(), epoch);
        for (List<String> round : rounds.of(shards.paths(), epoch)) {
          net.fitPaths(rounds.rdd(jsc, round), seeded);
        }
        return net.getNetwork();
      }

      @Override
      public long examples() {
        return shards.examples();
      }
    };
  }
}
