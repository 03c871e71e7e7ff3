package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.train.bench.TrainBench;
import org.junit.jupiter.api.Test;

class TrainBenchTest {
  /**
   * The bench trains the model single-process and with 1 and 2 Spark workers in one run, and reports the parameter
   * count of the network it trained (read back from the published model) beside the four throughputs.
   */
  @Test
  void benchTrainsEverySetupAndReportsTheTrainedNetworksSize() throws Exception {
    TrainFixture f = new TrainFixture(800, new double[] {0.2, 0.2, 0.2}, 1.0, 9, """
        fusion { models { mean { what = [clinical, labs, imaging], how = mean, projection = 8, head = [16] } }, baselines = [] }
        train { batch-size = 32 }
        """);
    StringBuilder out = new StringBuilder();
    String dir = f.root.resolve("bench").toString();
    TrainBench.Result r = TrainBench.run(f.spark, f.config, "mean", 1, dir, out::append);
    System.out.println(out);
    for (String run : new String[] {"local", "spark1", "spark2"}) {
      long published = ModelArtifact.loadGraph(f.spark.sparkContext().hadoopConfiguration(), dir + "/" + run + "/mean/model")
          .model().params().length();
      assertEquals(published, r.params(), run);
    }
    assertTrue(r.local() > 0 && r.spark1() > 0 && r.spark2() > 0 && r.dense() > 0, r.describe());
    assertTrue(out.toString().startsWith("mean ("), out.toString());
  }
}
