package org.cohortfusion.train;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
import org.nd4j.linalg.api.buffer.DataType;

class CohortDataTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path tmp;

  /**
   * The first batch comes after reading at most one batch of the partition; each row's features and
   * mask equal the present rows of the whole partition converted at once, zeros (mask: last step
   * only) where the modality is absent.
   */
  @Test
  void toBatchesReadsOneBatchAtATimeAndKeepsRowsInOrder() {
    int batchSize = 4;
    PipelineConfig config =
        PipelineConfigLoader.parse(FeatureTestCohorts.config(tmp.toString(), ""), List.of());
    Dataset<Row> aligned = FeatureTestCohorts.frame(spark, FeatureTestCohorts.rows(30, 9));
    List<ModalityPreprocessing> preps = new ArrayList<>();
    for (String m : List.of("vec", "ts")) {
      preps.add(
          PreprocessingFitter.fit(
              aligned, FeatureTestCohorts.spec(m), config.pretrain().encoder(m), 100));
    }
    Dataset<Row> rows =
        aligned
            .where(col("label").isNotNull())
            .select(
                col("label"),
                col("has_vec"),
                col("has_ts"),
                Payloads.column(preps.get(0)),
                Payloads.column(preps.get(1)));
    List<FieldRow> partition = FieldRows.of(rows).map(FieldRow::copy).collect();
    assertTrue(partition.size() > 2 * batchSize);

    CountingIterator<FieldRow> input = new CountingIterator<>(partition);
    Iterator<Batch> out =
        new CohortData.ToBatches(new ArrayList<>(preps), 2, false, batchSize).call(input);
    List<Batch> batches = new ArrayList<>();
    batches.add(out.next());
    assertTrue(
        input.consumed() <= batchSize, "read " + input.consumed() + " rows before the first batch");
    out.forEachRemaining(batches::add);
    assertEquals(partition.size(), input.consumed());

    int m = preps.size();
    for (int i = 0; i < m; i++) {
      // Oracle: the present rows of the whole partition converted at once.
      List<FieldRow> present = new ArrayList<>();
      for (FieldRow r : partition) {
        if (r.getBoolean(1 + i) && !r.isNullAt(1 + m + i)) {
          present.add(r);
        }
      }
      assertTrue(
          present.size() < partition.size() || i == 0, "the time series must be absent somewhere");
      FeatureBatch whole = new FeatureBatches(preps.get(i), 1 + m + i).convert(present);
      float[] features = whole.features().castTo(DataType.FLOAT).dup('c').data().asFloat();
      float[] masks =
          whole.featureMask() == null
              ? null
              : whole.featureMask().castTo(DataType.FLOAT).dup('c').data().asFloat();
      int dim = features.length / present.size();
      int steps = masks == null ? 0 : masks.length / present.size();
      int row = 0;
      int p = 0;
      for (Batch batch : batches) {
        for (int k = 0; k < batch.size(); k++, row++) {
          FieldRow r = partition.get(row);
          assertEquals(r.getInt(0), batch.labels()[k], "label of row " + row);
          boolean has = r.getBoolean(1 + i) && !r.isNullAt(1 + m + i);
          assertEquals(has ? 1f : 0f, batch.presence()[k * m + i], "presence of row " + row);
          float[] f = Arrays.copyOfRange(batch.features()[i], k * dim, (k + 1) * dim);
          assertArrayEquals(
              has ? Arrays.copyOfRange(features, p * dim, (p + 1) * dim) : new float[dim],
              f,
              "modality " + i + " row " + row);
          if (steps > 0) {
            float[] mask = Arrays.copyOfRange(batch.mask(i), k * steps, (k + 1) * steps);
            float[] lastOnly = new float[steps];
            lastOnly[steps - 1] = 1f;
            assertArrayEquals(
                has ? Arrays.copyOfRange(masks, p * steps, (p + 1) * steps) : lastOnly,
                mask,
                "mask of modality " + i + " row " + row);
          }
          if (has) {
            p++;
          }
        }
      }
      assertEquals(partition.size(), row);
      assertEquals(present.size(), p);
    }
  }
}
