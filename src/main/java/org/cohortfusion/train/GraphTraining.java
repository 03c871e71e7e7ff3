package org.cohortfusion.train;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.TrainConfig;
import org.cohortfusion.fit.AveragedFitter;
import org.cohortfusion.fit.EarlyStopping;
import org.cohortfusion.fit.EpochFitter;
import org.cohortfusion.fit.EpochScore;
import org.cohortfusion.fusion.spec.FusionCompiler;
import org.cohortfusion.fusion.spec.FusionSpec;
import org.cohortfusion.io.BuildInfo;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.spark.MinibatchShards;
import org.cohortfusion.spark.ParameterAveraging;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.stage.TrainOutputs;
import org.cohortfusion.stage.TrainState;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * The training of one compiled fusion graph for {@link TrainAction}: early stopping over the epochs
 * of its {@link EpochFitter} (in this process, or on Spark by parameter averaging over the train
 * split's shards), a checkpoint after every epoch and the resume from the last one, an optional
 * warm start, and the best model published with its provenance. Late fusion trains no graph: {@link
 * TrainAction} builds it from the published unimodal models.
 */
final class GraphTraining {
  private final SparkSession spark;
  private final PipelineConfig config;
  private final TrainAction.Options o;

  GraphTraining(SparkSession spark, PipelineConfig config, TrainAction.Options o) {
    this.spark = spark;
    this.config = config;
    this.o = o;
  }

  /**
   * The data a graph trains on: the embeddings, or for end-to-end models the aligned cohort's
   * preprocessed features ({@code inputs} then describes them: per-example sizes, in the
   * embeddings' modality order).
   */
  record Data(
      EmbeddingsSpec inputs,
      List<Batch> trainLocal,
      Function<String, MinibatchShards> trainShards,
      HeldOut validation) {
    Data withShards(Function<String, MinibatchShards> shards) {
      return new Data(inputs, trainLocal, shards, validation);
    }
  }

  /** {@code s}'s graph over the embeddings, or over the cohort's features through its encoders. */
  FusionCompiler.Compiled compile(FusionSpec s, EmbeddingsSpec emb, EndToEndInputs e2e) {
    TrainConfig t = o.train();
    if (!s.endToEnd()) {
      return FusionCompiler.compile(s, emb, Updaters.of(t), t.seed());
    }
    FusionCompiler.Encoders encoders =
        e2e.encoders(
            s,
            config.pretrain(),
            t.seed(),
            Updaters.of(t, s.encoderLearningRate(), s.freezeEncoderEpochs()));
    return FusionCompiler.compile(s, e2e.inputs(), Updaters.of(t), t.seed(), encoders);
  }

  /**
   * Trains {@code spec}'s graph on {@code data} until it stops early or runs its epochs (a run
   * bounded by {@link TrainAction#interruptAfter} returns a result that is not completed), from a
   * fresh initialisation, a warm start or, with resume, its last checkpoint, and publishes the best
   * epoch's model.
   */
  TrainResult.ModelResult train(
      Configuration hconf, FusionSpec spec, EmbeddingsSpec emb, Data data, EndToEndInputs e2e) {
    TrainConfig t = o.train();
    String dir = TrainOutputs.modelRoot(o.outputDir(), spec.name());
    String ck = TrainOutputs.checkpoints(dir);
    FusionCompiler.Compiled compiled = compile(spec, emb, e2e);
    EmbeddingsSpec inputs = data.inputs();
    HeldOut validation = data.validation();
    boolean[] masked = FusionCompiler.maskedInputs(compiled.configuration());
    int[] columns = compiled.modalities().stream().mapToInt(inputs::indexOf).toArray();
    int require =
        spec.kind() == FusionSpec.Kind.UNIMODAL ? inputs.indexOf(compiled.modalities().get(0)) : -1;
    EarlyStopping<ComputationGraph> loop =
        new EarlyStopping<>(
            hconf,
            ck,
            new EarlyStopping.Checkpoints<>() {
              @Override
              public void save(String to, ComputationGraph graph, Map<String, Double> metrics) {
                ModelArtifact.save(hconf, to, graph, provenance(spec, compiled, emb, e2e, metrics));
              }

              @Override
              public ComputationGraph load(String from) {
                return ModelArtifact.loadGraph(hconf, from).model();
              }
            },
            new EarlyStopping.Schedule(t.epochs(), t.patience(), t.seed(), o.interruptAfter()));

    TrainState state = o.resume() ? loop.previous() : null;
    ComputationGraph graph;
    if (state != null) {
      if (state.epoch() == 0) {
        graph = compiled.newGraph();
      } else {
        ModelArtifact.Loaded<ComputationGraph> last =
            ModelArtifact.loadGraph(hconf, loop.epochDir(state.epoch()));
        checkResumable(spec, emb, last.provenance(), loop.epochDir(state.epoch()));
        graph = last.model();
      }
      o.progress()
          .accept(
              String.format(
                  Locale.ROOT,
                  "[%s] resuming after epoch %d (best AUROC %.4f at epoch %d)%s",
                  spec.name(),
                  state.epoch(),
                  state.bestAuroc(),
                  state.bestEpoch(),
                  state.done() ? ", already finished" : ""));
    } else {
      // Only the checkpoints: the published model stays until the new one replaces it, so a failed
      // retrain leaves the last good model in place.
      state = loop.fresh();
      graph = compiled.newGraph();
      if (o.warmStart().containsKey(spec.name())) {
        warmStart(graph, spec, o.warmStart().get(spec.name()));
      }
    }

    String modelDir = TrainOutputs.published(dir);
    if (state.done() && TrainedModels.exists(hconf, modelDir + "/" + ModelArtifact.MODEL)) {
      // Finished in an earlier run: report the published model (SHA-256 verified), do not retrain
      // or republish.
      ModelArtifact.Loaded<ComputationGraph> done = ModelArtifact.loadGraph(hconf, modelDir);
      // Unless it is an older run's model, kept because this run stopped between its last epoch and
      // the publish.
      if (!TrainedModels.exists(hconf, loop.bestDir())
          || done.model().params().equals(loop.best().params())) {
        Metrics m = validation.score(done.model(), columns, emb.numClasses());
        return new TrainResult.ModelResult(
            spec.name(),
            TrainAction.kindName(spec),
            spec.describe(),
            modelDir,
            done.sha256(),
            state.bestEpoch(),
            state.epoch(),
            state.stoppedEarly(),
            true,
            m,
            0,
            parameters(done.model()),
            null);
      }
    }
    double samplesPerSecond = 0;
    if (!state.done()) {
      EpochFitter<ComputationGraph> fitter =
          fitter(spec, compiled, emb, data, columns, require, masked);
      if (fitter.examples() == 0) {
        throw new IllegalStateException(
            "Cannot train '"
                + spec.name()
                + "': no labeled training examples"
                + (require >= 0 ? " with modality '" + compiled.modalities().get(0) + "'" : ""));
      }
      double[] lastSamplesPerSecond = {0};
      state =
          loop.run(
              graph,
              state,
              fitter,
              g -> {
                Metrics m = validation.score(g, columns, emb.numClasses());
                return t.earlyStopping() == TrainConfig.EarlyStopping.LOSS
                    ? EpochScore.byLoss(m.loss(), m.auroc(), m.asMap())
                    : EpochScore.byRank(m.auroc(), m.loss(), m.asMap());
              },
              e -> {
                lastSamplesPerSecond[0] = e.samplesPerSecond();
                o.progress()
                    .accept(
                        String.format(
                            Locale.ROOT,
                            "[%s] epoch %d/%d  val loss %.4f  val %s %.4f%s  %.0f samples/s  ETA %.0fs%s",
                            spec.name(),
                            e.epoch(),
                            e.epochs(),
                            e.score().loss(),
                            emb.survival() ? "C" : "AUROC",
                            e.score().rank(),
                            e.improved() ? " *" : "",
                            e.samplesPerSecond(),
                            e.secondsLeft(),
                            e.stopped()
                                ? "  (early stop: no improvement in " + e.patience() + " epochs)"
                                : ""));
              });
      samplesPerSecond = lastSamplesPerSecond[0];
    }
    if (!state.done()) {
      return new TrainResult.ModelResult(
          spec.name(),
          TrainAction.kindName(spec),
          spec.describe(),
          null,
          null,
          state.bestEpoch(),
          state.epoch(),
          false,
          false,
          null,
          samplesPerSecond,
          parameters(graph),
          null);
    }
    // Publish the best checkpoint (SHA-256 verified on load) with its full provenance.
    ComputationGraph best = loop.best();
    Metrics m = validation.score(best, columns, emb.numClasses());
    String sha =
        ModelArtifact.save(hconf, modelDir, best, provenance(spec, compiled, emb, e2e, m.asMap()));
    return new TrainResult.ModelResult(
        spec.name(),
        TrainAction.kindName(spec),
        spec.describe(),
        modelDir,
        sha,
        state.bestEpoch(),
        state.epoch(),
        state.stoppedEarly(),
        true,
        m,
        samplesPerSecond,
        parameters(best),
        null);
  }

  /** "worker 0: site-0, site-3 (40 shards); worker 1: ..." for the log. */
  static String describe(PresenceWeightedAveraging.GroupAssignment a, List<String> names) {
    StringBuilder b = new StringBuilder("train.shard-by = group:");
    for (int w = 0; w < a.groupsPerWorker().size(); w++) {
      b.append(w == 0 ? " " : "; ")
          .append("worker ")
          .append(w)
          .append(": ")
          .append(String.join(", ", a.groupsPerWorker().get(w).stream().map(names::get).toList()))
          .append(" (")
          .append(a.shardsPerWorker().get(w).size())
          .append(" shards)");
    }
    return b.toString();
  }

  /**
   * How {@code spec}'s network trains an epoch under {@code train.mode} and {@code
   * train.averaging}: in this process over the collected train split, by dl4j-spark parameter
   * averaging over its shards, or by this project's averaging rounds over the same shards
   * (presence-weighted, or with each worker keeping whole groups under {@code train.shard-by =
   * group}).
   */
  private EpochFitter<ComputationGraph> fitter(
      FusionSpec spec,
      FusionCompiler.Compiled compiled,
      EmbeddingsSpec emb,
      Data data,
      int[] columns,
      int require,
      boolean[] masked) {
    TrainConfig t = o.train();
    if (t.mode() == TrainConfig.Mode.LOCAL) {
      List<Batch> local = new ArrayList<>();
      for (Batch b : data.trainLocal()) {
        Batch s = b.select(columns, require).keepMasks(masked);
        if (s.size() > 0) {
          local.add(s);
        }
      }
      if (t.shardBy() == TrainConfig.ShardBy.GROUP) {
        o.progress()
            .accept(
                "["
                    + spec.name()
                    + "] train.shard-by = group applies to spark mode only: local mode fits the whole"
                    + " train split in one process");
      }
      return new LocalFitter(local, spec.modalityDropout(), t.seed());
    }
    MinibatchShards shards =
        data.trainShards().apply(require >= 0 ? compiled.modalities().get(0) : null);
    boolean byGroup = t.shardBy() == TrainConfig.ShardBy.GROUP;
    int workers = t.workers() != null ? t.workers() : spark.sparkContext().defaultParallelism();
    PresenceWeightedAveraging.GroupAssignment groups =
        byGroup ? PresenceWeightedAveraging.byGroup(shards.pathsByGroup(), workers) : null;
    if (groups != null) {
      workers = groups.shardsPerWorker().size();
    }
    int averaging =
        ParameterAveraging.averagingFrequency(
            t.averagingFrequency(), shards.paths().size(), workers);
    o.progress()
        .accept(
            String.format(
                Locale.ROOT,
                "[%s] parameter averaging: %d worker(s), %d shards of <= %d examples,"
                    + " averaging every %d minibatches per worker%s",
                spec.name(),
                workers,
                shards.paths().size(),
                t.batchSize(),
                averaging,
                t.averagingFrequency() == null
                    ? " (chosen: train.averaging-frequency unset)"
                    : ""));
    IntFunction<MultiDataSetLoader> loaders =
        epoch ->
            new BatchShards.Loader(
                BatchCodec.of(t.shardFormat()),
                emb.numClasses(),
                columns,
                spec.modalityDropout(),
                t.seed(),
                epoch,
                masked);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    boolean presence = t.averaging() == TrainConfig.Averaging.PRESENCE_WEIGHTED;
    if (!presence && !byGroup) {
      return AveragedFitter.graph(
          jsc,
          new ParameterAveraging.Rounds(workers, averaging, t.seed()),
          t.batchSize(),
          shards,
          loaders);
    }
    if (groups != null) {
      o.progress().accept("[" + spec.name() + "] " + describe(groups, shards.groups()));
    }
    o.progress()
        .accept(
            "["
                + spec.name()
                + "] train.averaging = "
                + t.averaging().configName()
                + (presence
                    ? ": modality-owned parameters weighted by present examples per worker"
                    : ": every worker weighted equally")
                + (byGroup
                    ? ", each worker its own groups' shards"
                    : ", each worker a fixed run of the shards"));
    PresenceWeightedAveraging weighted =
        new PresenceWeightedAveraging(
            jsc,
            groups != null
                ? groups.shardsPerWorker()
                : PresenceWeightedAveraging.contiguous(shards.paths(), workers),
            averaging,
            t.seed(),
            presence
                ? PresenceWeightedAveraging.Weighting.PRESENCE
                : PresenceWeightedAveraging.Weighting.UNIFORM);
    return new EpochFitter<>() {
      @Override
      public ComputationGraph fitEpoch(ComputationGraph graph, int epoch) {
        graph.getConfiguration().setEpochCount(epoch - 1);
        weighted.fitEpoch(graph, epoch, loaders.apply(epoch));
        return graph;
      }

      @Override
      public long examples() {
        return shards.examples();
      }
    };
  }

  private void warmStart(ComputationGraph graph, FusionSpec spec, String from) {
    ModelArtifact.Loaded<ComputationGraph> parent =
        ModelArtifact.loadGraph(spark.sparkContext().hadoopConfiguration(), from);
    Object parentSpec =
        parent.provenance().config() == null ? null : parent.provenance().config().get("spec");
    if (parentSpec == null
        || !Json.MAPPER.valueToTree(spec).equals(SAME_VALUE, Json.MAPPER.valueToTree(parentSpec))
        || parent.model().numParams() != graph.numParams()) {
      throw new org.cohortfusion.config.ConfigException(
          "Cannot warm-start '"
              + spec.name()
              + "' from "
              + from
              + ": it was trained with another fusion spec or embedding sizes ("
              + parent.model().numParams()
              + " parameters, this model has "
              + graph.numParams()
              + ")");
    }
    graph.setParams(parent.model().params().dup());
    o.progress().accept("[" + spec.name() + "] warm start from " + from);
  }

  /**
   * Train settings that may change between a run and its resume: how long and where it trains, not
   * what.
   */
  private static final java.util.Set<String> RESUMABLE_CHANGES =
      java.util.Set.of(
          "epochs",
          "patience",
          "mode",
          "workers",
          "averaging-frequency",
          "averaging",
          "shards-dir",
          "shard-format");

  /** JSON equality where 5 (int) equals 5 (long) and 0.5 (float) equals 0.5 (double). */
  private static final java.util.Comparator<com.fasterxml.jackson.databind.JsonNode> SAME_VALUE =
      (a, b) ->
          a.equals(b)
                  || (a.isNumber()
                      && b.isNumber()
                      && a.decimalValue().compareTo(b.decimalValue()) == 0)
              ? 0
              : 1;

  /**
   * A checkpoint continues only the training that wrote it: the same spec, the same embeddings and
   * the same optimisation settings. Anything else would publish a model whose provenance describes
   * neither run.
   */
  private void checkResumable(
      FusionSpec spec, EmbeddingsSpec emb, ModelArtifact.Provenance p, String checkpoint) {
    // As JSON trees: nested provenance values may come back as any Map or List implementation.
    com.fasterxml.jackson.databind.JsonNode was =
        Json.MAPPER.valueToTree(p.config() == null ? Map.of() : p.config());
    List<String> differ = new ArrayList<>();
    if (!Json.MAPPER.valueToTree(spec).equals(SAME_VALUE, was.path("spec"))) {
      differ.add("the fusion spec");
    }
    if (!emb.sha256().equals(was.path("embeddingsSha256").asText())) {
      differ.add(
          "the embeddings ("
              + was.path("embeddingsSha256").asText()
              + ", now "
              + emb.sha256()
              + ")");
    }
    com.fasterxml.jackson.databind.JsonNode now = Json.MAPPER.valueToTree(o.train());
    com.fasterxml.jackson.databind.JsonNode then = was.path("train");
    for (java.util.Iterator<String> keys = now.fieldNames(); keys.hasNext(); ) {
      String key = keys.next();
      if (!RESUMABLE_CHANGES.contains(key) && !now.path(key).equals(SAME_VALUE, then.path(key))) {
        differ.add("train." + key + " (" + then.path(key) + ", now " + now.path(key) + ")");
      }
    }
    if (!differ.isEmpty()) {
      throw new org.cohortfusion.config.ConfigException(
          "Cannot resume '"
              + spec.name()
              + "': its checkpoint "
              + checkpoint
              + " was trained with other "
              + String.join(", ", differ)
              + "; run train without --resume to start over");
    }
  }

  private ModelArtifact.Provenance provenance(
      FusionSpec spec,
      FusionCompiler.Compiled compiled,
      EmbeddingsSpec emb,
      EndToEndInputs e2e,
      Map<String, Double> metrics) {
    Map<String, Object> conf = new LinkedHashMap<>();
    conf.put("model", spec.name());
    conf.put("describe", spec.describe());
    conf.put("spec", Json.MAPPER.convertValue(spec, Map.class));
    conf.put("modalities", compiled.modalities());
    conf.put("classes", emb.classes());
    conf.put("train", Json.MAPPER.convertValue(o.train(), Map.class));
    conf.put("embeddingsSha256", emb.sha256());
    conf.put("encodersSha256", emb.encodersSha256());
    if (o.warmStart().containsKey(spec.name())) {
      conf.put("warmStartedFrom", o.warmStart().get(spec.name()));
    }
    if (spec.endToEnd()) {
      // The model needs the aligned cohort's features, preprocessed exactly as it was trained.
      conf.put(EndToEndInputs.INPUTS_KEY, EndToEndInputs.INPUTS_COHORT);
      conf.put(EndToEndInputs.PREPROCESSING_KEY, e2e.preprocessingOf(compiled.modalities()));
      conf.put("encoders", e2e.encoderShas(compiled.modalities()));
    }
    conf.put("graph", compiled.configuration().toJson());
    return new ModelArtifact.Provenance(
        "fusion:" + spec.name(),
        emb.cohortHash(),
        BuildInfo.version(),
        conf,
        metrics,
        Instant.now().toString());
  }

  /**
   * Trainable parameters of {@code graph}: the length of its flattened parameter vector. Not
   * numParams(), which sums over the graph's layers only and so leaves out the fusion vertices' own
   * weights (projections, attention, gates).
   */
  static long parameters(ComputationGraph graph) {
    return graph.params() == null ? 0 : graph.params().length();
  }
}
