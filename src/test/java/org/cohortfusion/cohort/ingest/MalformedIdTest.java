package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.trim;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

/** The byte-level id rule gives the verdict of its definition in Spark SQL functions, id by id. */
class MalformedIdTest {
  private final SparkSession spark = SparkTestSession.get();

  @Test
  void agreesWithTheRuleInSparkSqlOnEveryKindOfId() {
    List<String> ids = new ArrayList<>(List.of("P001", "", " ", "   ", " a ", "a b", "\t", "a\tb", "a\nb", "a\u0000", "\u001Fx",
        "x\u007F", "\u0080x", "é", "日本語", "\uD83D\uDE00", " \u00A0 ", "~"));
    ids.add("a".repeat(256));
    ids.add("a".repeat(257));
    ids.add("é".repeat(256)); // 512 bytes, 256 characters
    ids.add("é".repeat(257));
    ids.add("日".repeat(200) + "a".repeat(57));
    ids.add(" ".repeat(300));
    List<Row> rows = ids.stream().map(RowFactory::create).toList();
    var df = spark.createDataFrame(new ArrayList<>(rows), new StructType().add("subject_id", "string"))
        .union(spark.createDataFrame(List.of(RowFactory.create((Object) null)), new StructType().add("subject_id", "string")));
    var sqlRule = length(trim(col("subject_id"))).equalTo(0).or(length(col("subject_id")).gt(256))
        .or(col("subject_id").rlike("[\\x00-\\x1F\\x7F]"));
    List<Row> verdicts = df.select(col("subject_id"), MalformedId.of(col("subject_id")).as("fast"), sqlRule.as("sql")).collectAsList();
    assertEquals(ids.size() + 1, verdicts.size());
    int malformed = 0;
    for (Row r : verdicts) {
      String id = r.isNullAt(0) ? null : r.getString(0);
      assertEquals(r.get(2), r.get(1), () -> "id " + (id == null ? "null" : id.codePoints().boxed().toList()));
      malformed += r.isNullAt(1) || !r.getBoolean(1) ? 0 : 1;
    }
    assertEquals(13, malformed, "malformed ids among the cases");
    assertEquals(true, MalformedId.test(org.apache.spark.unsafe.types.UTF8String.fromString("a\u0001")));
  }
}
