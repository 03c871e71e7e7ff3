package org.cohortfusion.spark.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Column;
import scala.collection.JavaConverters;

/**
 * How many rows hold each value of a column (cast to string, nulls skipped), as an aggregate that
 * can be an observed metric ({@link org.apache.spark.sql.Dataset#observe}): used on ingest's
 * aligned write (the QC groups: a few distinct values), so the written table is not read back.
 */
public final class ValueCounts {
  private ValueCounts() {}

  /** The counts of the values of {@code value}: a map from value to count. */
  public static Column of(Column value) {
    return new Column(
        new ValueCountsAggregate(value.cast("string").expr(), 0, 0).toAggregateExpression());
  }

  /**
   * Reads an observed result back (a Scala map, as {@link org.apache.spark.sql.Observation} gives
   * it): value to count; null for null.
   */
  public static Map<String, Long> fromResult(Object observed) {
    if (observed == null) {
      return null;
    }
    if (!(observed instanceof scala.collection.Map<?, ?> map)) {
      throw new IllegalStateException(
          "Cannot read value counts: the observed result is a " + observed.getClass().getName());
    }
    Map<String, Long> out = new LinkedHashMap<>();
    JavaConverters.mapAsJavaMap(map)
        .forEach((k, v) -> out.put((String) k, ((Number) v).longValue()));
    return out;
  }
}
