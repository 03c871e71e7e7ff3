package org.cohortfusion.spark.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.util.ArrayBasedMapData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.unsafe.types.UTF8String;
import scala.collection.IndexedSeq;
import scala.collection.JavaConverters;
import scala.collection.Seq;

/**
 * How many rows hold each value of a string column (nulls skipped), as a Spark aggregate: a map
 * from value to count ({@link ValueCounts}).
 */
final class ValueCountsAggregate extends ObservedAggregate<ValueCountsAggregate.Counts> {
  private static final long serialVersionUID = 1L;

  /** The counts so far. */
  static final class Counts implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    final HashMap<UTF8String, long[]> byValue = new HashMap<>();

    void add(UTF8String value, long n) {
      long[] count = byValue.get(value);
      if (count != null) {
        count[0] += n;
      } else {
        byValue.put(value.copy(), new long[] {n});
      }
    }
  }

  private final Expression value;

  public ValueCountsAggregate(
      Expression value, int mutableAggBufferOffset, int inputAggBufferOffset) {
    super(mutableAggBufferOffset, inputAggBufferOffset);
    this.value = value;
  }

  @Override
  public Counts createAggregationBuffer() {
    return new Counts();
  }

  @Override
  public Counts update(Counts buffer, InternalRow input) {
    Object v = value.eval(input);
    if (v != null) {
      buffer.add((UTF8String) v, 1);
    }
    return buffer;
  }

  @Override
  public Counts merge(Counts buffer, Counts input) {
    input.byValue.forEach((k, n) -> buffer.add(k, n[0]));
    return buffer;
  }

  @Override
  public Object eval(Counts buffer) {
    Object[] keys = new Object[buffer.byValue.size()];
    Object[] counts = new Object[keys.length];
    int i = 0;
    for (Map.Entry<UTF8String, long[]> e : buffer.byValue.entrySet()) {
      keys[i] = e.getKey();
      counts[i++] = e.getValue()[0];
    }
    return new ArrayBasedMapData(new GenericArrayData(keys), new GenericArrayData(counts));
  }

  @Override
  public byte[] serialize(Counts buffer) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(buffer.byValue.size());
      for (Map.Entry<UTF8String, long[]> e : buffer.byValue.entrySet()) {
        byte[] k = e.getKey().getBytes();
        out.writeInt(k.length);
        out.write(k);
        out.writeLong(e.getValue()[0]);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  @Override
  public Counts deserialize(byte[] bytes) {
    Counts counts = new Counts();
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int n = in.readInt();
      for (int i = 0; i < n; i++) {
        byte[] k = new byte[in.readInt()];
        in.readFully(k);
        counts.byValue.put(UTF8String.fromBytes(k), new long[] {in.readLong()});
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return counts;
  }

  @Override
  List<Object> arguments() {
    return List.of(value);
  }

  @Override
  ValueCountsAggregate withOffsets(int mutableAggBufferOffset, int inputAggBufferOffset) {
    return new ValueCountsAggregate(value, mutableAggBufferOffset, inputAggBufferOffset);
  }

  @Override
  public boolean nullable() {
    return true;
  }

  @Override
  public DataType dataType() {
    return DataTypes.createMapType(DataTypes.StringType, DataTypes.LongType, false);
  }

  @Override
  public Seq<Expression> children() {
    return JavaConverters.asScalaBuffer(List.of(value)).toSeq();
  }

  @Override
  public Expression withNewChildrenInternal(IndexedSeq<Expression> c) {
    return new ValueCountsAggregate(c.apply(0), mutableAggBufferOffset(), inputAggBufferOffset());
  }

  @Override
  public String prettyName() {
    return "value_counts";
  }
}
