package org.cohortfusion.bench;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.evaluate.PairedAuroc;
import org.cohortfusion.fusion.spec.FusionCompiler;
import org.cohortfusion.fusion.spec.FusionSpec;
import org.cohortfusion.spark.MinibatchShards;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.train.Auroc;
import org.cohortfusion.train.Batch;
import org.cohortfusion.train.BatchCodec;
import org.cohortfusion.train.EmbeddingsData;
import org.cohortfusion.train.PresenceWeightedAveraging;
import org.cohortfusion.train.Updaters;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Uniform against presence-weighted parameter averaging ({@link PresenceWeightedAveraging}) on a
 * generated cohort whose missingness depends on the site, with one worker per site: each worker
 * trains on its own site's shards only, so each sees a different missingness mix. Both modes run
 * the same round (same start, shards, order, rounds and updater), differing only in the weights;
 * dl4j-spark's master is not the uniform arm because it rebalances the shards across workers every
 * round and so cannot keep a site on one worker.
 *
 * <p>Reports the test split's AUROC after every epoch and at the end, the paired difference by
 * DeLong's method ({@link PairedAuroc}) and the wall time of each mode's training.
 */
public final class AveragingBench {
  /** Modality sizes: m0 at both sites, m1 mostly at site 0, m2 mostly at site 1. */
  public static final int[] DIMS = {16, 32, 32};

  /** Missing rate of each modality (columns) at each site (rows). */
  public static final double[][] MISSING = {{0.1, 0.1, 0.9}, {0.1, 0.9, 0.1}};

  private AveragingBench() {}

  /** One mode's run. */
  public record Arm(String name, double[] testAurocByEpoch, double seconds, double[] scores) {}

  /** Both runs and their paired comparison (presence-weighted minus uniform). */
  public record Result(
      long trainExamples, int shards, Arm uniform, Arm weighted, PairedAuroc paired) {}

  public static Result run(
      SparkSession spark,
      String workDir,
      long subjects,
      int epochs,
      int averagingFrequency,
      double learningRate,
      long seed,
      boolean weightedFirst,
      Consumer<String> out) {
    String dir = workDir + "/embeddings-" + subjects + "-" + seed;
    EmbeddingsSpec emb = BenchEmbeddings.write(spark, dir, subjects, DIMS, MISSING, seed);
    Dataset<Row> table = EmbeddingsData.table(spark, dir).cache();
    List<Column> rates = new ArrayList<>();
    for (String m : emb.modalityNames()) {
      rates.add(avg(col(Columns.presence(m)).cast("double")).as(m));
    }
    for (Row r :
        table
            .where(col(Columns.SPLIT).equalTo(Columns.Splits.TRAIN))
            .groupBy("site")
            .agg(rates.get(0), rates.subList(1, rates.size()).toArray(new Column[0]))
            .orderBy("site")
            .collectAsList()) {
      StringBuilder b = new StringBuilder("site " + r.getInt(0) + " (worker " + r.getInt(0) + "):");
      for (int i = 0; i < emb.modalityNames().size(); i++) {
        b.append(
            String.format(
                Locale.ROOT, " %s present %.2f", emb.modalityNames().get(i), r.getDouble(i + 1)));
      }
      out.accept(b.toString());
    }
    PipelineConfig config =
        PipelineConfigLoader.parse(
            """
            subjects { path = s.csv }
            modalities { m0 { kind = tabular, path = m0.csv } }
            output { dir = "%s" }
            fusion { models { att { what = [m0, m1, m2], how = attention, projection = 16, head = [32] } } }
            train { batch-size = 64, learning-rate = %s, seed = %d }
            """
                .formatted(workDir, Double.toString(learningRate), seed),
            List.of());
    FusionSpec spec = FusionSpec.all(config.fusion(), emb).get(0);
    FusionCompiler.Compiled compiled =
        FusionCompiler.compile(spec, emb, Updaters.of(config.train()), seed);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<MinibatchShards> written = new ArrayList<>();
    List<Batch> test = EmbeddingsData.collect(table, emb, Columns.Splits.TEST, 1024);
    int[] labels = test.stream().flatMapToInt(b -> java.util.Arrays.stream(b.labels())).toArray();
    try {
      List<List<String>> bySite = new ArrayList<>();
      for (int s = 0; s < MISSING.length; s++) {
        MinibatchShards shards =
            MinibatchShards.write(
                jsc,
                EmbeddingsData.batches(
                    table.where(col("site").equalTo(s)),
                    emb,
                    Columns.Splits.TRAIN,
                    config.train().batchSize()),
                workDir + "/_shards",
                "site-" + s,
                (batch, os) -> {
                  BatchCodec.ARROW.write(batch, os);
                  return batch.size();
                });
        written.add(shards);
        bySite.add(shards.paths());
      }
      long examples = written.stream().mapToLong(MinibatchShards::examples).sum();
      int nShards = bySite.stream().mapToInt(List::size).sum();
      out.accept(
          String.format(
              Locale.ROOT,
              "%d training examples in %d shards (%s per site), %d test examples; %d epochs,"
                  + " averaging every %d minibatches per worker, Adam %s",
              examples,
              nShards,
              bySite.stream().map(l -> String.valueOf(l.size())).toList(),
              labels.length,
              epochs,
              averagingFrequency,
              Double.toString(learningRate)));
      // Untimed: the first fits of a JVM pay for the JIT and ND4J's kernels.
      new PresenceWeightedAveraging(
              jsc, bySite, averagingFrequency, seed, PresenceWeightedAveraging.Weighting.UNIFORM)
          .fitEpoch(compiled.newGraph(), 1, new Loader(emb.numClasses()));
      // Either order: the mode run second may profit from a warmer JVM.
      Arm uniform = null;
      Arm weighted = null;
      for (PresenceWeightedAveraging.Weighting w :
          weightedFirst
              ? List.of(
                  PresenceWeightedAveraging.Weighting.PRESENCE,
                  PresenceWeightedAveraging.Weighting.UNIFORM)
              : List.of(
                  PresenceWeightedAveraging.Weighting.UNIFORM,
                  PresenceWeightedAveraging.Weighting.PRESENCE)) {
        Arm a =
            arm(jsc, compiled, bySite, test, labels, emb, epochs, averagingFrequency, seed, w, out);
        if (w == PresenceWeightedAveraging.Weighting.UNIFORM) {
          uniform = a;
        } else {
          weighted = a;
        }
      }
      PairedAuroc paired = PairedAuroc.of(weighted.scores(), uniform.scores(), labels, 0.95);
      return new Result(examples, nShards, uniform, weighted, paired);
    } finally {
      written.forEach(MinibatchShards::close);
      table.unpersist();
    }
  }

  private static Arm arm(
      JavaSparkContext jsc,
      FusionCompiler.Compiled compiled,
      List<List<String>> bySite,
      List<Batch> test,
      int[] labels,
      EmbeddingsSpec emb,
      int epochs,
      int averagingFrequency,
      long seed,
      PresenceWeightedAveraging.Weighting weighting,
      Consumer<String> out) {
    String name =
        weighting == PresenceWeightedAveraging.Weighting.UNIFORM ? "uniform" : "presence-weighted";
    ComputationGraph graph = compiled.newGraph();
    PresenceWeightedAveraging rounds =
        new PresenceWeightedAveraging(jsc, bySite, averagingFrequency, seed, weighting);
    MultiDataSetLoader loader = new Loader(emb.numClasses());
    double[] aurocs = new double[epochs];
    double seconds = 0;
    double[] scores = null;
    for (int e = 1; e <= epochs; e++) {
      long t0 = System.nanoTime();
      graph.getConfiguration().setEpochCount(e - 1);
      rounds.fitEpoch(graph, e, loader);
      seconds += (System.nanoTime() - t0) / 1e9;
      scores = scores(graph, test);
      boolean[] positive = new boolean[labels.length];
      for (int i = 0; i < labels.length; i++) {
        positive[i] = labels[i] == 1;
      }
      aurocs[e - 1] = Auroc.of(scores, positive);
      out.accept(
          String.format(
              Locale.ROOT,
              "%s epoch %d: test AUROC %.4f (%.1f s of training so far)",
              name,
              e,
              aurocs[e - 1],
              seconds));
    }
    return new Arm(name, aurocs, seconds, scores);
  }

  /** Probability of the positive class per test example, in the batches' order. */
  private static double[] scores(ComputationGraph graph, List<Batch> test) {
    List<Double> s = new ArrayList<>();
    for (Batch b : test) {
      INDArray p = graph.output(false, b.toMultiDataSet().getFeatures())[0];
      for (double v : p.getColumn(1).toDoubleVector()) {
        s.add(v);
      }
    }
    return s.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** A shard as the graph's input: all modalities, then presence. */
  private static final class Loader implements MultiDataSetLoader {
    private static final long serialVersionUID = 1L;
    private final int numClasses;

    Loader(int numClasses) {
      this.numClasses = numClasses;
    }

    @Override
    public MultiDataSet load(Source source) throws IOException {
      try (InputStream in = source.getInputStream()) {
        return BatchCodec.ARROW.read(in, numClasses).toMultiDataSet();
      }
    }
  }
}
