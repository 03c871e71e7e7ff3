package org.cohortfusion.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.TrainConfig;
import org.cohortfusion.fusion.spec.FusionCompiler;
import org.cohortfusion.fusion.spec.FusionSpec;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.train.Batch;
import org.cohortfusion.train.BatchCodec;
import org.cohortfusion.train.EmbeddingsData;
import org.cohortfusion.train.TrainAction;
import org.cohortfusion.train.TrainResult;
import org.cohortfusion.train.Updaters;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Training throughput of one model, all measured in the same run: single process ({@code
 * ComputationGraph.fit}), Spark parameter averaging with 1 and 2 workers, and a reference network
 * of plain DL4J dense layers with the same parameter count, inputs and batch size (what DL4J itself
 * reaches on this machine for a network of that size). Throughput is training samples/s of the last
 * epoch (data loading and validation excluded); wall time is the whole train run of the model
 * (shards, every epoch, validation, checkpoints).
 */
public final class TrainBench {
  private TrainBench() {}

  /**
   * @param params parameters of the fusion network
   * @param local single-process samples/s
   * @param spark1 Spark, 1 worker
   * @param spark2 Spark, 2 workers
   * @param dense the dense reference network, single process
   * @param localSeconds whole run, single process
   * @param spark2Seconds whole run, Spark with 2 workers
   */
  public record Result(
      String model,
      long params,
      double local,
      double spark1,
      double spark2,
      double dense,
      double localSeconds,
      double spark2Seconds) {
    public String describe() {
      if (Double.isNaN(spark1)) {
        return String.format(
            Locale.ROOT,
            "%s (%,d params): samples/s local %.0f | dense reference %.0f (local/dense %.2fx, target >= 0.7) | run time local %.1f s"
                + " (Spark runs skipped)",
            model,
            params,
            local,
            dense,
            local / dense,
            localSeconds);
      }
      return String.format(
          Locale.ROOT,
          "%s (%,d params): samples/s local %.0f | dense reference %.0f (local/dense %.2fx, target >= 0.7) | spark 1 worker %.0f"
              + " (%.2fx local, target >= 0.8) | spark 2 workers %.0f (%.2fx 1 worker, target >= 1.6) | run time local %.1f s,"
              + " spark 2 workers %.1f s (%.2fx)",
          model,
          params,
          local,
          dense,
          local / dense,
          spark1,
          spark1 / local,
          spark2,
          spark2 / spark1,
          localSeconds,
          spark2Seconds,
          spark2Seconds / localSeconds);
    }
  }

  /**
   * Trains {@code model} (a fusion.models key or a baseline name) for {@code epochs} epochs, early
   * stopping off.
   */
  public static Result run(
      SparkSession spark,
      PipelineConfig config,
      String model,
      int epochs,
      String workDir,
      Consumer<String> out) {
    return run(spark, config, model, epochs, workDir, true, out);
  }

  /**
   * As {@link #run(SparkSession, PipelineConfig, String, int, String, Consumer)}; without {@code
   * withSpark} only the single-process run and the dense reference (the Spark results are NaN).
   */
  public static Result run(
      SparkSession spark,
      PipelineConfig config,
      String model,
      int epochs,
      String workDir,
      boolean withSpark,
      Consumer<String> out) {
    return run(spark, config, model, epochs, workDir, withSpark, 1, out);
  }

  /**
   * As above; with {@code repeats > 1} the single-process run and the dense reference are repeated
   * in interleaved pairs and the median of the pairs' ratios is printed as well.
   */
  public static Result run(
      SparkSession spark,
      PipelineConfig config,
      String model,
      int epochs,
      String workDir,
      boolean withSpark,
      int repeats,
      Consumer<String> out) {
    TrainConfig base = config.train().withEpochs(epochs).withPatience(epochs + 1);
    // Untimed: the first training of a model in a JVM pays for class loading, JIT and ND4J's first
    // allocations.
    once(
        spark,
        config,
        model,
        base.withMode(TrainConfig.Mode.LOCAL).withEpochs(1),
        workDir + "/warmup-local");
    if (withSpark) {
      once(
          spark,
          config,
          model,
          base.withMode(TrainConfig.Mode.SPARK).withEpochs(1),
          workDir + "/warmup-spark");
    }
    Run local =
        once(spark, config, model, base.withMode(TrainConfig.Mode.LOCAL), workDir + "/local");
    Run s1 = new Run(Double.NaN, Double.NaN);
    Run s2 = new Run(Double.NaN, Double.NaN);
    if (withSpark) {
      s1 =
          once(
              spark,
              config,
              model,
              base.withMode(TrainConfig.Mode.SPARK).withWorkers(1),
              workDir + "/spark1");
      s2 = spark2(spark, config, model, base, workDir);
    }
    EmbeddingsSpec emb =
        EmbeddingsSpec.read(spark.sparkContext().hadoopConfiguration(), config.embeddingsDir());
    FusionSpec spec =
        FusionSpec.all(config.fusion(), emb).stream()
            .filter(s -> s.name().equals(model))
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "Cannot bench model '" + model + "': not declared"));
    FusionCompiler.Compiled compiled =
        FusionCompiler.compile(spec, emb, Updaters.of(base), base.seed());
    // Every trainable parameter: the graph's flat parameter array. (ComputationGraph.numParams()
    // counts only the
    // layers', not those of the fusion vertices: their attention, gate and factor weights and, with
    // the projections
    // inside the vertices, the projections too.)
    long params = compiled.newGraph().params().length();
    double dense = denseReference(spark, config, emb, compiled.modalities(), params, base, epochs);
    if (repeats > 1) {
      // Interleaved pairs (single process, then the dense reference), the pairs' ratios' median: a
      // loaded machine
      // stalls single epochs of a small network by several times their length.
      double[] locals = new double[repeats];
      double[] denses = new double[repeats];
      double[] ratios = new double[repeats];
      locals[0] = local.samplesPerSecond;
      denses[0] = dense;
      for (int i = 1; i < repeats; i++) {
        locals[i] =
            once(
                    spark,
                    config,
                    model,
                    base.withMode(TrainConfig.Mode.LOCAL),
                    workDir + "/local-" + i)
                .samplesPerSecond;
        denses[i] = denseReference(spark, config, emb, compiled.modalities(), params, base, epochs);
      }
      for (int i = 0; i < repeats; i++) {
        ratios[i] = locals[i] / denses[i];
      }
      java.util.Arrays.sort(ratios);
      out.accept(
          String.format(
              Locale.ROOT,
              "%s: %d interleaved pairs, local/dense per pair %s; median %.2fx (local median %.0f,"
                  + " dense median %.0f samples/s)",
              model,
              repeats,
              java.util.Arrays.stream(ratios)
                  .mapToObj(x -> String.format(Locale.ROOT, "%.2f", x))
                  .toList(),
              median(ratios),
              median(locals),
              median(denses)));
    }
    Result r =
        new Result(
            model,
            params,
            local.samplesPerSecond,
            s1.samplesPerSecond,
            s2.samplesPerSecond,
            dense,
            local.seconds,
            s2.seconds);
    out.accept(r.describe());
    return r;
  }

  private record Run(double samplesPerSecond, double seconds) {}

  private static double median(double[] values) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static Run spark2(
      SparkSession spark, PipelineConfig config, String model, TrainConfig base, String workDir) {
    // Embedded, both workers are task threads of this JVM sharing ND4J's native thread pool: each
    // gets its share of
    // the cores, as an executor of one core per task would on a cluster, instead of oversubscribing
    // them.
    int threads = Nd4j.getEnvironment().maxThreads();
    Nd4j.getEnvironment().setMaxThreads(Math.max(1, threads / 2));
    try {
      return once(
          spark,
          config,
          model,
          base.withMode(TrainConfig.Mode.SPARK).withWorkers(2),
          workDir + "/spark2");
    } finally {
      Nd4j.getEnvironment().setMaxThreads(threads);
    }
  }

  private static Run once(
      SparkSession spark, PipelineConfig config, String model, TrainConfig train, String dir) {
    long t0 = System.nanoTime();
    TrainResult r =
        TrainAction.of(spark, config)
            .train(train)
            .models(List.of(model))
            .outputDir(dir)
            .progress(l -> {})
            .execute();
    return new Run(r.get(model).samplesPerSecond(), (System.nanoTime() - t0) / 1e9);
  }

  /**
   * A network of dense layers (inputs: every modality's embedding and the presence mask,
   * concatenated; one hidden layer sized to the fusion network's parameter count), trained
   * single-process on the same minibatches.
   */
  private static double denseReference(
      SparkSession spark,
      PipelineConfig config,
      EmbeddingsSpec emb,
      List<String> modalities,
      long params,
      TrainConfig train,
      int epochs) {
    int[] columns = modalities.stream().mapToInt(emb::indexOf).toArray();
    List<DataSet> batches = new ArrayList<>();
    for (Batch b :
        EmbeddingsData.collect(
            EmbeddingsData.table(spark, config.embeddingsDir()),
            emb,
            Columns.Splits.TRAIN,
            train.batchSize())) {
      MultiDataSet mds = b.select(columns, -1).toMultiDataSet();
      batches.add(new DataSet(Nd4j.hstack(mds.getFeatures()), mds.getLabels(0)));
    }
    int inputs = (int) batches.get(0).getFeatures().size(1);
    int classes = emb.numClasses();
    int hidden = (int) Math.max(1, (params - classes) / (inputs + 1 + classes));
    MultiLayerConfiguration conf =
        new NeuralNetConfiguration.Builder()
            .seed(train.seed())
            .updater(Updaters.of(train))
            .weightInit(WeightInit.XAVIER)
            .dataType(DataType.FLOAT)
            .list()
            .layer(
                new DenseLayer.Builder()
                    .nIn(inputs)
                    .nOut(hidden)
                    .activation(Activation.RELU)
                    .build())
            .layer(
                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .nIn(hidden)
                    .nOut(classes)
                    .activation(Activation.SOFTMAX)
                    .build())
            .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    long examples = batches.stream().mapToLong(DataSet::numExamples).sum();
    double seconds = 0;
    for (int e = 0; e < epochs; e++) {
      long t0 = System.nanoTime();
      for (DataSet d : batches) {
        net.fit(d);
      }
      seconds = (System.nanoTime() - t0) / 1e9;
    }
    return examples / seconds;
  }

  /**
   * Writes and reads back every training minibatch of the config's embeddings in each shard format,
   * in memory (the codec's cost, without storage), {@code repetitions} times in alternating order;
   * prints the best time of each.
   */
  public static void shardFormats(
      SparkSession spark, PipelineConfig config, int repetitions, Consumer<String> out)
      throws java.io.IOException {
    EmbeddingsSpec emb =
        EmbeddingsSpec.read(spark.sparkContext().hadoopConfiguration(), config.embeddingsDir());
    List<Batch> batches =
        EmbeddingsData.collect(
            EmbeddingsData.table(spark, config.embeddingsDir()),
            emb,
            Columns.Splits.TRAIN,
            config.train().batchSize());
    BatchCodec[] codecs = BatchCodec.values();
    double[] writeBest = new double[codecs.length];
    double[] readBest = new double[codecs.length];
    long[] bytes = new long[codecs.length];
    java.util.Arrays.fill(writeBest, Double.MAX_VALUE);
    java.util.Arrays.fill(readBest, Double.MAX_VALUE);
    for (int rep = 0; rep < repetitions; rep++) {
      for (int k = 0; k < codecs.length; k++) {
        int c = rep % 2 == 0 ? k : codecs.length - 1 - k;
        List<byte[]> written = new ArrayList<>(batches.size());
        long t0 = System.nanoTime();
        for (Batch b : batches) {
          java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();
          codecs[c].write(b, buffer);
          written.add(buffer.toByteArray());
        }
        long t1 = System.nanoTime();
        for (byte[] w : written) {
          codecs[c].read(new java.io.ByteArrayInputStream(w), emb.numClasses()).toMultiDataSet();
        }
        long t2 = System.nanoTime();
        writeBest[c] = Math.min(writeBest[c], (t1 - t0) / 1e9);
        readBest[c] = Math.min(readBest[c], (t2 - t1) / 1e9);
        bytes[c] = written.stream().mapToLong(w -> w.length).sum();
      }
    }
    for (int c = 0; c < codecs.length; c++) {
      out.accept(
          String.format(
              Locale.ROOT,
              "shard format %s: %d batches, %.1f MB; write %.3f s, read into ND4J %.3f s"
                  + " (best of %d)",
              codecs[c].name().toLowerCase(Locale.ROOT),
              batches.size(),
              bytes[c] / 1e6,
              writeBest[c],
              readBest[c],
              repetitions));
    }
    int arrow = BatchCodec.ARROW.ordinal();
    int dl4j = BatchCodec.DL4J.ordinal();
    out.accept(
        String.format(
            Locale.ROOT,
            "shard format arrow/dl4j time: write %.2fx, read %.2fx (the default is the faster)",
            writeBest[arrow] / writeBest[dl4j],
            readBest[arrow] / readBest[dl4j]));
  }

  /**
   * The compute-bound configuration of the benchmark over {@link BenchEmbeddings} in {@code dir}.
   */
  public static String largeConfig(String dir) {
    return """
        name = bench-train
        subjects { path = unused }
        modalities { m0 { kind = vector, path = unused, length = 32 } }
        output { dir = "%s" }
        fusion {
          baselines = []
          models { attention { what = [m0, m1, m2, m3, m4], how = attention, projection = 64, head = [64] } }
        }
        train { batch-size = 256 }
        """
        .formatted(dir);
  }
}
