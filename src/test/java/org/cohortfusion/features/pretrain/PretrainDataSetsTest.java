package org.cohortfusion.features.pretrain;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.features.FeatureTestCohorts;
import org.cohortfusion.features.batch.FeatureBatch;
import org.cohortfusion.features.batch.FeatureBatches;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.features.batch.Payloads;
import org.cohortfusion.features.batch.PreprocessingFitter;
import org.cohortfusion.spark.internal.FieldRow;
import org.cohortfusion.spark.internal.FieldRows;
import org.cohortfusion.testing.CountingIterator;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The per-partition conversion of pretraining rows into minibatch DataSets. */
class PretrainDataSetsTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path tmp;

  /**
   * The first minibatch comes after reading at most one batch of the partition; the minibatches
   * are, in order, consecutive slices of the whole partition converted at once (features, mask and
   * one-hot labels).
   */
  @Test
  void aPartitionIsConvertedOneBatchAtATimeIntoConsecutiveSlices() {
    int batchSize = 4;
    int classes = 2;
    PipelineConfig config =
        PipelineConfigLoader.parse(
            FeatureTestCohorts.config(
                tmp.toString(),
                """
        pretrain.encoders.txt.buckets = 64
        """),
            List.of());
    Dataset<Row> aligned = FeatureTestCohorts.frame(spark, FeatureTestCohorts.rows(30, 9));
    for (var spec : FeatureTestCohorts.specs()) {
      ModalityPreprocessing prep =
          PreprocessingFitter.fit(aligned, spec, config.pretrain().encoder(spec.name()), 100);
      Dataset<Row> rows =
          aligned
              .where(col(spec.presenceColumn()).and(col("label").isNotNull()))
              .select(col("label"), Payloads.column(prep));
      List<FieldRow> partition = FieldRows.of(rows).map(FieldRow::copy).collect();
      assertTrue(
          partition.size() > 2 * batchSize,
          spec.name() + ": the partition must span several batches");

      CountingIterator<FieldRow> input = new CountingIterator<>(partition);
      Iterator<DataSet> out = new PretrainAction.ToDataSets(prep, classes, batchSize).call(input);
      List<DataSet> batches = new ArrayList<>();
      batches.add(out.next());
      assertTrue(
          input.consumed() <= batchSize,
          spec.name()
              + ": read "
              + input.consumed()
              + " rows before the first minibatch, batch size "
              + batchSize);
      out.forEachRemaining(batches::add);
      assertEquals(partition.size(), input.consumed());

      // Oracle: the whole partition converted as one batch, labels one-hot from the rows' own label
      // column.
      FeatureBatch whole = new FeatureBatches(prep, 1).convert(partition);
      assertEquals((partition.size() + batchSize - 1) / batchSize, batches.size(), spec.name());
      for (int b = 0; b < batches.size(); b++) {
        int from = b * batchSize;
        int to = Math.min(partition.size(), from + batchSize);
        DataSet d = batches.get(b);
        assertEquals(to - from, d.numExamples(), spec.name() + " batch " + b);
        assertEquals(
            rowsOf(whole.features(), from, to),
            d.getFeatures(),
            spec.name() + " features of batch " + b);
        if (whole.featureMask() == null) {
          assertNull(d.getFeaturesMaskArray(), spec.name());
        } else {
          assertEquals(
              rowsOf(whole.featureMask(), from, to),
              d.getFeaturesMaskArray(),
              spec.name() + " mask of batch " + b);
        }
        for (int i = from; i < to; i++) {
          int label = partition.get(i).getInt(0);
          for (int c = 0; c < classes; c++) {
            assertEquals(
                c == label ? 1.0 : 0.0,
                d.getLabels().getDouble(i - from, c),
                spec.name() + " label of row " + i);
          }
        }
      }
    }
  }

  /** Rows [from, to) of an array of any rank, along its first dimension. */
  private static org.nd4j.linalg.api.ndarray.INDArray rowsOf(
      org.nd4j.linalg.api.ndarray.INDArray a, int from, int to) {
    org.nd4j.linalg.indexing.INDArrayIndex[] index =
        new org.nd4j.linalg.indexing.INDArrayIndex[a.rank()];
    index[0] = NDArrayIndex.interval(from, to);
    for (int d = 1; d < a.rank(); d++) {
      index[d] = NDArrayIndex.all();
    }
    return a.get(index).dup();
  }
}
