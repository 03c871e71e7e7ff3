package org.cohortfusion.cohort.ingest;

import java.nio.ByteBuffer;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import scala.collection.IndexedSeq;
import scala.collection.JavaConverters;
import scala.collection.Seq;

/**
 * Element-wise moments of a float- or double-array column over the rows where a condition holds
 * (the train split), as a Spark aggregate. Used as an observed metric of the aligned write, so the
 * normalisation statistics come from the rows as they are written, with Spark's exactly-once
 * accounting of observed metrics, and the written table is not read back for them.
 *
 * <p>Children: the condition, the values array and a 0/1 weights array of the same length (or a
 * null literal). The result is {@link ElementwiseMoments#toArray()}: count, sum and sum of squares
 * per bucket.
 *
 * <p>The moments are kept per partition and summed in partition order when read ({@link
 * ByPartition}): Spark merges the tasks' observed metrics in the order the tasks finish, and a sum
 * of doubles depends on its order, so the statistics would otherwise differ in their last digits
 * between two runs on the same input, and so would every model trained on data standardised by them.
 */
final class TrainSplitMoments extends ObservedAggregate<TrainSplitMoments.ByPartition> {
  private static final long serialVersionUID = 1L;

  private final Expression condition;
  private final Expression values;
  private final Expression weights;
  private final int buckets;
  private final int bucketSize;
  /** Whether the values are doubles rather than floats: known once the children are resolved. */
  private transient Boolean doubles;

  public TrainSplitMoments(Expression condition, Expression values, Expression weights, int buckets, int bucketSize,
      int mutableAggBufferOffset, int inputAggBufferOffset) {
    super(mutableAggBufferOffset, inputAggBufferOffset);
    this.condition = condition;
    this.values = values;
    this.weights = weights;
    this.buckets = buckets;
    this.bucketSize = bucketSize;
  }

  /**
   * The moments of {@code values} (length {@code buckets * bucketSize}) where {@code condition}
   * holds; {@code weights} may be null, and apply to float arrays only (a double array's nulls are
   * skipped, which is all the numeric tabular features need).
   */
  static Column of(Column condition, Column values, Column weights, int buckets, int bucketSize) {
    if (buckets <= 0 || bucketSize <= 0) {
      throw new IllegalArgumentException("Cannot compute moments: " + buckets + " buckets of size " + bucketSize);
    }
    Expression w = weights == null ? Literal.create(null, DataTypes.createArrayType(DataTypes.FloatType)) : weights.expr();
    return new Column(new TrainSplitMoments(condition.expr(), values.expr(), w, buckets, bucketSize, 0, 0).toAggregateExpression());
  }

  /** Reads an observed result back ({@link org.apache.spark.sql.Observation} gives Scala sequences). */
  static ElementwiseMoments fromResult(Object observed) {
    if (!(observed instanceof scala.collection.Seq<?> seq)) {
      throw new IllegalStateException("Cannot read moments from " + (observed == null ? "null" : observed.getClass().getName()));
    }
    return ElementwiseMoments.fromArray(JavaConverters.seqAsJavaList(seq).stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray());
  }

  @Override
  public ByPartition createAggregationBuffer() {
    org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
    return new ByPartition(buckets, task == null ? -1 : task.partitionId());
  }

  @Override
  public ByPartition update(ByPartition buffer, InternalRow input) {
    Object holds = condition.eval(input);
    if (!Boolean.TRUE.equals(holds)) {
      return buffer;
    }
    Object v = values.eval(input);
    if (v == null) {
      return buffer;
    }
    if (doubles == null) {
      doubles = ((org.apache.spark.sql.types.ArrayType) values.dataType()).elementType().equals(DataTypes.DoubleType);
    }
    ElementwiseMoments own = buffer.own();
    if (doubles) {
      own.addDoubles((ArrayData) v, bucketSize);
    } else {
      own.add((ArrayData) v, (ArrayData) weights.eval(input), bucketSize);
    }
    return buffer;
  }

  @Override
  public ByPartition merge(ByPartition buffer, ByPartition input) {
    return buffer.merge(input);
  }

  @Override
  public Object eval(ByPartition buffer) {
    return new GenericArrayData(buffer.total().toArray());
  }

  /** The partitions' moments in partition order: for each, its number and then {@link ElementwiseMoments#toArray()}. */
  @Override
  public byte[] serialize(ByPartition buffer) {
    ByteBuffer b = ByteBuffer.allocate(4 + buffer.parts.size() * (4 + 8 * 3 * buckets));
    b.putInt(buffer.parts.size());
    buffer.parts.forEach((partition, moments) -> {
      b.putInt(partition);
      for (double x : moments.toArray()) {
        b.putDouble(x);
      }
    });
    return b.array();
  }

  @Override
  public ByPartition deserialize(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    ByPartition buffer = new ByPartition(buckets, -1);
    int n = b.getInt();
    for (int i = 0; i < n; i++) {
      int partition = b.getInt();
      double[] a = new double[3 * buckets];
      b.asDoubleBuffer().get(a);
      b.position(b.position() + 8 * a.length);
      buffer.parts.put(partition, ElementwiseMoments.fromArray(a));
    }
    return buffer;
  }

  /**
   * Moments per partition of the observed rows. A task adds its rows to its own partition's
   * ({@link #own}); merging only gathers partitions, and {@link #total} sums them in partition
   * order, whatever order the tasks finished in.
   */
  static final class ByPartition implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    private final int buckets;
    private final int ownPartition;
    final java.util.TreeMap<Integer, ElementwiseMoments> parts = new java.util.TreeMap<>();
    private transient ElementwiseMoments own;

    ByPartition(int buckets, int ownPartition) {
      this.buckets = buckets;
      this.ownPartition = ownPartition;
    }

    ElementwiseMoments own() {
      if (own == null) {
        own = parts.computeIfAbsent(ownPartition, p -> new ElementwiseMoments(buckets));
      }
      return own;
    }

    ByPartition merge(ByPartition other) {
      other.parts.forEach((partition, moments) -> parts.merge(partition, moments, ElementwiseMoments::merge));
      return this;
    }

    ElementwiseMoments total() {
      ElementwiseMoments total = new ElementwiseMoments(buckets);
      parts.values().forEach(total::merge);
      return total;
    }
  }

  @Override
  List<Object> arguments() {
    return List.of(condition, values, weights, buckets, bucketSize);
  }

  @Override
  TrainSplitMoments withOffsets(int mutableAggBufferOffset, int inputAggBufferOffset) {
    return new TrainSplitMoments(condition, values, weights, buckets, bucketSize, mutableAggBufferOffset, inputAggBufferOffset);
  }

  @Override
  public boolean nullable() {
    return false;
  }

  @Override
  public DataType dataType() {
    return DataTypes.createArrayType(DataTypes.DoubleType, false);
  }

  @Override
  public Seq<Expression> children() {
    return JavaConverters.asScalaBuffer(List.of(condition, values, weights)).toSeq();
  }

  @Override
  public Expression withNewChildrenInternal(IndexedSeq<Expression> c) {
    return new TrainSplitMoments(c.apply(0), c.apply(1), c.apply(2), buckets, bucketSize, mutableAggBufferOffset(), inputAggBufferOffset());
  }

  @Override
  public String prettyName() {
    return "train_split_moments";
  }
}
