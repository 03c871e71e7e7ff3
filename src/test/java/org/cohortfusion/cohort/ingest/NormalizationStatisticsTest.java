package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.cohort.ModalitySpec;
import org.cohortfusion.cohort.NormalizationStats;
import org.cohortfusion.config.ModalityConfig;
import org.cohortfusion.config.ModalityKind;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

/** Vocabularies of several tabular modalities keep each modality's rules, counted while written or by a job. */
class NormalizationStatisticsTest {
  private final SparkSession spark = SparkTestSession.get();

  @Test
  void vocabulariesAreTrainSplitPresentValuesMostFrequentFirstCutPerModality() {
    StructType a = new StructType().add("sex", "string").add("site", "string");
    StructType b = new StructType().add("grade", "string");
    StructType schema = new StructType().add("split", "string").add("has_a", "boolean").add("a", a).add("has_b", "boolean").add("b", b);
    List<Row> rows = new ArrayList<>();
    String[][] train = {{"f", "x", "g2"}, {"f", "y", "g1"}, {"m", "y", "g1"}, {"m", "z", "g3"}, {"f", null, "g3"}, {"m", "y", "g1"}};
    for (String[] t : train) {
      rows.add(RowFactory.create("train", true, RowFactory.create(t[0], t[1]), true, RowFactory.create(t[2])));
    }
    // Not present: its values must not count although the struct holds some.
    rows.add(RowFactory.create("train", false, RowFactory.create("u", "y"), false, RowFactory.create("g2")));
    rows.add(RowFactory.create("train", false, RowFactory.create("u", "y"), false, RowFactory.create("g2")));
    Dataset<Row> df = spark.createDataFrame(rows, schema);
    ModalitySpec specA = new ModalitySpec("a", ModalityKind.TABULAR, List.of(), List.of("sex", "site"), 2, null, null, 0);
    ModalitySpec specB = new ModalitySpec("b", ModalityKind.TABULAR, List.of(), List.of("grade"), 1, null, null, 0);
    Map<String, ModalityConfig> configs = Map.of("a", tabular(10), "b", tabular(2));
    // Counted while the rows pass (observed metrics), and by a job when there are too many values
    // to count that way (no observed counts): the same vocabularies.
    ObservedMetrics metrics = new ObservedMetrics();
    NormalizationStatistics.trainSplitMetrics(List.of(specA, specB), metrics);
    org.apache.spark.sql.Observation observation = new org.apache.spark.sql.Observation("vocabularies");
    Dataset<Row> observedRows = metrics.observe(df, observation);
    // The inputs computed for the metrics are dropped again.
    assertEquals(List.of(df.columns()), List.of(observedRows.columns()));
    observedRows.collectAsList();
    Map<String, Object> observed = ModalityJoin.metrics(observation);
    for (boolean fromObserved : new boolean[] {true, false}) {
      // With the observed counts the train split must not be read at all.
      java.util.function.Supplier<Dataset<Row>> trainSplit = fromObserved
          ? () -> { throw new AssertionError("the observed counts must suffice: the train split was read"); }
          : () -> df.filter(col("split").equalTo("train"));
      NormalizationStats stats = NormalizationStatistics.fit(trainSplit, 8, List.of(specA, specB), configs,
          fromObserved ? observed : Map.of());
      // sex: f and m three times each, the tie broken by value; site: y 3 > x 1 = z 1, nulls left out.
      assertEquals(List.of("f", "m"), stats.modalities().get("a").vocabularies().get("sex"));
      assertEquals(List.of("y", "x", "z"), stats.modalities().get("a").vocabularies().get("site"));
      // grade: g1 3 > g3 2 > g2 1, cut at b's max-categories = 2 (the absent rows' g2 does not count).
      assertEquals(List.of("g1", "g3"), stats.modalities().get("b").vocabularies().get("grade"));
    }
  }

  @Test
  void valueCountsGiveUpBeyondTheirLimit() {
    Dataset<Row> values = spark.range(0, 50).selectExpr("CAST(id % 7 AS STRING) AS v").repartition(3);
    org.apache.spark.sql.Observation observation = new org.apache.spark.sql.Observation("values");
    values.observe(observation, ValueCounts.of(col("v"), 7).as("seven"), ValueCounts.of(col("v"), 6).as("six")).collectAsList();
    Map<String, Object> observed = ModalityJoin.metrics(observation);
    Map<String, Long> seven = ValueCounts.fromResult(observed.get("seven"));
    assertEquals(7, seven.size());
    assertEquals(8L, seven.get("0"));
    assertEquals(7L, seven.get("6"));
    assertEquals(null, ValueCounts.fromResult(observed.get("six")));
  }

  private static ModalityConfig tabular(int maxCategories) {
    return new ModalityConfig(ModalityKind.TABULAR, "t", null, null, null, null, null, null, null, null, null, null, maxCategories, null, null, null);
  }
}
