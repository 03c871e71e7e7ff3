package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.spark.internal.ArrayScans;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The array checks ({@link ArrayScans}) read Spark's internal arrays directly; this pins their
 * verdict on every kind of element, for arrays built in memory and for arrays read straight from a
 * Parquet batch, where the slot of a null element holds whatever the batch held before.
 */
class ArrayChecksTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  @Test
  void nullElementsAreFoundWordByWordInSparksRowFormat() {
    // The row format's null bits come in 64-bit words: a null in the first, a middle and the last
    // word, at word edges, and none, for lengths around the word size.
    for (int n : new int[] {0, 1, 63, 64, 65, 128, 256, 257}) {
      assertEquals(
          false,
          ArrayScans.hasNull(
              org.apache.spark.sql.catalyst.expressions.UnsafeArrayData.fromPrimitiveArray(
                  new float[n])),
          "no null, length " + n);
      for (int at : new int[] {0, 62, 63, 64, 127, 128, n - 1}) {
        if (at < 0 || at >= n) {
          continue;
        }
        org.apache.spark.sql.catalyst.expressions.UnsafeArrayData array =
            org.apache.spark.sql.catalyst.expressions.UnsafeArrayData.fromPrimitiveArray(
                new float[n]);
        array.setNullAt(at);
        assertEquals(true, ArrayScans.hasNull(array), "null at " + at + " of " + n);
        Object[] boxed = new Object[n];
        java.util.Arrays.fill(boxed, 1f);
        boxed[at] = null;
        assertEquals(
            true,
            ArrayScans.hasNull(new org.apache.spark.sql.catalyst.util.GenericArrayData(boxed)),
            "generic, null at " + at);
      }
    }
  }

  @Test
  void nullAndNonFiniteElementsAreFoundInArraysBuiltInMemory() {
    for (DataType element : List.of(DataTypes.FloatType, DataTypes.DoubleType)) {
      assertEquals(
          expected(true), reasons(rows(element, true), element, true), "element type " + element);
    }
  }

  @Test
  void nullAndNonFiniteElementsAreFoundInArraysReadFromParquet() {
    for (DataType element : List.of(DataTypes.FloatType, DataTypes.DoubleType)) {
      String path = dir.resolve("arrays-" + element.simpleString()).toString();
      // One file, one batch: a NaN row comes before the null rows, so stale slots could hold NaN.
      rows(element, true).coalesce(1).write().parquet(path);
      assertEquals(
          expected(true),
          reasons(spark.read().parquet(path), element, true),
          "element type " + element);
    }
  }

  /** An array whose type rules out null elements is checked by the bulk path: same verdicts. */
  @Test
  void nonFiniteElementsAreFoundInArraysWithoutNullElements() {
    for (DataType element : List.of(DataTypes.FloatType, DataTypes.DoubleType)) {
      String path = dir.resolve("required-" + element.simpleString()).toString();
      rows(element, false).coalesce(1).write().parquet(path);
      Dataset<Row> read = spark.read().parquet(path);
      assertEquals(expected(false), reasons(read, element, false), "element type " + element);
      assertEquals(
          expected(false),
          reasons(rows(element, false), element, false),
          "element type " + element + ", in memory");
    }
  }

  private Dataset<Row> rows(DataType element, boolean withNullElements) {
    boolean f = element == DataTypes.FloatType;
    Object nan = f ? (Object) Float.NaN : (Object) Double.NaN;
    Map<String, Object[]> cases = new LinkedHashMap<>();
    cases.put("clean", new Object[] {num(f, 1), num(f, -2), num(f, 0)});
    cases.put("nan", new Object[] {num(f, 1), nan, nan});
    if (withNullElements) {
      cases.put("null", new Object[] {num(f, 1), null, num(f, 3)});
      cases.put("null-and-nan", new Object[] {nan, null});
      cases.put("all-null", new Object[] {null, null});
    }
    cases.put(
        "inf",
        new Object[] {
          f ? (Object) Float.POSITIVE_INFINITY : (Object) Double.POSITIVE_INFINITY, num(f, 1)
        });
    cases.put(
        "-inf",
        new Object[] {
          num(f, 1), f ? (Object) Float.NEGATIVE_INFINITY : (Object) Double.NEGATIVE_INFINITY
        });
    cases.put(
        "max", new Object[] {f ? (Object) Float.MAX_VALUE : (Object) Double.MAX_VALUE, num(f, 1)});
    cases.put("empty", new Object[] {});
    List<Row> rows =
        new java.util.ArrayList<>(
            cases.entrySet().stream()
                .map(e -> RowFactory.create(e.getKey(), Arrays.asList(e.getValue())))
                .toList());
    rows.add(RowFactory.create("null-array", null));
    StructType schema =
        new StructType()
            .add("case", "string")
            .add("a", DataTypes.createArrayType(element, withNullElements));
    return spark.createDataFrame(rows, schema);
  }

  private static Map<String, String> reasons(
      Dataset<Row> df, DataType element, boolean mayHoldNull) {
    Dataset<Row> checked =
        TableValidator.applyChecks(
            df,
            TableValidator.arrayChecks(
                "a",
                col("a"),
                (ArrayType) DataTypes.createArrayType(element, true),
                true,
                mayHoldNull),
            "reason",
            "message");
    Map<String, String> reasons = new LinkedHashMap<>();
    for (Row r : checked.select("case", "reason").orderBy("case").collectAsList()) {
      reasons.put(r.getString(0), r.getString(1));
    }
    return reasons;
  }

  private static Map<String, String> expected(boolean withNullElements) {
    Map<String, String> expected = new java.util.TreeMap<>();
    expected.put("clean", null);
    expected.put("nan", "NON_FINITE");
    if (withNullElements) {
      expected.put("null", "NULL_VALUE");
      expected.put("null-and-nan", "NULL_VALUE");
      expected.put("all-null", "NULL_VALUE");
    }
    expected.put("inf", "NON_FINITE");
    expected.put("-inf", "NON_FINITE");
    expected.put("max", null);
    expected.put("empty", null);
    expected.put("null-array", null);
    return expected;
  }

  private static Object num(boolean f, double v) {
    return f ? (Object) (float) v : (Object) v;
  }
}
