package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

/** The train-split moments as the driver merges them from the tasks of the aligned write. */
class TrainSplitMomentsTest {
  private static final double[] PER_PARTITION = {1e16, 1.0, -1e16, 1.0};

  private static final TrainSplitMoments AGGREGATE = new TrainSplitMoments(Literal.create(true, DataTypes.BooleanType),
      Literal.create(null, DataTypes.createArrayType(DataTypes.DoubleType)),
      Literal.create(null, DataTypes.createArrayType(DataTypes.FloatType)), 1, 1, 0, 0);

  /** What one task sends: its partition's moments, serialized. */
  private static byte[] task(int partition) {
    TrainSplitMoments.ByPartition buffer = new TrainSplitMoments.ByPartition(1, partition);
    buffer.own().addDoubles(new GenericArrayData(new Object[] {PER_PARTITION[partition]}), 1);
    return AGGREGATE.serialize(buffer);
  }

  private static double[] mergedInOrder(List<Integer> finished) {
    TrainSplitMoments.ByPartition driver = AGGREGATE.createAggregationBuffer();
    for (int partition : finished) {
      driver = AGGREGATE.merge(driver, AGGREGATE.deserialize(task(partition)));
    }
    return ((GenericArrayData) AGGREGATE.eval(driver)).toDoubleArray();
  }

  @Test
  void theMergedMomentsDoNotDependOnTheOrderTasksFinishIn() {
    // Summed as the tasks finish, the total depends on the order (1e16 + 1 rounds to 1e16).
    double inOrder = ((1e16 + 1.0) + -1e16) + 1.0;
    double otherOrder = ((-1e16 + 1e16) + 1.0) + 1.0;
    assertNotEquals(inOrder, otherOrder);
    double[] expected = {4, inOrder, 1e32 + 1 + 1e32 + 1};
    assertArrayEquals(expected, mergedInOrder(List.of(0, 1, 2, 3)));
    assertArrayEquals(expected, mergedInOrder(List.of(2, 0, 3, 1)));
    assertArrayEquals(expected, mergedInOrder(List.of(3, 2, 1, 0)));
  }

  @Test
  void aBufferSurvivesSerializationWithEveryPartition() {
    TrainSplitMoments.ByPartition merged = AGGREGATE.createAggregationBuffer();
    for (int partition = 0; partition < 4; partition++) {
      merged = AGGREGATE.merge(merged, AGGREGATE.deserialize(task(partition)));
    }
    TrainSplitMoments.ByPartition copy = AGGREGATE.deserialize(AGGREGATE.serialize(merged));
    assertEquals(merged.parts.keySet(), copy.parts.keySet());
    assertArrayEquals(((GenericArrayData) AGGREGATE.eval(merged)).toDoubleArray(), ((GenericArrayData) AGGREGATE.eval(copy)).toDoubleArray());
  }
}
