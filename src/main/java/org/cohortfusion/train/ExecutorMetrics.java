package org.cohortfusion.train;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.cohort.survival.IntervalConcordance;
import org.cohortfusion.fit.ScoredRows;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The held-out {@link Metrics} of a graph computed where the data lives: the model (configuration
 * and parameters) is broadcast once per call, every partition's batches are scored on its executor
 * as they stream past, and only sums and the exact AUROC's distributed sort leave the executors —
 * nothing proportional to the split reaches the driver, except for a survival model: Harrell's C
 * compares every pair, so two numbers per subject (its risk and its code) are collected.
 *
 * <p>The classification metrics are {@link ScoredRows#classification}'s, whose exact AUROC (Spark
 * MLlib's distributed sort) equals the Mann–Whitney statistic with ties counted one half, as {@link
 * Auroc} computes it on the driver. More classes: the mean one-vs-rest AUROC over the classes
 * present with another class, as {@link Auroc#of(double[][], int[], int)}.
 */
public final class ExecutorMetrics {
  private ExecutorMetrics() {}

  /**
   * The configuration and parameters of a graph, as broadcast to the executors (a plain class: Kryo
   * cannot build records).
   */
  static final class ModelBytes implements Serializable {
    private static final long serialVersionUID = 1L;
    private String configurationJson;
    private float[] parameters;

    /** For Kryo. */
    private ModelBytes() {}

    ModelBytes(String configurationJson, float[] parameters) {
      this.configurationJson = configurationJson;
      this.parameters = parameters;
    }

    ComputationGraph graph() {
      ComputationGraph g =
          new ComputationGraph(ComputationGraphConfiguration.fromJson(configurationJson));
      g.init(
          Nd4j.createFromArray(parameters)
              .reshape(1, parameters.length)
              .castTo(g.getConfiguration().getDataType()),
          false);
      return g;
    }
  }

  /**
   * Loss, accuracy and AUROC of {@code graph} on {@code batches}, reading the modality columns
   * {@code columns} of each batch as {@link TrainedModels#graph} does.
   *
   * @throws IllegalArgumentException when the batches hold no labeled example
   */
  public static Metrics evaluate(
      JavaRDD<Batch> batches, ComputationGraph graph, int[] columns, int numClasses) {
    Broadcast<ModelBytes> model = broadcast(batches, graph);
    JavaRDD<double[]> scored = scored(batches, model, columns);
    try {
      ScoredRows.Classification c = ScoredRows.classification(scored, numClasses);
      return new Metrics(c.auroc(), c.loss(), c.accuracy(), c.n());
    } finally {
      scored.unpersist(false);
      model.destroy(false);
    }
  }

  /**
   * {@link Metrics#survival(double[][], int[])} of a survival graph (one hazard per interval) on
   * batches of {@link DiscreteTimeHazard} codes, reading the modality columns {@code columns} as
   * {@link TrainedModels#graph} does: the likelihood is summed on the executors; Harrell's C needs
   * every pair, so each subject's risk and code (two numbers, nothing that identifies it) come to
   * the driver, which computes C with the function the driver's path uses.
   *
   * @throws IllegalArgumentException when the batches hold no labeled example
   */
  public static Metrics survival(JavaRDD<Batch> batches, ComputationGraph graph, int[] columns) {
    Broadcast<ModelBytes> model = broadcast(batches, graph);
    JavaRDD<double[]> scored = scored(batches, model, columns);
    try {
      double lossSum =
          scored.aggregate(
              0.0,
              (acc, row) ->
                  acc
                      + IntervalConcordance.survivalLoss(
                          Arrays.copyOfRange(row, 1, row.length), (int) row[0]),
              Double::sum);
      List<double[]> riskAndCode =
          scored
              .map(
                  row ->
                      new double[] {
                        IntervalConcordance.risk(Arrays.copyOfRange(row, 1, row.length)), row[0]
                      })
              .collect();
      double[] risk = new double[riskAndCode.size()];
      int[] codes = new int[riskAndCode.size()];
      for (int r = 0; r < risk.length; r++) {
        risk[r] = riskAndCode.get(r)[0];
        codes[r] = (int) riskAndCode.get(r)[1];
      }
      return Metrics.survival(lossSum, risk, codes);
    } finally {
      scored.unpersist(false);
      model.destroy(false);
    }
  }

  /** The graph's configuration and parameters, broadcast once per evaluation. */
  private static Broadcast<ModelBytes> broadcast(JavaRDD<Batch> batches, ComputationGraph graph) {
    return JavaSparkContext.fromSparkContext(batches.context())
        .broadcast(
            new ModelBytes(
                graph.getConfiguration().toJson(),
                graph.params().castTo(DataType.FLOAT).toFloatVector()));
  }

  /**
   * One row {label, output_0, ...} per example, scored once and kept for the passes that read it.
   */
  private static JavaRDD<double[]> scored(
      JavaRDD<Batch> batches, Broadcast<ModelBytes> model, int[] columns) {
    return batches
        .mapPartitions(new Score(model, columns.clone()))
        .persist(StorageLevel.MEMORY_AND_DISK());
  }

  /**
   * Scores one partition's batches: one graph per partition, one output row {label, output_0, ...}
   * per example (class probabilities, or a survival model's hazards after its code).
   */
  private static final class Score
      implements org.apache.spark.api.java.function.FlatMapFunction<Iterator<Batch>, double[]> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<ModelBytes> model;
    private final int[] columns;

    Score(Broadcast<ModelBytes> model, int[] columns) {
      this.model = model;
      this.columns = columns;
    }

    @Override
    public Iterator<double[]> call(Iterator<Batch> batches) {
      if (!batches.hasNext()) {
        return java.util.Collections.emptyIterator();
      }
      Metrics.Predictor predictor = TrainedModels.graph(model.value().graph(), columns);
      return ScoredRows.streamed(
          batches,
          b -> {
            if (b.size() == 0) {
              return new double[0][];
            }
            double[][] p = predictor.predict(b).castTo(DataType.DOUBLE).toDoubleMatrix();
            double[][] rows = new double[b.size()][];
            for (int r = 0; r < rows.length; r++) {
              rows[r] = new double[1 + p[r].length];
              rows[r][0] = b.labels()[r];
              System.arraycopy(p[r], 0, rows[r], 1, p[r].length);
            }
            return rows;
          });
    }
  }
}
