package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * A batch of survival codes becomes one hazard target per interval with its label mask, keeps being
 * a survival batch through every copy the pipeline makes (modality selection, presence changes) and
 * through both shard formats.
 */
class SurvivalBatchTest {
  /**
   * Three intervals: codes 0..7. Rows: event in interval 0 (1), survived 2 then censored (4),
   * survived all (6).
   */
  private static Batch batch() {
    float[][] features = {{1, 2, 3, 4, 5, 6}, {7, 8, 9}};
    float[] presence = {1, 1, 1, 0, 0, 1};
    return new Batch(
        new int[] {2, 1},
        features,
        presence,
        new int[] {1, 4, 6},
        DiscreteTimeHazard.codes(3),
        null,
        null,
        true);
  }

  @Test
  void targetsAndMaskFollowTheCodes() {
    Batch b = batch();
    assertEquals(3, b.outputs());
    MultiDataSet mds = b.toMultiDataSet();
    assertArrayEquals(new long[] {3, 3}, mds.getLabels(0).shape());
    assertArrayEquals(
        new float[] {1, 0, 0, /**/ 0, 0, 0, /**/ 0, 0, 0},
        mds.getLabels(0).castTo(DataType.FLOAT).data().asFloat());
    assertArrayEquals(
        new float[] {1, 0, 0, /**/ 1, 1, 0, /**/ 1, 1, 1},
        mds.getLabelsMaskArray(0).castTo(DataType.FLOAT).data().asFloat());
    assertEquals(b, Batch.fromMultiDataSet(mds));
  }

  @Test
  void copiesAndShardsStaySurvivalBatches() throws Exception {
    Batch b = batch();
    assertTrue(b.select(new int[] {1}, -1).survival());
    assertTrue(b.withPresence(new float[] {1, 0, 1, 0, 0, 1}).survival());
    assertTrue(b.keepMasks(new boolean[] {true, true}).survival());
    for (BatchCodec codec : BatchCodec.values()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      codec.write(b, out);
      // The reader's class count is the classification default; the shard says it holds survival
      // codes.
      Batch read = codec.read(new ByteArrayInputStream(out.toByteArray()), 2);
      assertEquals(b, read, codec.name());
    }
  }
}
