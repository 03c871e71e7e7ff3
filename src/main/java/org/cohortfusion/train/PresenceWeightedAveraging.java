package org.cohortfusion.train;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.cohortfusion.fusion.ops.FusionVertexConf;
import org.datavec.spark.util.BroadcastHadoopConfigHolder;
import org.datavec.spark.util.SerializableHadoopConfig;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Synchronous parameter averaging whose weights follow modality presence ({@code train.averaging =
 * presence-weighted}): a worker that trained on few examples of modality m pulls m's parameters
 * less than one that trained on many.
 *
 * <p>The nearest relative is FedAvg (McMahan et al. 2017, "Communication-Efficient Learning of Deep
 * Networks from Decentralized Data", AISTATS), which weights each client's whole model by its
 * example count. Here the weight is per parameter group: a parameter owned by modality m (reached
 * from m's input only: its projection, its encoder layers in an end-to-end graph, its slice of a
 * fusion vertex's own projection) is averaged with weights {@code present_k(m) / sum_j
 * present_j(m)}, the examples with m present that worker k fitted in the round (after modality
 * dropout: what the worker trained on), uniform when no worker saw m; every other parameter
 * (fusion, head) is averaged uniformly over the workers that fitted at least one minibatch, as
 * dl4j-spark's {@code ParameterAveragingTrainingMaster} does, so that the two modes differ in the
 * modality-owned groups only.
 *
 * <p>The updater state (Adam's moments) is averaged too, as dl4j-spark does with {@code saveUpdater
 * = true}, and with the same weights as the parameter it belongs to: a worker without m has
 * near-zero moments for m's parameters, and averaging them in uniformly would shrink the moments of
 * the worker that did see m.
 *
 * <p>Every round: the driver broadcasts the configuration, parameters and updater state; each
 * worker is one Spark task over a fixed list of shards ({@link #contiguous}, or the caller's own
 * assignment, e.g. whole sites by {@link #byGroup}), fits the next {@code averagingFrequency} of
 * them from the broadcast state and returns its parameters, updater state and presence counts; the
 * driver averages. Worker w's shards are shuffled per epoch by (seed, epoch, w).
 */
public final class PresenceWeightedAveraging {
  /** Owner of a parameter that belongs to no single modality. */
  public static final int SHARED = -1;

  /** How the driver weights the workers' parameters. */
  public enum Weighting {
    /** Every parameter uniformly over the workers (the same rule as dl4j-spark's master). */
    UNIFORM,
    /** Modality-owned parameters by present-example count, shared ones uniformly. */
    PRESENCE
  }

  /** What one epoch's rounds did: counts only. */
  public record EpochStats(int rounds, long examples, long[] present) {}

  private final JavaSparkContext jsc;
  private final List<List<String>> shards;
  private final int averagingFrequency;
  private final long seed;
  private final Weighting weighting;

  /**
   * @param shardsPerWorker worker w fits the shards of entry w (deterministic, fixed for the run)
   */
  public PresenceWeightedAveraging(
      JavaSparkContext jsc,
      List<List<String>> shardsPerWorker,
      int averagingFrequency,
      long seed,
      Weighting weighting) {
    if (shardsPerWorker.isEmpty() || averagingFrequency < 1) {
      throw new IllegalArgumentException(
          "Cannot average parameters: need at least one worker and an averaging frequency >= 1");
    }
    this.jsc = jsc;
    this.shards = shardsPerWorker.stream().map(List::copyOf).toList();
    this.averagingFrequency = averagingFrequency;
    this.seed = seed;
    this.weighting = weighting;
  }

  /** Shards in order cut into {@code workers} contiguous runs of near-equal length. */
  public static List<List<String>> contiguous(List<String> paths, int workers) {
    List<List<String>> out = new ArrayList<>();
    int n = paths.size();
    for (int w = 0; w < workers; w++) {
      out.add(List.copyOf(paths.subList(n * w / workers, n * (w + 1) / workers)));
    }
    return out;
  }

  /** Whole groups on workers: each worker's shards, and the groups (caller's indices) it holds. */
  public record GroupAssignment(
      List<List<String>> shardsPerWorker, List<List<Integer>> groupsPerWorker) {}

  /**
   * Whole groups (e.g. sites) to workers, so that no group's shards are split between workers:
   * groups largest first (by shard count, the earlier group on a tie), each to the worker with the
   * fewest shards so far (the lower index on a tie). This is Graham's longest-processing-time rule
   * (Graham 1969, "Bounds on multiprocessing timing anomalies", SIAM J. Appl. Math.), whose largest
   * worker is within 4/3 of the best possible. Groups without shards are left out, and with fewer
   * groups than workers only as many workers as groups are used. A worker's shards follow its
   * groups in the caller's order.
   */
  public static GroupAssignment byGroup(List<List<String>> shardsPerGroup, int workers) {
    if (workers < 1) {
      throw new IllegalArgumentException("Cannot assign groups to workers: need at least one");
    }
    List<Integer> order = new ArrayList<>();
    for (int g = 0; g < shardsPerGroup.size(); g++) {
      if (!shardsPerGroup.get(g).isEmpty()) {
        order.add(g);
      }
    }
    if (order.isEmpty()) {
      throw new IllegalArgumentException("Cannot assign groups to workers: no group has a shard");
    }
    order.sort(
        (a, b) -> Integer.compare(shardsPerGroup.get(b).size(), shardsPerGroup.get(a).size()));
    int used = Math.min(workers, order.size());
    List<List<Integer>> groups = new ArrayList<>();
    int[] load = new int[used];
    for (int w = 0; w < used; w++) {
      groups.add(new ArrayList<>());
    }
    for (int g : order) {
      int least = 0;
      for (int w = 1; w < used; w++) {
        if (load[w] < load[least]) {
          least = w;
        }
      }
      groups.get(least).add(g);
      load[least] += shardsPerGroup.get(g).size();
    }
    List<List<String>> shards = new ArrayList<>();
    for (List<Integer> mine : groups) {
      Collections.sort(mine);
      List<String> paths = new ArrayList<>();
      mine.forEach(g -> paths.addAll(shardsPerGroup.get(g)));
      shards.add(List.copyOf(paths));
    }
    return new GroupAssignment(List.copyOf(shards), groups.stream().map(List::copyOf).toList());
  }

  /**
   * One epoch: rounds until every worker has fitted all its shards once; {@code graph}'s
   * parameters, updater state and iteration count end as the last round's average.
   *
   * @param loader turns a shard into the graph's MultiDataSet (modality blocks, then presence)
   */
  public EpochStats fitEpoch(ComputationGraph graph, int epoch, MultiDataSetLoader loader) {
    int workers = shards.size();
    List<List<String>> order = new ArrayList<>();
    int rounds = 0;
    for (int w = 0; w < workers; w++) {
      List<String> mine = new ArrayList<>(shards.get(w));
      Collections.shuffle(mine, new Random(seed * 1_000_003L + epoch * 7_919L + w));
      order.add(mine);
      rounds = Math.max(rounds, (mine.size() + averagingFrequency - 1) / averagingFrequency);
    }
    int[] owners = weighting == Weighting.PRESENCE ? owners(graph) : null;
    int[] updaterOwners = owners == null ? null : updaterOwners(graph, owners);
    Broadcast<SerializableHadoopConfig> hadoop = BroadcastHadoopConfigHolder.get(jsc);
    String conf = graph.getConfiguration().toJson();
    long examples = 0;
    long[] present = new long[modalities(graph.getConfiguration())];
    for (int r = 0; r < rounds; r++) {
      List<Task> tasks = new ArrayList<>();
      for (int w = 0; w < workers; w++) {
        List<String> mine = order.get(w);
        int from = Math.min(mine.size(), r * averagingFrequency);
        int to = Math.min(mine.size(), from + averagingFrequency);
        tasks.add(new Task(w, new ArrayList<>(mine.subList(from, to))));
      }
      INDArray state = stateOf(graph);
      Broadcast<Start> start =
          jsc.broadcast(
              new Start(
                  conf,
                  graph.params().toFloatVector(),
                  state == null ? null : state.toFloatVector(),
                  graph.getConfiguration().getIterationCount(),
                  epoch - 1,
                  seed));
      List<Fitted> fitted;
      try {
        fitted =
            jsc.parallelize(tasks, workers).mapPartitions(new Fit(start, hadoop, loader)).collect();
      } finally {
        start.destroy();
      }
      List<INDArray> params = new ArrayList<>();
      List<INDArray> updaters = new ArrayList<>();
      List<long[]> counts = new ArrayList<>();
      int steps = 0;
      for (Fitted f : fitted) {
        if (f.batches == 0) {
          continue; // fitted nothing this round: its parameters are the broadcast ones
        }
        params.add(Nd4j.create(f.params));
        if (f.updater != null) {
          updaters.add(Nd4j.create(f.updater));
        }
        counts.add(f.present);
        steps = Math.max(steps, f.batches);
        examples += f.examples;
        for (int m = 0; m < present.length; m++) {
          present[m] += f.present[m];
        }
      }
      if (params.isEmpty()) {
        continue;
      }
      graph.setParams(average(params, counts, owners).reshape(graph.params().shape()));
      if (state != null && updaters.size() == params.size()) {
        state.assign(average(updaters, counts, updaterOwners).reshape(state.shape()));
      }
      graph
          .getConfiguration()
          .setIterationCount(graph.getConfiguration().getIterationCount() + steps);
    }
    return new EpochStats(rounds, examples, present);
  }

  /**
   * The weighting rule: the average of {@code values} (one flat vector per worker), where element i
   * owned by modality {@code owners[i] = m} takes worker k's value with weight {@code
   * present.get(k)[m] / sum_j present.get(j)[m]} (1/K when that sum is 0) and a {@link #SHARED}
   * element (or every element, when {@code owners} is null) with weight 1/K.
   */
  public static INDArray average(List<INDArray> values, List<long[]> present, int[] owners) {
    int workers = values.size();
    if (workers == 0 || present.size() != workers) {
      throw new IllegalArgumentException(
          "Cannot average parameters: "
              + workers
              + " parameter vectors and "
              + present.size()
              + " presence counts");
    }
    long length = values.get(0).length();
    if (owners == null) {
      INDArray sum = Nd4j.zeros(DataType.FLOAT, length);
      values.forEach(v -> sum.addi(v.reshape(length)));
      return sum.divi(workers);
    }
    if (owners.length != length) {
      throw new IllegalArgumentException(
          "Cannot average parameters: " + owners.length + " owners for " + length + " values");
    }
    int modalities = present.get(0).length;
    long[] total = new long[modalities];
    for (long[] c : present) {
      for (int m = 0; m < modalities; m++) {
        total[m] += c[m];
      }
    }
    INDArray sum = Nd4j.zeros(DataType.FLOAT, length);
    float[] w = new float[(int) length];
    for (int k = 0; k < workers; k++) {
      float[] byOwner = new float[modalities + 1];
      byOwner[0] = 1f / workers;
      for (int m = 0; m < modalities; m++) {
        byOwner[m + 1] =
            total[m] == 0 ? 1f / workers : (float) ((double) present.get(k)[m] / total[m]);
      }
      for (int i = 0; i < w.length; i++) {
        w[i] = byOwner[owners[i] + 1];
      }
      sum.addi(Nd4j.create(w).muli(values.get(k).reshape(length)));
    }
    return sum;
  }

  /**
   * The owner of every element of {@code graph}'s flat parameter vector: the index (in the graph's
   * input order) of the one modality input it is reached from, else {@link #SHARED}. A fusion
   * vertex's own projection of input j (its {@code P<j>} and its columns of {@code Pb}) belongs to
   * the modality behind input j.
   */
  public static int[] owners(ComputationGraph graph) {
    ComputationGraphConfiguration conf = graph.getConfiguration();
    List<String> inputs = conf.getNetworkInputs();
    // A marker graph: each parameter view is filled with its owner, read back through the flat
    // vector, so the layout is DL4J's own and never recomputed here.
    ComputationGraph marker = new ComputationGraph(conf.clone());
    marker.init();
    marker.params().assign(SHARED);
    for (org.deeplearning4j.nn.graph.vertex.GraphVertex v : marker.getVertices()) {
      if (v.numParams() == 0) {
        continue;
      }
      int own = owner(conf, inputs, v.getVertexName());
      if (own != SHARED) {
        v.params().assign(own);
      }
      GraphVertex vc = conf.getVertices().get(v.getVertexName());
      if (vc instanceof FusionVertexConf f) {
        Map<String, INDArray> table = v.paramTable(false);
        List<String> in = conf.getVertexInputs().get(v.getVertexName());
        int[] sizes = f.getSizes();
        long bias = 0;
        for (int j = 0; j < sizes.length; j++) {
          if (!f.isProjected(j)) {
            continue;
          }
          int m = owner(conf, inputs, in.get(j));
          if (m != SHARED) {
            table.get("P" + j).assign(m);
            table
                .get("Pb")
                .get(
                    org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(bias, bias + sizes[j]))
                .assign(m);
          }
          bias += sizes[j];
        }
      }
    }
    return marker.params().toIntVector();
  }

  /**
   * The owner of every element of the updater state: each updater block keeps, for its parameter
   * range of n elements, whole copies of n state values (Adam: m then v), in parameter order.
   */
  static int[] updaterOwners(ComputationGraph graph, int[] owners) {
    INDArray state = stateOf(graph);
    if (state == null) {
      return new int[0];
    }
    int[] out = new int[(int) state.length()];
    java.util.Arrays.fill(out, SHARED);
    for (UpdaterBlock b : graph.getUpdater().getUpdaterBlocks()) {
      int n = b.getParamOffsetEnd() - b.getParamOffsetStart();
      int size = b.getUpdaterViewOffsetEnd() - b.getUpdaterViewOffsetStart();
      if (n == 0 || size == 0) {
        continue;
      }
      if (size % n != 0) {
        throw new IllegalStateException(
            "Cannot weight the updater state: a block of "
                + n
                + " parameters has "
                + size
                + " state values, not a multiple");
      }
      for (int i = 0; i < size; i++) {
        out[b.getUpdaterViewOffsetStart() + i] = owners[b.getParamOffsetStart() + i % n];
      }
    }
    return out;
  }

  /** The updater state, or null for an updater without any (plain SGD). */
  private static INDArray stateOf(ComputationGraph graph) {
    INDArray state = graph.getUpdater().getStateViewArray();
    return state == null || state.length() == 0 ? null : state;
  }

  private static int modalities(ComputationGraphConfiguration conf) {
    return conf.getNetworkInputs().size() - 1;
  }

  /** The one modality input (index, presence last) that vertex {@code name} depends on, or none. */
  private static int owner(ComputationGraphConfiguration conf, List<String> inputs, String name) {
    Set<String> reached = new HashSet<>();
    reach(conf, inputs, name, reached);
    if (reached.size() != 1) {
      return SHARED;
    }
    int i = inputs.indexOf(reached.iterator().next());
    return i == inputs.size() - 1 ? SHARED : i;
  }

  private static void reach(
      ComputationGraphConfiguration conf, List<String> inputs, String name, Set<String> out) {
    if (inputs.contains(name)) {
      out.add(name);
      return;
    }
    for (String in : conf.getVertexInputs().getOrDefault(name, List.of())) {
      reach(conf, inputs, in, out);
    }
  }

  // -- what crosses to the executors: plain classes, which Spark's Kryo serialises (records not) --

  /** The state every worker starts a round from. */
  static final class Start implements Serializable {
    private static final long serialVersionUID = 1L;
    final String conf;
    final float[] params;
    final float[] updater;
    final int iteration;
    final int epoch;
    final long seed;

    Start(String conf, float[] params, float[] updater, int iteration, int epoch, long seed) {
      this.conf = conf;
      this.params = params;
      this.updater = updater;
      this.iteration = iteration;
      this.epoch = epoch;
      this.seed = seed;
    }
  }

  /** One worker's shards for one round. */
  static final class Task implements Serializable {
    private static final long serialVersionUID = 1L;
    final int worker;
    final ArrayList<String> paths;

    Task(int worker, ArrayList<String> paths) {
      this.worker = worker;
      this.paths = paths;
    }
  }

  /** One worker's result: its parameters, updater state and what it fitted (counts only). */
  static final class Fitted implements Serializable {
    private static final long serialVersionUID = 1L;
    final int worker;
    final float[] params;
    final float[] updater;
    final long[] present;
    final long examples;
    final int batches;

    Fitted(
        int worker, float[] params, float[] updater, long[] present, long examples, int batches) {
      this.worker = worker;
      this.params = params;
      this.updater = updater;
      this.present = present;
      this.examples = examples;
      this.batches = batches;
    }
  }

  /** Fits one worker's shards from the broadcast state; runs on an executor. */
  static final class Fit implements FlatMapFunction<Iterator<Task>, Fitted> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<Start> start;
    private final Broadcast<SerializableHadoopConfig> hadoop;
    private final MultiDataSetLoader loader;

    Fit(
        Broadcast<Start> start,
        Broadcast<SerializableHadoopConfig> hadoop,
        MultiDataSetLoader loader) {
      this.start = start;
      this.hadoop = hadoop;
      this.loader = loader;
    }

    @Override
    public Iterator<Fitted> call(Iterator<Task> tasks) throws IOException {
      List<Fitted> out = new ArrayList<>();
      while (tasks.hasNext()) {
        out.add(fit(tasks.next()));
      }
      return out.iterator();
    }

    private Fitted fit(Task task) throws IOException {
      Start s = start.getValue();
      ComputationGraphConfiguration conf = ComputationGraphConfiguration.fromJson(s.conf);
      conf.setIterationCount(s.iteration);
      conf.setEpochCount(s.epoch);
      ComputationGraph graph = new ComputationGraph(conf);
      graph.init(Nd4j.create(s.params).reshape(1, s.params.length), false);
      if (s.updater != null) {
        INDArray state = stateOf(graph);
        state.assign(Nd4j.create(s.updater).reshape(state.shape()));
      }
      Nd4j.getRandom().setSeed(s.seed * 31L + s.epoch * 1_009L + s.iteration + task.worker);
      long[] present = new long[modalities(conf)];
      long examples = 0;
      int batches = 0;
      org.apache.hadoop.conf.Configuration hconf = hadoop.getValue().getConfiguration();
      for (String path : task.paths) {
        MultiDataSet mds = loader.load(new HadoopSource(path, hconf));
        INDArray[] f = mds.getFeatures();
        long[] sum = f[f.length - 1].sum(0).castTo(DataType.DOUBLE).toLongVector();
        for (int m = 0; m < present.length; m++) {
          present[m] += sum[m];
        }
        examples += f[0].size(0);
        graph.fit(mds);
        batches++;
      }
      INDArray state = stateOf(graph);
      return new Fitted(
          task.worker,
          graph.params().toFloatVector(),
          state == null ? null : state.toFloatVector(),
          present,
          examples,
          batches);
    }
  }

  /** A shard file on any Hadoop file system. */
  private record HadoopSource(String path, org.apache.hadoop.conf.Configuration conf)
      implements Source {
    @Override
    public InputStream getInputStream() throws IOException {
      Path p = new Path(path);
      return p.getFileSystem(conf).open(p);
    }

    @Override
    public String getPath() {
      return path;
    }
  }
}
