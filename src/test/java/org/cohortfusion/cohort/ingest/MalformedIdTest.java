package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.trim;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.cohortfusion.spark.internal.Utf8Ids;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

/** The byte-level id rule gives the verdict of its definition in Spark SQL functions, id by id. */
class MalformedIdTest {
  private final SparkSession spark = SparkTestSession.get();

  @Test
  void agreesWithTheRuleInSparkSqlOnEveryKindOfId() {
    List<String> ids =
        new ArrayList<>(
            List.of(
                "P001",
                "",
                " ",
                "   ",
                " a ",
                "a b",
                "\t",
                "a\tb",
                "a\nb",
                "a\u0000",
                "\u001Fx",
                "x\u007F",
                "\u0080x",
                "é",
                "日本語",
                "\uD83D\uDE00",
                " \u00A0 ",
                "~"));
    ids.add("a".repeat(256));
    ids.add("a".repeat(257));
    ids.add("é".repeat(256)); // 512 bytes, 256 characters
    ids.add("é".repeat(257));
    ids.add("日".repeat(200) + "a".repeat(57));
    ids.add(" ".repeat(300));
    List<Row> rows = ids.stream().map(RowFactory::create).toList();
    var df =
        spark
            .createDataFrame(new ArrayList<>(rows), new StructType().add("subject_id", "string"))
            .union(
                spark.createDataFrame(
                    List.of(RowFactory.create((Object) null)),
                    new StructType().add("subject_id", "string")));
    var sqlRule =
        length(trim(col("subject_id")))
            .equalTo(0)
            .or(length(col("subject_id")).gt(256))
            .or(col("subject_id").rlike("[\\x00-\\x1F\\x7F]"));
    List<Row> verdicts =
        df.select(
                col("subject_id"), MalformedId.of(col("subject_id")).as("fast"), sqlRule.as("sql"))
            .collectAsList();
    assertEquals(ids.size() + 1, verdicts.size());
    int malformed = 0;
    for (Row r : verdicts) {
      String id = r.isNullAt(0) ? null : r.getString(0);
      assertEquals(
          r.get(2),
          r.get(1),
          () -> "id " + (id == null ? "null" : id.codePoints().boxed().toList()));
      malformed += r.isNullAt(1) || !r.getBoolean(1) ? 0 : 1;
    }
    assertEquals(13, malformed, "malformed ids among the cases");
    assertEquals(
        true, Utf8Ids.test(org.apache.spark.unsafe.types.UTF8String.fromString("a\u0001")));
  }

  /**
   * Ids whose bytes are not UTF-8 are malformed: the verdict agrees with the JDK's strict decoder
   * on hand-picked sequences and on random bytes (no control characters, so only validity decides).
   */
  @Test
  void bytesThatAreNotUtf8AreMalformed() {
    int[][] invalid = {
      {'S', 0xFF, '1'},
      {'S', 0xFE, '1'},
      {0x80},
      {'a', 0xBF},
      {0xC0, 0x80},
      {0xC1, 0xBF},
      {0xC3},
      {'a', 0xE6, 0x97},
      {0xE0, 0x80, 0x80},
      {0xE0, 0x9F, 0xBF},
      {0xED, 0xA0, 0x80},
      {0xED, 0xBF, 0xBF},
      {0xF0, 0x8F, 0xBF, 0xBF},
      {0xF4, 0x90, 0x80, 0x80},
      {0xF5, 0x80, 0x80, 0x80},
      {0xF0, 0x9F, 0x98},
      {0xC3, 'a'},
      {0xE6, 0x97, 'a'},
      {'S', 0xEF, 0xBF, 0xBD, '1'}
    }; // the last: U+FFFD, what a decoding reader leaves of invalid bytes
    for (int[] id : invalid) {
      assertTrue(
          Utf8Ids.test(UTF8String.fromBytes(bytes(id))), () -> java.util.Arrays.toString(id));
    }
    int[][] valid = {
      {'S', 0xC3, 0xA9},
      {0xE6, 0x97, 0xA5},
      {0xF0, 0x9F, 0x98, 0x80},
      {0xED, 0x9F, 0xBF},
      {0xEE, 0x80, 0x80},
      {0xF4, 0x8F, 0xBF, 0xBF},
      {0xC2, 0x80},
      {0xE0, 0xA0, 0x80},
      {0xF0, 0x90, 0x80, 0x80},
      {0xEF, 0xBF, 0xBC}
    };
    for (int[] id : valid) {
      assertFalse(
          Utf8Ids.test(UTF8String.fromBytes(bytes(id))), () -> java.util.Arrays.toString(id));
    }
    java.util.Random random = new java.util.Random(20261205);
    int malformed = 0;
    for (int n = 0; n < 20000; n++) {
      byte[] id = new byte[1 + random.nextInt(6)];
      for (int k = 0; k < id.length; k++) {
        int b;
        do {
          b = random.nextBoolean() ? 0x80 + random.nextInt(0x80) : 0x20 + random.nextInt(0x60);
        } while (b == 0x7F);
        id[k] = (byte) b;
      }
      boolean expected =
          !strictUtf8(id)
              || allSpaces(id)
              || new String(id, StandardCharsets.UTF_8).indexOf('\uFFFD') >= 0;
      assertEquals(
          expected, Utf8Ids.test(UTF8String.fromBytes(id)), () -> java.util.Arrays.toString(id));
      malformed += expected ? 1 : 0;
    }
    assertTrue(
        malformed > 1000 && malformed < 19000, "both verdicts among the random ids: " + malformed);
  }

  private static boolean allSpaces(byte[] id) {
    for (byte b : id) {
      if (b != ' ') {
        return false;
      }
    }
    return true;
  }

  private static boolean strictUtf8(byte[] id) {
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(id));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  private static byte[] bytes(int[] values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }
}
