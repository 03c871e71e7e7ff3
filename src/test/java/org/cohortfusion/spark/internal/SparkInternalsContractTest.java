package org.cohortfusion.spark.internal;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.exists;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.substring;
import static org.apache.spark.sql.functions.trim;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.expressions.aggregate.TypedImperativeAggregate;
import org.apache.spark.sql.catalyst.expressions.objects.StaticInvoke;
import org.apache.spark.sql.execution.QueryExecution;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.Platform;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.collection.Seq;

/**
 * What {@code spark.internal} relies on in Spark's internals, each against a computation of the
 * same result on the public API as the oracle, in Spark's generated code and interpreted. A failure
 * after a Spark upgrade names what changed and which class of this package to rewrite (or to
 * replace by the public API, measuring {@code bench ingest} and {@code bench extract}).
 */
class SparkInternalsContractTest {
  private static final String UPGRADE = "Spark " + SparkTestSession.get().version();

  private final SparkSession interpreted = SparkTestSession.get();

  @TempDir Path dir;

  /** Both ways Spark evaluates a projection: generated code only (no fallback), interpreted. */
  private List<SparkSession> sessions() {
    SparkSession generated = interpreted.newSession();
    generated.conf().set("spark.sql.codegen.wholeStage", "true");
    generated.conf().set("spark.sql.codegen.factoryMode", "CODEGEN_ONLY");
    return List.of(generated, interpreted);
  }

  private static String mode(SparkSession s) {
    return s.conf().get("spark.sql.codegen.factoryMode");
  }

  @Test
  void theClassesAndSignaturesUsedStillExist() {
    signature(
        "StaticInvoke's constructor (Class, DataType, String, Seq arguments, Seq input types,"
            + " propagateNull, returnNullable, isDeterministic), which CompiledCall calls",
        () ->
            StaticInvoke.class.getConstructor(
                Class.class,
                DataType.class,
                String.class,
                Seq.class,
                Seq.class,
                boolean.class,
                boolean.class,
                boolean.class));
    signature(
        "Column's public constructor from a Catalyst Expression, which CompiledCall and ValueCounts"
            + " use",
        () -> Column.class.getConstructor(Expression.class));
    signature(
        "Column.expr(), which CompiledCall reads its arguments with",
        () -> Column.class.getMethod("expr"));
    signature(
        "QueryExecution.toRdd() (an RDD of InternalRow), which FieldRows reads",
        () -> QueryExecution.class.getMethod("toRdd"));
    signature(
        "TypedImperativeAggregate.toAggregateExpression(), which ValueCounts wraps its aggregate in",
        () -> TypedImperativeAggregate.class.getMethod("toAggregateExpression"));
    signature(
        "Platform.getLong(Object, long) and Platform.getByte(Object, long), which ArrayScans and"
            + " Utf8Ids read raw memory with",
        () -> {
          Platform.class.getMethod("getLong", Object.class, long.class);
          return Platform.class.getMethod("getByte", Object.class, long.class);
        });
  }

  private interface Lookup {
    Object find() throws ReflectiveOperationException;
  }

  private static void signature(String what, Lookup lookup) {
    try {
      Object found = lookup.find();
      if (found instanceof Constructor<?> c && !Modifier.isPublic(c.getModifiers())) {
        fail(UPGRADE + " made " + what + " non-public");
      }
    } catch (ReflectiveOperationException e) {
      fail(UPGRADE + " no longer has " + what + ": " + e, e);
    }
  }

  /**
   * ArrayScans.hasNull tests the null bits a word at a time: the element count in the first 8
   * bytes, then bit i of word i / 64 for element i, unused bits zero.
   */
  @Test
  void unsafeArraysKeepTheirNullBitsInWholeWordsAfterTheCount() {
    for (int n : new int[] {1, 63, 64, 65, 256}) {
      for (int at : new int[] {0, 63, 64, n - 1}) {
        if (at >= n) {
          continue;
        }
        UnsafeArrayData array = UnsafeArrayData.fromPrimitiveArray(new float[n]);
        array.setNullAt(at);
        Object base = array.getBaseObject();
        long offset = array.getBaseOffset();
        long[] words = new long[(n + 63) / 64];
        for (int w = 0; w < words.length; w++) {
          words[w] = Platform.getLong(base, offset + 8 + 8L * w);
        }
        long[] expected = new long[words.length];
        expected[at / 64] = 1L << (at % 64);
        if (Platform.getLong(base, offset) != n || !Arrays.equals(expected, words)) {
          fail(
              UPGRADE
                  + " changed UnsafeArrayData's layout (an 8-byte element count, then null bits in"
                  + " whole 8-byte words, bit i for element i): read count "
                  + Platform.getLong(base, offset)
                  + " and words "
                  + Arrays.toString(words)
                  + " for a null at "
                  + at
                  + " of "
                  + n
                  + ", expected "
                  + Arrays.toString(expected)
                  + "; ArrayScans.hasNull reads those bits directly");
        }
      }
    }
  }

  @Test
  void arrayScansAgreeWithSparkFunctionsInMemoryAndFromParquet() {
    StructType schema =
        new StructType().add("v", DataTypes.createArrayType(DataTypes.FloatType, true));
    List<Row> rows = new ArrayList<>();
    for (int n : new int[] {0, 1, 64, 65, 256}) {
      for (int at : new int[] {-1, 0, 63, 64, n - 1}) {
        Float[] v = new Float[n];
        Arrays.fill(v, 1.5f);
        if (at >= 0 && at < n) {
          v[at] = null;
        }
        rows.add(RowFactory.create((Object) v));
        Float[] nonFinite = v.clone();
        if (n > 2) {
          nonFinite[n / 2] = at % 2 == 0 ? Float.NaN : Float.NEGATIVE_INFINITY;
        }
        rows.add(RowFactory.create((Object) nonFinite));
      }
    }
    rows.add(RowFactory.create((Object) null));
    String parquet = dir.resolve("arrays").toString();
    interpreted.createDataFrame(rows, schema).write().parquet(parquet);
    for (SparkSession s : sessions()) {
      for (Dataset<Row> df :
          List.of(s.createDataFrame(rows, schema), s.read().schema(schema).parquet(parquet))) {
        Column v = col("v");
        Column nullOracle = exists(v, x -> x.isNull());
        Column nonFiniteOracle =
            exists(
                v,
                x ->
                    x.isNotNull()
                        .and(
                            x.isNaN()
                                .or(x.equalTo(lit(Float.POSITIVE_INFINITY)))
                                .or(x.equalTo(lit(Float.NEGATIVE_INFINITY)))));
        List<Row> out =
            df.select(
                    v,
                    ArrayScans.hasNull(v),
                    nullOracle,
                    ArrayScans.hasNonFinite(
                        v, DataTypes.createArrayType(DataTypes.FloatType, true), true),
                    nonFiniteOracle,
                    ArrayScans.firstNull(v))
                .collectAsList();
        for (Row r : out) {
          String where =
              " (" + mode(s) + ", " + (r.isNullAt(0) ? "null" : r.getList(0).size()) + ")";
          agree(
              r.get(2),
              r.get(1),
              "ArrayScans.hasNull against exists(v, x -> x IS NULL)" + where,
              "the array arguments StaticInvoke passes, or UnsafeArrayData's null bits");
          agree(
              r.get(4),
              r.get(3),
              "ArrayScans.hasNonFinite against exists(v, NaN or infinite)" + where,
              "the array arguments StaticInvoke passes, or ArrayData.isNullAt/getFloat");
          Object firstNull = r.isNullAt(0) ? null : r.getList(0).indexOf(null);
          agree(
              firstNull, r.get(5), "ArrayScans.firstNull against Row.getList" + where, "ArrayData");
        }
      }
    }
  }

  @Test
  void utf8IdsReadTheBytesSparkHoldsEvenInsideALargerString() {
    StructType schema = new StructType().add("id", "string");
    List<Row> rows = new ArrayList<>();
    for (String id :
        List.of(
            "P001", "", "   ", " a", "a\tb", "x\u007F", "é", "日本語", "a\uFFFDb", "a".repeat(257))) {
      rows.add(RowFactory.create(id));
    }
    for (SparkSession s : sessions()) {
      // substring gives a UTF8String that points into the middle of another's bytes (offset > 0)
      Dataset<Row> df =
          s.createDataFrame(rows, schema)
              .select(col("id"), substring(col("id"), 2, 1000).as("tail"));
      for (String c : List.of("id", "tail")) {
        Column id = col(c);
        Column oracle =
            length(trim(id))
                .equalTo(0)
                .or(length(id).gt(Utf8Ids.MAX_CHARACTERS))
                .or(id.rlike("[\\x00-\\x1F\\x7F\\x{FFFD}]"));
        for (Row r : df.select(id, Utf8Ids.malformed(id), oracle).collectAsList()) {
          agree(
              r.get(2),
              r.get(1),
              "Utf8Ids.malformed of an id of "
                  + r.getString(0).length()
                  + " characters ("
                  + c
                  + ", "
                  + mode(s)
                  + ") against Spark SQL's rule",
              "UTF8String's getBaseObject/getBaseOffset/numBytes or the string StaticInvoke passes");
        }
      }
    }
  }

  /** The aggregate buffer contract, where ingest uses it: an observed metric over many tasks. */
  @Test
  void valueCountsAsAnObservedMetricCountWhatGroupByCounts() throws InterruptedException {
    StructType schema = new StructType().add("g", "string").add("k", "int");
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      rows.add(RowFactory.create(i % 11 == 0 ? null : "group-" + (i % 7), i));
    }
    for (SparkSession s : sessions()) {
      Dataset<Row> df = s.createDataFrame(rows, schema).repartition(5);
      Map<String, Long> oracle = new HashMap<>();
      for (Row r : df.where(col("g").isNotNull()).groupBy("g").count().collectAsList()) {
        oracle.put(r.getString(0), r.getLong(1));
      }
      Observation observation = new Observation("value_counts_contract");
      // a shuffle after the observation: partial buffers come from several tasks
      df.observe(observation, ValueCounts.of(col("g")).as("counts")).groupBy("k").count().count();
      Map<String, Long> observed = ValueCounts.fromResult(observation.getAsJava().get("counts"));
      if (!oracle.equals(observed)) {
        fail(
            UPGRADE
                + " changed the TypedImperativeAggregate contract (buffer create/update/merge/"
                + "serialize, offsets, or how Dataset.observe collects task results): ValueCounts"
                + " observed "
                + observed
                + " where groupBy().count() gives "
                + oracle
                + " ("
                + mode(s)
                + ")");
      }
      // and as an ordinary aggregate (partial buffers serialized across the shuffle)
      Row agg = df.agg(ValueCounts.of(col("g"))).first();
      assertEquals(
          oracle,
          ValueCounts.fromResult(agg.get(0)),
          UPGRADE + " changed the aggregate contract: ValueCounts in agg() (" + mode(s) + ")");
    }
  }

  @Test
  void timeSeriesCallReadsStructElementsAndReturnsItsStruct() {
    StructType element =
        new StructType()
            .add("t", "double", false)
            .add("f", "string", false)
            .add("r", "long", false)
            .add("v0", "float", false)
            .add("o0", "float", false);
    StructType schema =
        new StructType()
            .add("obs", DataTypes.createArrayType(element, false))
            .add("index_time", "double");
    List<Row> rows = new ArrayList<>();
    for (int n = 1; n <= 6; n++) {
      List<Row> obs = new ArrayList<>();
      for (int i = n; i >= 1; i--) { // unsorted: the call sorts them by time
        obs.add(RowFactory.create((double) i, "file", (long) i, 10f * i, 1f));
      }
      rows.add(RowFactory.create(obs.toArray(), 4.0));
    }
    int steps = 3;
    for (SparkSession s : sessions()) {
      List<Row> out =
          s.createDataFrame(rows, schema)
              .select(
                  col("obs"),
                  TimeSeriesCall.of(col("obs"), false, col("index_time"), 1, steps, null).as("ts"))
              .collectAsList();
      for (Row r : out) {
        int n = r.getList(0).size();
        // the oracle: observations at times 1..n, those at or before index time 4 used
        int used = Math.min(n, 4);
        float[] values = new float[steps];
        for (int s2 = 0; s2 < Math.min(steps, used); s2++) {
          values[steps - 1 - s2] = 10f * (used - s2);
        }
        Row ts = r.getStruct(1);
        Row tensor = ts.getStruct(ts.fieldIndex("tensor"));
        List<Object> got =
            Arrays.asList(
                ts.getInt(0),
                ts.getInt(1),
                ts.getInt(2),
                tensor.getList(0),
                ts.getDouble(4),
                ts.getDouble(5));
        List<Object> expected = new ArrayList<>();
        expected.add(n);
        expected.add(0);
        expected.add(n - used);
        List<Float> v = new ArrayList<>();
        for (float x : values) {
          v.add(x);
        }
        expected.add(v);
        expected.add(1.0);
        expected.add((double) n);
        agree(
            expected,
            got,
            "TimeSeriesCall of " + n + " observations (" + mode(s) + ")",
            "how StaticInvoke passes an array of structs or takes back a GenericInternalRow of"
                + " UnsafeArrayData");
      }
    }
  }

  @Test
  void fieldRowsReadWhatRowsRead() {
    StructType schema =
        new StructType()
            .add("s", "string")
            .add("i", "int")
            .add("l", "long")
            .add("d", "double")
            .add("b", "boolean")
            .add("f", "float")
            .add("a", DataTypes.createArrayType(DataTypes.FloatType, false))
            .add("st", new StructType().add("x", "double").add("y", "string"));
    List<Row> rows =
        List.of(
            RowFactory.create(
                "é1", 1, 2L, 3.5, true, 0.25f, new float[] {1f, 2f}, RowFactory.create(4.5, "y")),
            RowFactory.create(null, 7, 8L, -1.0, false, 1f, new float[0], null));
    for (SparkSession s : sessions()) {
      Dataset<Row> df = s.createDataFrame(rows, schema).orderBy("i");
      List<Row> oracle = df.collectAsList();
      List<FieldRow> read = FieldRows.of(df).map(FieldRow::copy).collect();
      assertEquals(oracle.size(), read.size(), UPGRADE + ": queryExecution().toRdd() row count");
      for (int k = 0; k < oracle.size(); k++) {
        Row o = oracle.get(k);
        FieldRow f = read.get(k);
        List<Object> expected = new ArrayList<>();
        List<Object> got = new ArrayList<>();
        expected.add(o.isNullAt(0) ? null : o.getString(0));
        got.add(f.isNullAt(0) ? null : f.getString(0));
        expected.addAll(List.of(o.getInt(1), o.getLong(2), o.getDouble(3), o.getBoolean(4)));
        got.addAll(List.of(f.getInt(1), f.getLong(2), f.getDouble(3), f.getBoolean(4)));
        expected.add(o.getFloat(5));
        got.add(f.getFloat(5));
        List<Float> a = new ArrayList<>();
        for (float x : f.getFloats(6)) {
          a.add(x);
        }
        expected.add(o.getList(6));
        got.add(a);
        expected.add(
            o.isNullAt(7)
                ? null
                : List.of(o.getStruct(7).getDouble(0), o.getStruct(7).getString(1)));
        got.add(
            f.isNullAt(7)
                ? null
                : List.of(f.getStruct(7, 2).getDouble(0), f.getStruct(7, 2).getString(1)));
        agree(
            expected,
            got,
            "FieldRows row " + k + " (" + mode(s) + ")",
            "InternalRow's accessors or what queryExecution().toRdd() yields");
      }
    }
  }

  private static void agree(Object oracle, Object got, String what, String suspect) {
    if (!java.util.Objects.equals(oracle, got)) {
      fail(
          UPGRADE
              + " changed what spark.internal relies on ("
              + suspect
              + "): "
              + what
              + " gave "
              + got
              + ", the public API "
              + oracle);
    }
  }
}
