package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

/** The array checks are written without lambdas; this pins their verdict on every kind of element. */
class ArrayChecksTest {
  private final SparkSession spark = SparkTestSession.get();

  @Test
  void nullAndNonFiniteElementsAreFoundInFloatAndDoubleArrays() {
    for (org.apache.spark.sql.types.DataType element : List.of(DataTypes.FloatType, DataTypes.DoubleType)) {
      boolean f = element == DataTypes.FloatType;
      Map<String, Object[]> cases = new LinkedHashMap<>();
      cases.put("clean", new Object[] {num(f, 1), num(f, -2), num(f, 0)});
      cases.put("null", new Object[] {num(f, 1), null, num(f, 3)});
      cases.put("nan", new Object[] {num(f, 1), f ? (Object) Float.NaN : (Object) Double.NaN});
      cases.put("inf", new Object[] {f ? (Object) Float.POSITIVE_INFINITY : (Object) Double.POSITIVE_INFINITY, num(f, 1)});
      cases.put("-inf", new Object[] {num(f, 1), f ? (Object) Float.NEGATIVE_INFINITY : (Object) Double.NEGATIVE_INFINITY});
      cases.put("all-null", new Object[] {null, null});
      cases.put("empty", new Object[] {});
      List<Row> rows = cases.entrySet().stream().map(e -> RowFactory.create(e.getKey(), Arrays.asList(e.getValue()))).toList();
      List<Row> withNullArray = new java.util.ArrayList<>(rows);
      withNullArray.add(RowFactory.create("null-array", null));
      StructType schema = new StructType().add("case", "string").add("a", DataTypes.createArrayType(element, true));
      var checked = TableValidator.applyChecks(spark.createDataFrame(withNullArray, schema),
          TableValidator.arrayChecks("a", col("a"), true, true), "reason", "message");
      Map<String, String> reasons = new LinkedHashMap<>();
      for (Row r : checked.select("case", "reason").collectAsList()) {
        reasons.put(r.getString(0), r.getString(1));
      }
      Map<String, String> expected = new LinkedHashMap<>();
      expected.put("clean", null);
      expected.put("null", "NULL_VALUE");
      expected.put("nan", "NON_FINITE");
      expected.put("inf", "NON_FINITE");
      expected.put("-inf", "NON_FINITE");
      expected.put("all-null", "NULL_VALUE");
      expected.put("empty", null);
      expected.put("null-array", null);
      assertEquals(expected, reasons, "element type " + element);
    }
  }

  private static Object num(boolean f, double v) {
    return f ? (Object) (float) v : (Object) v;
  }
}
