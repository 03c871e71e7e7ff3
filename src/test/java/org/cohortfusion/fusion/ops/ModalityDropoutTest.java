package org.cohortfusion.fusion.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ModalityDropoutTest {

  private static INDArray mask(int rows, int cols, long seed) {
    Random r = new Random(seed);
    INDArray p = Nd4j.zeros(DataType.DOUBLE, rows, cols);
    for (int b = 0; b < rows; b++) {
      for (int m = 0; m < cols; m++) {
        p.putScalar(b, m, r.nextDouble() < 0.7 ? 1.0 : 0.0);
      }
    }
    p.getRow(0).assign(0.0); // a subject with nothing present stays that way
    p.getRow(1).assign(0.0);
    p.putScalar(1, 2, 1.0); // a subject with a single modality keeps it
    return p;
  }

  @Test
  void neverDropsEveryPresentModalityAndNeverAddsOne() {
    INDArray p = mask(500, 4, 1);
    INDArray before = p.dup();
    INDArray d = ModalityDropout.apply(p, 0.9, new Random(7));
    assertEquals(before, p, "input must not be modified");
    for (int b = 0; b < p.size(0); b++) {
      double present = p.getRow(b).sumNumber().doubleValue();
      double kept = d.getRow(b).sumNumber().doubleValue();
      assertTrue(present == 0 ? kept == 0 : kept >= 1, "row " + b);
      for (int m = 0; m < p.size(1); m++) {
        assertTrue(d.getDouble(b, m) <= p.getDouble(b, m), "dropout may only remove modalities");
      }
    }
    assertEquals(1.0, d.getDouble(1, 2));
  }

  @Test
  void dropsAboutTheRequestedFraction() {
    INDArray p = Nd4j.ones(DataType.DOUBLE, 2000, 5);
    INDArray d = ModalityDropout.apply(p, 0.2, new Random(3));
    double fraction = 1.0 - d.sumNumber().doubleValue() / p.sumNumber().doubleValue();
    assertEquals(0.2, fraction, 0.02);
  }

  @Test
  void zeroRateIsIdentityAndSeedIsDeterministic() {
    INDArray p = mask(50, 3, 2);
    assertEquals(p, ModalityDropout.apply(p, 0.0, new Random(1)));
    assertEquals(
        ModalityDropout.apply(p, 0.5, new Random(9)), ModalityDropout.apply(p, 0.5, new Random(9)));
    assertThrows(
        IllegalArgumentException.class, () -> ModalityDropout.apply(p, 1.0, new Random(1)));
  }

  @Test
  void hideZeroesTheInputsOfExactlyTheDroppedModalitiesAndLeavesTheBatchAsItWas() {
    INDArray p = mask(300, 3, 4);
    Nd4j.getRandom().setSeed(5);
    INDArray[] in = {
      Nd4j.rand(DataType.DOUBLE, 300, 4).addi(1), // strictly positive: a zero row was zeroed
      Nd4j.rand(DataType.DOUBLE, 300, 2, 5).addi(1),
      Nd4j.rand(DataType.DOUBLE, 300, 6).addi(1),
      p
    };
    INDArray[] copy = java.util.Arrays.stream(in).map(INDArray::dup).toArray(INDArray[]::new);
    INDArray[] out = ModalityDropout.hide(in, 0.4, new Random(11));
    INDArray presence = ModalityDropout.apply(p, 0.4, new Random(11));
    assertEquals(presence, out[3], "the same draws as apply with the same generator");
    int zeroed = 0;
    for (int m = 0; m < 3; m++) {
      assertEquals(copy[m], in[m], "input " + m + " must not be modified");
      for (int r = 0; r < 300; r++) {
        boolean dropped = p.getDouble(r, m) == 1.0 && presence.getDouble(r, m) == 0.0;
        INDArray row = out[m].slice(r);
        if (dropped) {
          zeroed++;
          assertEquals(0.0, row.amaxNumber().doubleValue(), "row " + r + " of input " + m);
        } else {
          assertEquals(in[m].slice(r), row, "row " + r + " of input " + m + " is kept as it was");
        }
      }
    }
    assertTrue(zeroed > 50, "the check saw dropped modalities: " + zeroed);
  }
}
