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
    StructType schema = new StructType().add("subject_id", DataTypes.StringType).add("label", DataTypes.IntegerType);
    return spark.createDataFrame(rows, schema).repartition(shuffled ? 3 : 1);
  }

  private static Map<String, String> splits(Dataset<Row> df) {
    return df.select("subject_id", "split").collectAsList().stream().collect(Collectors.toMap(r -> r.getString(0), r -> r.getString(1)));
  }

  private static SplitConfig config(long seed, boolean stratify, int folds) {
    return new SplitConfig(SplitConfig.Mode.HASH, seed, 0.7, 0.15, 0.15, stratify, folds, 1);
  }

  @Test
  void sameSeedGivesTheSameSplitsWhateverTheRowOrderAndPartitioning() {
    for (boolean stratify : new boolean[] {false, true}) {
      Map<String, String> a = splits(SplitAssigner.assign(subjects(2000, false), config(11, stratify, 0)));
      Map<String, String> b = splits(SplitAssigner.assign(subjects(2000, true), config(11, stratify, 0)));
      assertEquals(a, b);
      Map<String, String> c = splits(SplitAssigner.assign(subjects(2000, false), config(12, stratify, 0)));
      long changed = a.keySet().stream().filter(k -> !a.get(k).equals(c.get(k))).count();
      assertTrue(changed > 400, "another seed must reshuffle the splits, changed " + changed);
    }
  }

  @Test
  void hashSplitsAreUnchangedWhenSubjectsJoinLater() {
    Map<String, String> before = splits(SplitAssigner.assign(subjects(1000, false), config(11, false, 0)));
    Map<String, String> after = splits(SplitAssigner.assign(subjects(2000, false), config(11, false, 0)));
    before.forEach((id, split) -> assertEquals(split, after.get(id)));
  }

  @Test
  void fractionsHoldAndStratificationIsExactPerLabel() {
    Dataset<Row> df = SplitAssigner.assign(subjects(2000, false), config(11, true, 0));
    for (int label : new int[] {0, 1}) {
      long n = df.filter(col("label").equalTo(label)).count();
      long train = df.filter(col("label").equalTo(label).and(col("split").equalTo("train"))).count();
      long validation = df.filter(col("label").equalTo(label).and(col("split").equalTo("validation"))).count();
      assertEquals(0.7 * n, train, 1.0);
      assertEquals(0.15 * n, validation, 1.0);
    }
    Dataset<Row> unstratified = SplitAssigner.assign(subjects(2000, false), config(11, false, 0));
    assertEquals(1400, unstratified.filter(col("split").equalTo("train")).count(), 70);
  }

  @Test
  void bucketedRanksEqualRanksOverTheWholeLabel() {
    // The reference: rank within the label by one window over the whole label, unlabeled subjects included.
    Dataset<Row> input = subjects(3000, true).withColumn("label",
        org.apache.spark.sql.functions.when(col("subject_id").endsWith("7"), org.apache.spark.sql.functions.lit(null)).otherwise(col("label")));
    SplitConfig config = config(5, true, 4);
    Dataset<Row> ref = input.withColumn("_u", SplitAssigner.uniform(config.seed(), "split"))
        .withColumn("_r", org.apache.spark.sql.functions.row_number().over(
            org.apache.spark.sql.expressions.Window.partitionBy("label").orderBy("_u", "subject_id")).minus(1))
        .withColumn("_n", org.apache.spark.sql.functions.count(org.apache.spark.sql.functions.lit(1)).over(
            org.apache.spark.sql.expressions.Window.partitionBy("label")))
        .selectExpr("subject_id",
            "CASE WHEN (_r + 0.5) / _n < 0.7 THEN 'train' WHEN (_r + 0.5) / _n < 0.85 THEN 'validation' ELSE 'test' END AS split",
            "CAST(_r % 4 AS INT) AS fold");
    Map<String, String> expected = ref.collectAsList().stream().collect(Collectors.toMap(r -> r.getString(0), r -> r.getString(1) + "/" + r.getInt(2)));
    Map<String, String> actual = SplitAssigner.assign(input, config).select("subject_id", "split", "fold").collectAsList().stream()
        .collect(Collectors.toMap(r -> r.getString(0), r -> r.getString(1) + "/" + r.getInt(2)));
    assertEquals(expected, actual);

    // Without folds the splits are cut at values of u found beforehand: the same splits, and the
    // same again when ranked subject by subject (what a tie of u at a cut falls back to).
    Map<String, String> expectedSplits = ref.collectAsList().stream().collect(Collectors.toMap(r -> r.getString(0), r -> r.getString(1)));
    SplitConfig withoutFoldsConfig = config(5, true, 0);
    assertTrue(SplitAssigner.stratifiedCuts(input, withoutFoldsConfig).isPresent());
    Dataset<Row> withoutFolds = SplitAssigner.assign(input, withoutFoldsConfig);
    assertEquals(expectedSplits, splits(withoutFolds));
    assertEquals(expectedSplits, splits(SplitAssigner.assign(input, withoutFoldsConfig, null)));
    assertEquals(0, withoutFolds.filter(col("fold").isNotNull()).count());
    assertEquals(List.of(input.columns()).size() + 2, withoutFolds.columns().length, String.join(",", withoutFolds.columns()));
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
    Dataset<Row> input = spark.createDataFrame(rows,
        new StructType().add("subject_id", DataTypes.StringType).add("label", DataTypes.IntegerType));
    for (double[] fractions : new double[][] {{0.7, 0.15}, {1.0, 0.0}, {0.0, 0.5}, {0.5, 0.5}}) {
      SplitConfig config = new SplitConfig(SplitConfig.Mode.HASH, 3L, fractions[0], fractions[1], 1 - fractions[0] - fractions[1], true, 0, 1);
      Map<String, String> expected = input.withColumn("_u", SplitAssigner.uniform(config.seed(), "split"))
          .withColumn("_r", org.apache.spark.sql.functions.row_number().over(
              org.apache.spark.sql.expressions.Window.partitionBy("label").orderBy("_u", "subject_id")).minus(1))
          .selectExpr("subject_id", "CASE WHEN (_r + 0.5) / label < " + fractions[0] + " THEN 'train' WHEN (_r + 0.5) / label < "
              + (fractions[0] + fractions[1]) + " THEN 'validation' ELSE 'test' END")
          .collectAsList().stream().collect(Collectors.toMap(r -> r.getString(0), r -> r.getString(1)));
      assertEquals(expected, splits(SplitAssigner.assign(input, config)), java.util.Arrays.toString(fractions));
    }
  }

  @Test
  void aTieOfUAtACutLeavesTheSplitToTheRanks() {
    // Bucket 3 holds ranks 5..8 of a label of 10; train takes ranks 0..6 (7 of 10).
    long[] perBucket = new long[SplitAssigner.SPLIT_BUCKETS];
    perBucket[1] = 5;
    perBucket[3] = 4;
    perBucket[9] = 1;
    assertEquals(List.of(7L, 9L), java.util.Arrays.stream(SplitAssigner.cutRanks(perBucket, 0.7, 0.9)).boxed().toList());
    Map<Integer, long[]> counts = Map.of(1, perBucket);
    SplitAssigner.CutBucket cutBucket = new SplitAssigner.CutBucket(1, 3);
    SplitAssigner.CutBucket lastBucket = new SplitAssigner.CutBucket(1, 9);
    double[] last = {0.0095};
    var cuts = SplitAssigner.cutsFrom(counts, Map.of(cutBucket, new double[] {0.0030, 0.0031, 0.0032, 0.0033}, lastBucket, last), 0.7, 0.9);
    assertEquals(0.0032, cuts.orElseThrow().below().get(1)[0]);
    assertEquals(0.0095, cuts.orElseThrow().below().get(1)[1]);
    // Ranks 6 and 7 share their u: only subject_id could order them.
    assertTrue(SplitAssigner.cutsFrom(counts, Map.of(cutBucket, new double[] {0.0030, 0.0031, 0.0031, 0.0033}, lastBucket, last), 0.7, 0.9)
        .isEmpty());
    // A tie away from the cut does not matter.
    assertTrue(SplitAssigner.cutsFrom(counts, Map.of(cutBucket, new double[] {0.0030, 0.0030, 0.0032, 0.0033}, lastBucket, last), 0.7, 0.9)
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
