package org.cohortfusion.spark.internal;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.aggregate.ImperativeAggregate;
import org.apache.spark.sql.catalyst.expressions.aggregate.TypedImperativeAggregate;

/**
 * What every aggregate of ours observed on the aligned write shares: Spark's buffer offsets and the
 * case-class contract Catalyst expects of an expression (its constructor arguments, in order, as
 * product elements; equality over them). A subclass names its arguments before the two offsets
 * ({@link #arguments()}) and copies itself with new offsets ({@link #withOffsets}).
 *
 * <p>A {@link TypedImperativeAggregate}, as Spark's own percentile_approx is, because a typed
 * {@code Aggregator} cannot be an observed metric in Spark 3.5: its encoders do not serialize with
 * the task result. Kept internal for that reason, not for speed: without it a QC count would be a
 * job of its own over the written table.
 */
abstract class ObservedAggregate<T> extends TypedImperativeAggregate<T>
    implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private final int mutableAggBufferOffset;
  private final int inputAggBufferOffset;

  ObservedAggregate(int mutableAggBufferOffset, int inputAggBufferOffset) {
    this.mutableAggBufferOffset = mutableAggBufferOffset;
    this.inputAggBufferOffset = inputAggBufferOffset;
  }

  /** The constructor's arguments before the two offsets, in order. */
  abstract List<Object> arguments();

  /** This aggregate with other buffer offsets. */
  abstract ObservedAggregate<T> withOffsets(int mutableAggBufferOffset, int inputAggBufferOffset);

  @Override
  public final int mutableAggBufferOffset() {
    return mutableAggBufferOffset;
  }

  @Override
  public final int inputAggBufferOffset() {
    return inputAggBufferOffset;
  }

  @Override
  public final ImperativeAggregate withNewMutableAggBufferOffset(int offset) {
    return withOffsets(offset, inputAggBufferOffset);
  }

  @Override
  public final ImperativeAggregate withNewInputAggBufferOffset(int offset) {
    return withOffsets(mutableAggBufferOffset, offset);
  }

  private List<Object> elements() {
    List<Object> all = new ArrayList<>(arguments());
    all.add(mutableAggBufferOffset);
    all.add(inputAggBufferOffset);
    return all;
  }

  @Override
  public final int productArity() {
    return arguments().size() + 2;
  }

  @Override
  public final Object productElement(int n) {
    return elements().get(n);
  }

  @Override
  public final boolean canEqual(Object that) {
    return that != null && that.getClass() == getClass();
  }

  @Override
  public final boolean equals(Object o) {
    return canEqual(o) && ((ObservedAggregate<?>) o).elements().equals(elements());
  }

  @Override
  public final int hashCode() {
    return java.util.Objects.hash(getClass(), elements());
  }
}
