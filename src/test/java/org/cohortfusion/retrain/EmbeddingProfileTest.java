package org.cohortfusion.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

class EmbeddingProfileTest {
  private static final StructType SCHEMA =
      new StructType()
          .add("split", DataTypes.StringType)
          .add("label", DataTypes.IntegerType)
          .add("has_m", DataTypes.BooleanType)
          .add("m", DataTypes.createArrayType(DataTypes.FloatType));

  /**
   * 1000 subjects whose dimension 0 is i and dimension 1 is f(i), plus absent subjects and other
   * splits.
   */
  private static Dataset<Row> table(
      SparkSession spark, java.util.function.IntFunction<Float> second) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      rows.add(RowFactory.create("train", i % 2, true, List.of((float) i, second.apply(i))));
    }
    rows.add(RowFactory.create("train", 0, false, null)); // absent: not counted
    rows.add(
        RowFactory.create("test", 1, true, List.of(5000f, 5000f))); // another split: not counted
    return spark.createDataFrame(rows, SCHEMA);
  }

  @Test
  void theSameDistributionHasNoDriftAndAShiftAboveTheTopDecileIsMajor() {
    SparkSession spark = SparkTestSession.get();
    EmbeddingProfile before =
        EmbeddingProfile.of(table(spark, i -> (float) i), Map.of("m", 2), "train");
    for (double[] s : before.shares().get("m")) {
      for (double share : s) {
        assertEquals(
            0.1,
            share,
            0.002 + 1e-12,
            "deciles of 1000 distinct values (approxQuantile error 0.001)");
      }
    }
    Dataset<Row> train =
        spark
            .createDataFrame(table(spark, i -> (float) i).collectAsList(), SCHEMA)
            .where("split = 'train'");
    double[] same = before.psi(train).get("m");
    assertEquals(0, same[0], 1e-12);
    assertEquals(0, same[1], 1e-12);

    // Dimension 1 moves above every edge: all subjects in the top bin. By hand, with shares of 0.1
    // before:
    // nine bins (1e-4 - 0.1) ln(1e-4 / 0.1) and one (1 - 0.1) ln(1 / 0.1). Shares within 0.002 of
    // 0.1 move
    // this by at most 9 * 0.002 * 7.9 + 0.002 * 11.3 < 0.2 (the derivatives of the terms at p =
    // 0.1).
    double byHand = 9 * (1e-4 - 0.1) * Math.log(1e-4 / 0.1) + 0.9 * Math.log(10);
    double[] shifted = before.psi(table(spark, i -> 10_000f + i).where("split = 'train'")).get("m");
    assertEquals(0, shifted[0], 1e-12);
    assertEquals(byHand, shifted[1], 0.2);
    assertTrue(shifted[1] > 0.25);
  }
}
