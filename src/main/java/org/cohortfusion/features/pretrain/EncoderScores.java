package org.cohortfusion.features.pretrain;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.cohort.survival.IntervalConcordance;
import org.cohortfusion.fit.ScoredRows;
import org.cohortfusion.io.ModelArtifact;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;

/**
 * An encoder with its head scored on a held-out split where the split lives: the network is
 * broadcast once per call, each partition restores it once and scores its minibatches one at a
 * time. A classifier's metrics are {@link ScoredRows#classification}'s, so nothing proportional to
 * the split reaches the driver and pretrain's AUROC is train's (ties count one half). A hazard
 * head's C compares every pair, so each subject's risk and code (two numbers, nothing that
 * identifies it) come to the driver.
 */
public final class EncoderScores {
  private EncoderScores() {}

  /**
   * [AUROC, accuracy] of a classification head on a split of one-hot labeled minibatches; NaN when
   * the split is empty, AUROC NaN when only one class is present.
   */
  public static double[] classification(
      JavaSparkContext jsc,
      MultiLayerNetwork net,
      JavaRDD<DataSet> data,
      long examples,
      int classes) {
    if (examples == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    Broadcast<byte[]> model = jsc.broadcast(ModelArtifact.bytes(net, false));
    JavaRDD<double[]> scored =
        data.mapPartitions(new Score(model, EncoderScores::classRows))
            .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    try {
      ScoredRows.Classification c = ScoredRows.classification(scored, classes);
      return new double[] {c.auroc(), c.accuracy()};
    } finally {
      scored.unpersist(false);
      model.destroy(false);
    }
  }

  /**
   * [C, mean loss] of a hazard head on a split: the likelihood is summed on the executors, and each
   * subject's risk and code go to the driver for {@link IntervalConcordance#of}, which needs every
   * pair. NaN when the split is empty or has no comparable pair.
   */
  public static double[] concordance(
      JavaSparkContext jsc, MultiLayerNetwork net, JavaRDD<DataSet> data, long examples) {
    if (examples == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    Broadcast<byte[]> model = jsc.broadcast(ModelArtifact.bytes(net, false));
    try {
      List<double[]> scored =
          data.mapPartitions(new Score(model, EncoderScores::hazardRows)).collect();
      double[] risk = new double[scored.size()];
      int[] codes = new int[scored.size()];
      double loss = 0;
      for (int i = 0; i < risk.length; i++) {
        risk[i] = scored.get(i)[0];
        codes[i] = (int) scored.get(i)[1];
        loss += scored.get(i)[2];
      }
      return new double[] {IntervalConcordance.of(risk, codes), loss / risk.length};
    } finally {
      model.destroy(false);
    }
  }

  private static MultiLayerNetwork restored(Broadcast<byte[]> model) throws IOException {
    return ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(model.value()), false);
  }

  private static double[][] outputs(MultiLayerNetwork net, DataSet b) {
    return net.output(b.getFeatures(), false, b.getFeaturesMaskArray(), null)
        .castTo(DataType.DOUBLE)
        .toDoubleMatrix();
  }

  /** The rows of one minibatch scored by the restored network. */
  @FunctionalInterface
  private interface Rows extends java.io.Serializable {
    double[][] of(MultiLayerNetwork net, DataSet batch);
  }

  /** One row {label, p_0, ..., p_k-1} per example, the label the one-hot column that is set. */
  private static double[][] classRows(MultiLayerNetwork net, DataSet b) {
    double[][] p = outputs(net, b);
    double[][] y = b.getLabels().castTo(DataType.DOUBLE).toDoubleMatrix();
    double[][] rows = new double[p.length][];
    for (int r = 0; r < p.length; r++) {
      int label = 0;
      for (int k = 1; k < y[r].length; k++) {
        label = y[r][k] > y[r][label] ? k : label;
      }
      rows[r] = new double[1 + p[r].length];
      rows[r][0] = label;
      System.arraycopy(p[r], 0, rows[r], 1, p[r].length);
    }
    return rows;
  }

  /** One row {risk, code, loss} per example. */
  private static double[][] hazardRows(MultiLayerNetwork net, DataSet b) {
    double[][] h = outputs(net, b);
    int j = h.length == 0 ? 0 : h[0].length;
    float[] y = b.getLabels().castTo(DataType.FLOAT).data().asFloat();
    float[] mask = b.getLabelsMaskArray().castTo(DataType.FLOAT).data().asFloat();
    double[][] rows = new double[h.length][];
    for (int r = 0; r < h.length; r++) {
      int code = DiscreteTimeHazard.code(y, mask, r, j);
      rows[r] =
          new double[] {
            IntervalConcordance.risk(h[r]), code, IntervalConcordance.survivalLoss(h[r], code)
          };
    }
    return rows;
  }

  /** A partition's minibatches scored one at a time by the network, restored once. */
  private static final class Score implements FlatMapFunction<Iterator<DataSet>, double[]> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<byte[]> model;
    private final Rows rows;

    Score(Broadcast<byte[]> model, Rows rows) {
      this.model = model;
      this.rows = rows;
    }

    @Override
    public Iterator<double[]> call(Iterator<DataSet> batches) throws IOException {
      if (!batches.hasNext()) {
        return java.util.Collections.emptyIterator();
      }
      MultiLayerNetwork net = restored(model);
      return ScoredRows.streamed(batches, b -> rows.of(net, b));
    }
  }
}
