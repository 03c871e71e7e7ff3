package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.config.SplitConfig;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

class SplitAssignerTest {
  private final SparkSession spark = SparkTestSession.get();

  private Dataset<Row> subjects(int n, boolean shuffled) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(RowFactory.create("P" + i, i % 4 == 0 ? 1 : 0));
    }
    if (shuffled) {
      Collections.shuffle(rows, new java.util.Random(3));
    }
    StructType schema =
        new StructType()
            .add("subject_id", DataTypes.StringType)
            .add("label", DataTypes.IntegerType);
    return spark.createDataFrame(rows, schema).repartition(shuffled ? 3 : 1);
  }

  private static Map<String, String> splits(Dataset<Row> df) {
    return df.select("subject_id", "split").collectAsList().stream()
        .collect(Collectors.toMap(r -> r.getString(0), r -> r.getString(1)));
  }

  private static SplitConfig config(long seed, boolean stratify, int folds) {
    return new SplitConfig(SplitConfig.Mode.HASH, seed, 0.7, 0.15, 0.15, stratify, folds, 1);
  }

  /**
   * u of a subject as the class Javadoc of {@link SplitAssigner} defines it, computed without
   * Spark: XXH64 (seed 42, Spark's xxhash64) of the UTF-8 bytes of "seed:salt:subject_id" by
   * lz4-java's own implementation, sign bit cleared, over 2^63.
   */
  private static double referenceU(long seed, String salt, String id) {
    byte[] bytes = (seed + ":" + salt + ":" + id).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    long h =
        net.jpountz.xxhash.XXHashFactory.safeInstance().hash64().hash(bytes, 0, bytes.length, 42L);
    return (h & Long.MAX_VALUE) / 9.223372036854775807E18;
  }

  /**
   * Every subject's rank within its label (null labels together) when ordered by {@link
   * #referenceU} and then subject_id, and the size of its label: id -> {rank, n}.
   */
  private static Map<String, long[]> referenceRanks(Dataset<Row> input, long seed) {
    Map<Object, List<String>> byLabel = new java.util.HashMap<>();
    for (Row r : input.select("subject_id", "label").collectAsList()) {
      byLabel
          .computeIfAbsent(r.isNullAt(1) ? "null" : r.get(1), l -> new ArrayList<>())
          .add(r.getString(0));
    }
    Map<String, long[]> ranks = new java.util.HashMap<>();
    for (List<String> ids : byLabel.values()) {
      ids.sort(
          java.util.Comparator.<String>comparingDouble(id -> referenceU(seed, "split", id))
              .thenComparing(id -> id));
      for (int i = 0; i < ids.size(); i++) {
        ranks.put(ids.get(i), new long[] {i, ids.size()});
      }
    }
    return ranks;
  }

  private static String splitOfPosition(double position, double train, double trainAndValidation) {
    return position < train ? "train" : position < trainAndValidation ? "validation" : "test";
  }

  @Test
  void uniformIsTheXxHash64OfSeedSaltAndId() {
    List<String> ids = List.of("P0", "P1", "S00042", "Müller-ß", "患者-7", "");
    List<Row> rows = new ArrayList<>();
    ids.forEach(id -> rows.add(RowFactory.create(id)));
    Dataset<Row> df =
        spark.createDataFrame(rows, new StructType().add("subject_id", DataTypes.StringType));
    for (Row r :
        df.select(
                col("subject_id"),
                SplitAssigner.uniform(17, "split"),
                SplitAssigner.uniform(5, "fold"))
            .collectAsList()) {
      assertEquals(referenceU(17, "split", r.getString(0)), r.getDouble(1), 0.0, r.getString(0));
      assertEquals(referenceU(5, "fold", r.getString(0)), r.getDouble(2), 0.0, r.getString(0));
    }
  }

  @Test
  void smallStrataSplitByTheHandCountedRanks() {
    // Labels of 1 to 5 subjects, splits 0.7/0.15/0.15: rank r of n sits at (r + 0.5) / n, so
    // n = 1: 0.5 (train); 2: 0.25, 0.75 (train, validation); 3: 0.17, 0.5, 0.83 (2 train,
    // validation);
    // 4: 0.125, 0.375, 0.625, 0.875 (3 train, test); 5: 0.1, 0.3, 0.5, 0.7, 0.9 (3 train,
    // validation, test).
    Map<Integer, List<Integer>> expected =
        Map.of(
            1,
            List.of(1, 0, 0),
            2,
            List.of(1, 1, 0),
            3,
            List.of(2, 1, 0),
            4,
            List.of(3, 0, 1),
            5,
            List.of(3, 1, 1));
    List<Row> rows = new ArrayList<>();
    for (int label = 1; label <= 5; label++) {
      for (int i = 0; i < label; i++) {
        rows.add(RowFactory.create("S" + label + "-" + i, label));
      }
    }
    Dataset<Row> input =
        spark.createDataFrame(
            rows,
            new StructType()
                .add("subject_id", DataTypes.StringType)
                .add("label", DataTypes.IntegerType));
    Dataset<Row> assigned =
        SplitAssigner.assign(
            input, new SplitConfig(SplitConfig.Mode.HASH, 3L, 0.7, 0.15, 0.15, true, 0, 1));
    List<Row> found = assigned.select("label", "split").collectAsList();
    for (int label = 1; label <= 5; label++) {
      List<Integer> counts = new ArrayList<>();
      for (String split : List.of("train", "validation", "test")) {
        int l = label;
        counts.add(
            (int)
                found.stream()
                    .filter(r -> r.getInt(0) == l && r.getString(1).equals(split))
                    .count());
      }
      assertEquals(expected.get(label), counts, "label of " + label + " subjects");
    }
  }

  @Test
  void sameSeedGivesTheSameSplitsWhateverTheRowOrderAndPartitioning() {
    for (boolean stratify : new boolean[] {false, true}) {
      Map<String, String> a =
          splits(SplitAssigner.assign(subjects(2000, false), config(11, stratify, 0)));
      Map<String, String> b =
          splits(SplitAssigner.assign(subjects(2000, true), config(11, stratify, 0)));
      assertEquals(a, b);
      Map<String, String> c =
          splits(SplitAssigner.assign(subjects(2000, false), config(12, stratify, 0)));
      long changed = a.keySet().stream().filter(k -> !a.get(k).equals(c.get(k))).count();
      assertTrue(changed > 400, "another seed must reshuffle the splits, changed " + changed);
    }
  }

  @Test
  void hashSplitsAreUnchangedWhenSubjectsJoinLater() {
    Map<String, String> before =
        splits(SplitAssigner.assign(subjects(1000, false), config(11, false, 0)));
    Map<String, String> after =
        splits(SplitAssigner.assign(subjects(2000, false), config(11, false, 0)));
    before.forEach((id, split) -> assertEquals(split, after.get(id)));
  }

  @Test
  void fractionsHoldAndStratificationIsExactPerLabel() {
    Dataset<Row> df = SplitAssigner.assign(subjects(2000, false), config(11, true, 0));
    for (int label : new int[] {0, 1}) {
      long n = df.filter(col("label").equalTo(label)).count();
      long train =
          df.filter(col("label").equalTo(label).and(col("split").equalTo("train"))).count();
      long validation =
          df.filter(col("label").equalTo(label).and(col("split").equalTo("validation"))).count();
      assertEquals(0.7 * n, train, 1.0);
      assertEquals(0.15 * n, validation, 1.0);
    }
    Dataset<Row> unstratified = SplitAssigner.assign(subjects(2000, false), config(11, false, 0));
    assertEquals(1400, unstratified.filter(col("split").equalTo("train")).count(), 70);
  }

  @Test
  void bucketedRanksEqualRanksOverTheWholeLabel() {
    // The reference: rank within the whole label (unlabeled subjects together) by u computed
    // outside Spark.
    Dataset<Row> input =
        subjects(3000, true)
            .withColumn(
                "label",
                org.apache
                    .spark
                    .sql
                    .functions
                    .when(col("subject_id").endsWith("7"), org.apache.spark.sql.functions.lit(null))
                    .otherwise(col("label")));
    SplitConfig config = config(5, true, 4);
    Map<String, String> expected = new java.util.HashMap<>();
    Map<String, String> expectedSplits = new java.util.HashMap<>();
    referenceRanks(input, config.seed())
        .forEach(
            (id, rank) -> {
              String split = splitOfPosition((rank[0] + 0.5) / rank[1], 0.7, 0.7 + 0.15);
              expected.put(id, split + "/" + (rank[0] % 4));
              expectedSplits.put(id, split);
            });
    Map<String, String> actual =
        SplitAssigner.assign(input, config)
            .select("subject_id", "split", "fold")
            .collectAsList()
            .stream()
            .collect(
                Collectors.toMap(r -> r.getString(0), r -> r.getString(1) + "/" + r.getInt(2)));
    assertEquals(expected, actual);

    // Without folds the splits are cut at values of u found beforehand: the same splits, and the
    // same again when ranked subject by subject (what a tie of u at a cut falls back to).
    SplitConfig withoutFoldsConfig = config(5, true, 0);
    assertTrue(SplitAssigner.stratifiedCuts(input, withoutFoldsConfig).isPresent());
    Dataset<Row> withoutFolds = SplitAssigner.assign(input, withoutFoldsConfig);
    assertEquals(expectedSplits, splits(withoutFolds));
    assertEquals(expectedSplits, splits(SplitAssigner.assign(input, withoutFoldsConfig, null)));
    assertEquals(0, withoutFolds.filter(col("fold").isNotNull()).count());
    assertEquals(
        List.of(input.columns()).size() + 2,
        withoutFolds.columns().length,
        String.join(",", withoutFolds.columns()));
  }

  @Test
  void cutsOfSmallStrataFollowTheRankRule() {
    // One to five subjects per label, each label its own stratum: every cut rank, including none
    // and all, against the reference window.
    List<Row> rows = new ArrayList<>();
    for (int label = 1; label <= 5; label++) {
      for (int i = 0; i < label; i++) {
        rows.add(RowFactory.create("S" + label + "-" + i, label));
      }
    }
    Dataset<Row> input =
        spark.createDataFrame(
            rows,
            new StructType()
                .add("subject_id", DataTypes.StringType)
                .add("label", DataTypes.IntegerType));
    for (double[] fractions : new double[][] {{0.7, 0.15}, {1.0, 0.0}, {0.0, 0.5}, {0.5, 0.5}}) {
      SplitConfig config =
          new SplitConfig(
              SplitConfig.Mode.HASH,
              3L,
              fractions[0],
              fractions[1],
              1 - fractions[0] - fractions[1],
              true,
              0,
              1);
      Map<String, String> expected = new java.util.HashMap<>();
      referenceRanks(input, config.seed())
          .forEach(
              (id, rank) ->
                  expected.put(
                      id,
                      splitOfPosition(
                          (rank[0] + 0.5) / rank[1], fractions[0], fractions[0] + fractions[1])));
      assertEquals(
          expected,
          splits(SplitAssigner.assign(input, config)),
          java.util.Arrays.toString(fractions));
    }
  }

  @Test
  void aTieOfUAtACutLeavesTheSplitToTheRanks() {
    // Bucket 3 holds ranks 5..8 of a label of 10; train takes ranks 0..6 (7 of 10).
    long[] perBucket = new long[SplitAssigner.SPLIT_BUCKETS];
    perBucket[1] = 5;
    perBucket[3] = 4;
    perBucket[9] = 1;
    assertEquals(
        List.of(7L, 9L),
        java.util.Arrays.stream(SplitAssigner.cutRanks(perBucket, 0.7, 0.9)).boxed().toList());
    Map<Integer, long[]> counts = Map.of(1, perBucket);
    SplitAssigner.CutBucket cutBucket = new SplitAssigner.CutBucket(1, 3);
    SplitAssigner.CutBucket lastBucket = new SplitAssigner.CutBucket(1, 9);
    double[] last = {0.0095};
    var cuts =
        SplitAssigner.cutsFrom(
            counts,
            Map.of(cutBucket, new double[] {0.0030, 0.0031, 0.0032, 0.0033}, lastBucket, last),
            0.7,
            0.9);
    assertEquals(0.0032, cuts.orElseThrow().below().get(1)[0]);
    assertEquals(0.0095, cuts.orElseThrow().below().get(1)[1]);
    // Ranks 6 and 7 share their u: only subject_id could order them.
    assertTrue(
        SplitAssigner.cutsFrom(
                counts,
                Map.of(cutBucket, new double[] {0.0030, 0.0031, 0.0031, 0.0033}, lastBucket, last),
                0.7,
                0.9)
            .isEmpty());
    // A tie away from the cut does not matter.
    assertTrue(
        SplitAssigner.cutsFrom(
                counts,
                Map.of(cutBucket, new double[] {0.0030, 0.0030, 0.0032, 0.0033}, lastBucket, last),
                0.7,
                0.9)
            .isPresent());
  }

  @Test
  void foldsAreBalancedWithinEachLabel() {
    Dataset<Row> df = SplitAssigner.assign(subjects(1000, false), config(11, true, 5));
    for (Row r : df.groupBy("label", "fold").count().collectAsList()) {
      long perLabel = r.getInt(0) == 1 ? 250 : 750;
      assertEquals(perLabel / 5.0, r.getLong(2), 1.0);
    }
    assertEquals(10, df.groupBy("label", "fold").count().count());
  }
}
