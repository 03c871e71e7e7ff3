package org.cohortfusion.evaluate;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.fit.ScoredRows;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.train.Batch;
import org.cohortfusion.train.EmbeddingsData;
import org.cohortfusion.train.Metrics;
import org.cohortfusion.train.PortableModel;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Scores a model trained on embeddings where the embeddings live: the model is broadcast once, each
 * executor reads its partition of the test split (sorted by subject_id) into batches ({@link
 * EmbeddingsData#bySubject}), builds every scenario of each batch from the subject ids ({@link
 * Scenarios#apply}: the removals the driver's presence matrices hold) and predicts them. Only the
 * probabilities reach the driver: one row per subject, every scenario's probabilities side by side,
 * collected in subject_id order — the {@link TestSplit} order.
 */
public final class ExecutorScorer implements Scorer {
  private final PortableModel model;
  private final Dataset<Row> table;
  private final EmbeddingsSpec spec;
  private final int batchSize;
  private final int expected;

  /**
   * @param model the model
   * @param table the embeddings table
   * @param spec its description
   * @param batchSize rows per predicted batch
   * @param expected the number of test subjects (the TestSplit's size), checked
   */
  public ExecutorScorer(
      PortableModel model, Dataset<Row> table, EmbeddingsSpec spec, int batchSize, int expected) {
    this.model = model;
    this.table = table;
    this.spec = spec;
    this.batchSize = batchSize;
    this.expected = expected;
  }

  @Override
  public List<double[][]> score(Scenarios scenarios, List<float[]> presence) {
    JavaRDD<EmbeddingsData.Identified> batches =
        EmbeddingsData.bySubject(table, spec, EvaluateAction.SPLIT, batchSize);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(batches.context());
    Broadcast<PortableModel> shipped = jsc.broadcast(model);
    List<double[]> rows;
    try {
      rows = batches.mapPartitions(new Score(shipped, scenarios)).collect();
    } finally {
      shipped.destroy(false);
    }
    if (rows.size() != expected) {
      throw new IllegalStateException(
          "Cannot evaluate: the executors scored "
              + rows.size()
              + " test subjects, the test split holds "
              + expected);
    }
    int s = scenarios.size();
    int k = rows.isEmpty() ? 0 : rows.get(0).length / s;
    List<double[][]> out = new ArrayList<>(s);
    for (int c = 0; c < s; c++) {
      double[][] p = new double[rows.size()][];
      for (int i = 0; i < p.length; i++) {
        p[i] = java.util.Arrays.copyOfRange(rows.get(i), c * k, (c + 1) * k);
      }
      out.add(p);
    }
    return out;
  }

  /**
   * One partition: the model rebuilt once, then batch by batch every scenario predicted; one output
   * row per subject, {@code [scenario 0's k probabilities, scenario 1's, ...]}, in the batches'
   * order.
   */
  private static final class Score
      implements FlatMapFunction<Iterator<EmbeddingsData.Identified>, double[]> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<PortableModel> model;
    private final Scenarios scenarios;

    Score(Broadcast<PortableModel> model, Scenarios scenarios) {
      this.model = model;
      this.scenarios = scenarios;
    }

    @Override
    public Iterator<double[]> call(Iterator<EmbeddingsData.Identified> batches) {
      if (!batches.hasNext()) {
        return java.util.Collections.emptyIterator();
      }
      Metrics.Predictor predictor = model.value().predictor();
      return ScoredRows.streamed(batches, in -> scored(predictor, in));
    }

    private double[][] scored(Metrics.Predictor predictor, EmbeddingsData.Identified in) {
      Batch b = in.batch();
      int n = b.size();
      if (n == 0) {
        return new double[0][];
      }
      List<Batch> each = scenarios.apply(b, in.subjectIds());
      double[][] rows = null;
      for (int s = 0; s < each.size(); s++) {
        double[][] p = predictor.predict(each.get(s)).castTo(DataType.DOUBLE).toDoubleMatrix();
        int k = p[0].length;
        if (rows == null) {
          rows = new double[n][each.size() * k];
        }
        for (int r = 0; r < n; r++) {
          System.arraycopy(p[r], 0, rows[r], s * k, k);
        }
      }
      return rows;
    }
  }
}
