package org.cohortfusion.bench;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AveragingBenchTest {
  private final SparkSession spark = SparkTestSession.get();
  @TempDir Path tmp;

  /** Each site's missing rates are the ones asked for, within sampling error of 3,000 subjects. */
  @Test
  void missingnessFollowsTheSite() {
    String dir = tmp.resolve("emb").toString();
    BenchEmbeddings.write(
        spark, dir, 3000, new int[] {2, 2}, new double[][] {{0.1, 0.8}, {0.8, 0.1}}, 3);
    List<Row> rates =
        spark
            .read()
            .parquet(dir + "/table")
            .groupBy("site")
            .agg(avg(col("has_m0").cast("double")), avg(col("has_m1").cast("double")))
            .orderBy("site")
            .collectAsList();
    assertEquals(2, rates.size());
    assertEquals(0.9, rates.get(0).getDouble(1), 0.05);
    assertEquals(0.2, rates.get(0).getDouble(2), 0.05);
    assertEquals(0.2, rates.get(1).getDouble(1), 0.05);
    assertEquals(0.9, rates.get(1).getDouble(2), 0.05);
  }

  @Test
  void bothModesTrainOnePerSiteAndAreCompared() {
    List<String> lines = new ArrayList<>();
    AveragingBench.Result r =
        AveragingBench.run(spark, tmp.toString(), 2000, 2, 5, 0.005, 7, false, lines::add);
    assertEquals(1400, r.trainExamples(), 40);
    assertEquals(2, r.uniform().testAurocByEpoch().length);
    assertEquals(2, r.weighted().testAurocByEpoch().length);
    assertTrue(r.uniform().testAurocByEpoch()[1] > 0.6, "uniform learned: " + lines);
    assertTrue(r.weighted().testAurocByEpoch()[1] > 0.6, "weighted learned: " + lines);
    assertEquals(
        r.weighted().testAurocByEpoch()[1] - r.uniform().testAurocByEpoch()[1],
        r.paired().difference(),
        1e-9);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("site 1 (worker 1)")), lines.toString());
  }
}
