package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.cohortfusion.bench.TrainBench;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.TrainOutputs;
import org.junit.jupiter.api.Test;

class TrainBenchTest {
  /**
   * The bench trains the model single-process and with 1 and 2 Spark workers in one run, each for
   * the epochs asked (its summary.json says so), and reports the parameter count of the network it
   * trained: the published models' and the count by hand.
   */
  @Test
  void benchTrainsEverySetupAndReportsTheTrainedNetworksSize() throws Exception {
    TrainFixture f =
        new TrainFixture(
            800,
            new double[] {0.2, 0.2, 0.2},
            1.0,
            9,
            """
        fusion { models { mean { what = [clinical, labs, imaging], how = mean, projection = 8, head = [16] } }, baselines = [] }
        train { batch-size = 32 }
        """);
    StringBuilder out = new StringBuilder();
    String dir = f.root.resolve("bench").toString();
    TrainBench.Result r = TrainBench.run(f.spark, f.config, "mean", 1, dir, out::append);
    System.out.println(out);
    // By hand: clinical (8), labs (12) and imaging (6) projected to 8 inside the mean vertex (8*8 +
    // 12*8 + 6*8 = 208
    // weights, 3 * 8 = 24 biases), a dense head of 16 (8*16 + 16 = 144) and the 2-class output
    // (16*2 + 2 = 34).
    assertEquals(208 + 24 + 144 + 34, r.params());
    var hadoop = f.spark.sparkContext().hadoopConfiguration();
    for (String run : new String[] {"local", "spark1", "spark2"}) {
      long published =
          ModelArtifact.loadGraph(hadoop, dir + "/" + run + "/mean/model")
              .model()
              .params()
              .length();
      assertEquals(r.params(), published, run);
      TrainOutputs.Summary summary =
          Json.read(hadoop, dir + "/" + run + "/summary.json", TrainOutputs.Summary.class);
      assertEquals(
          List.of("mean"), summary.models().stream().map(TrainOutputs.Entry::name).toList(), run);
      assertEquals(1, summary.models().get(0).epochs(), run + ": trained for the one epoch asked");
      assertTrue(summary.models().get(0).completed(), run);
    }
    for (double samplesPerSecond : new double[] {r.local(), r.spark1(), r.spark2(), r.dense()}) {
      assertTrue(Double.isFinite(samplesPerSecond), r.describe());
    }
    assertTrue(out.toString().startsWith("mean (410 params): "), out.toString());
  }

  /** The ratios the bench prints, on hand-made figures. */
  @Test
  void describeDividesTheThroughputsItCompares() {
    String d = new TrainBench.Result("mean", 1234, 100, 80, 160, 200, 2.0, 3.0).describe();
    assertTrue(d.startsWith("mean (1,234 params): samples/s local 100 | dense reference 200 "), d);
    assertTrue(d.contains("(local/dense 0.50x"), d);
    assertTrue(d.contains("spark 1 worker 80 (0.80x local"), d);
    assertTrue(d.contains("spark 2 workers 160 (2.00x 1 worker"), d);
    assertTrue(d.contains("run time local 2.0 s, spark 2 workers 3.0 s (1.50x)"), d);
    String local =
        new TrainBench.Result("mean", 10, 50, Double.NaN, Double.NaN, 25, 1.5, Double.NaN)
            .describe();
    assertTrue(
        local.contains("(local/dense 2.00x") && local.endsWith("(Spark runs skipped)"), local);
  }
}
