package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cohortfusion.train.bench.TrainBench;
import org.junit.jupiter.api.Test;

class TrainBenchTest {
  /** The bench runs single-process and Spark with 1 and 2 workers in one run and reports positive throughputs. */
  @Test
  void benchReportsThroughputOfAllThreeSetups() throws Exception {
    TrainFixture f = new TrainFixture(800, new double[] {0.2, 0.2, 0.2}, 1.0, 9, """
        fusion { models { mean { what = [clinical, labs, imaging], how = mean, projection = 8, head = [16] } }, baselines = [] }
        train { batch-size = 32 }
        """);
    StringBuilder out = new StringBuilder();
    TrainBench.Result r = TrainBench.run(f.spark, f.config, "mean", 1, f.root.resolve("bench").toString(), out::append);
    System.out.println(out);
    assertTrue(r.local() > 0 && r.spark1() > 0 && r.spark2() > 0, r.describe());
    assertTrue(out.toString().startsWith("train samples/s: local "));
  }
}
