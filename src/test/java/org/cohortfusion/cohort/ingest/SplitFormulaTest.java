package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.config.SplitConfig;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

/**
 * The unstratified hash split of a subject is a function of its id and the seed alone, as
 * SplitAssigner documents: u = (XXH64 of the UTF-8 bytes of "seed:split:id", hash seed 42 as
 * Spark's xxhash64, sign bit cleared) / 2^63, then train below the train fraction, validation below
 * train + validation, else test. The expected splits come from a plain Java XXH64 (the published
 * algorithm, checked against its reference vectors), not from Spark: a change of the formula, of
 * the hash, or of Spark's xxhash64 in an upgrade, would move subjects between splits across
 * snapshots.
 */
class SplitFormulaTest {
  private static final long P1 = 0x9E3779B185EBCA87L;
  private static final long P2 = 0xC2B2AE3D27D4EB4FL;
  private static final long P3 = 0x165667B19E3779F9L;
  private static final long P4 = 0x85EBCA77C2B2AE63L;
  private static final long P5 = 0x27D4EB2F165667C5L;

  private static long round(long acc, long lane) {
    return Long.rotateLeft(acc + lane * P2, 31) * P1;
  }

  private static long merge(long acc, long v) {
    return (acc ^ round(0, v)) * P1 + P4;
  }

  private static long longLe(byte[] b, int i) {
    long v = 0;
    for (int k = 7; k >= 0; k--) {
      v = (v << 8) | (b[i + k] & 0xFFL);
    }
    return v;
  }

  private static long intLe(byte[] b, int i) {
    long v = 0;
    for (int k = 3; k >= 0; k--) {
      v = (v << 8) | (b[i + k] & 0xFFL);
    }
    return v;
  }

  /** XXH64 (Collet), straight from the algorithm's description. */
  static long xxh64(byte[] b, long seed) {
    int i = 0;
    int n = b.length;
    long h;
    if (n >= 32) {
      long v1 = seed + P1 + P2;
      long v2 = seed + P2;
      long v3 = seed;
      long v4 = seed - P1;
      for (; i <= n - 32; i += 32) {
        v1 = round(v1, longLe(b, i));
        v2 = round(v2, longLe(b, i + 8));
        v3 = round(v3, longLe(b, i + 16));
        v4 = round(v4, longLe(b, i + 24));
      }
      h =
          Long.rotateLeft(v1, 1)
              + Long.rotateLeft(v2, 7)
              + Long.rotateLeft(v3, 12)
              + Long.rotateLeft(v4, 18);
      h = merge(merge(merge(merge(h, v1), v2), v3), v4);
    } else {
      h = seed + P5;
    }
    h += n;
    for (; i <= n - 8; i += 8) {
      h ^= round(0, longLe(b, i));
      h = Long.rotateLeft(h, 27) * P1 + P4;
    }
    if (i <= n - 4) {
      h ^= intLe(b, i) * P1;
      h = Long.rotateLeft(h, 23) * P2 + P3;
      i += 4;
    }
    for (; i < n; i++) {
      h ^= (b[i] & 0xFFL) * P5;
      h = Long.rotateLeft(h, 11) * P1;
    }
    h ^= h >>> 33;
    h *= P2;
    h ^= h >>> 29;
    h *= P3;
    h ^= h >>> 32;
    return h;
  }

  @Test
  void theReferenceHashGivesThePublishedXxh64Vectors() {
    assertEquals(0xEF46DB3751D8E999L, xxh64(new byte[0], 0));
    assertEquals(0x44BC2CF5AD770999L, xxh64("abc".getBytes(StandardCharsets.US_ASCII), 0));
  }

  @Test
  void unstratifiedHashSplitsFollowTheDocumentedFormula() {
    List<Row> rows = new ArrayList<>();
    Map<String, String> expected = new TreeMap<>();
    long seed = 11;
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      ids.add("P" + i);
    }
    // ids of 0 to 40 bytes cover every tail of the hash (8-, 4- and 1-byte steps, and the 32-byte
    // stripes)
    ids.add("");
    ids.add("patient-0001-with-a-rather-long-identifier");
    ids.add("d\u00e9j\u00e0-\u00fcber-\u6f22\u5b57");
    for (String id : ids) {
      rows.add(RowFactory.create(id, id.length() % 2));
      long h = xxh64((seed + ":split:" + id).getBytes(StandardCharsets.UTF_8), 42);
      double u = (h & Long.MAX_VALUE) / Math.pow(2, 63);
      expected.put(id, u < 0.7 ? "train" : u < 0.85 ? "validation" : "test");
    }
    var subjects =
        SparkTestSession.get()
            .createDataFrame(
                rows,
                new StructType()
                    .add("subject_id", DataTypes.StringType)
                    .add("label", DataTypes.IntegerType));
    Map<String, String> actual = new TreeMap<>();
    for (Row r :
        SplitAssigner.assign(
                subjects,
                new SplitConfig(SplitConfig.Mode.HASH, seed, 0.7, 0.15, 0.15, false, 0, 1))
            .select("subject_id", "split")
            .collectAsList()) {
      actual.put(r.getString(0), r.getString(1));
    }
    assertEquals(expected.keySet(), actual.keySet());
    // Counts only: no subject's split in the output.
    long differ =
        expected.keySet().stream().filter(id -> !expected.get(id).equals(actual.get(id))).count();
    assertEquals(
        0,
        differ,
        differ + " of " + expected.size() + " subjects are not in the split of the formula");
  }
}
