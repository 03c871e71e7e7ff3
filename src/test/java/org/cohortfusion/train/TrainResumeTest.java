package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cohortfusion.io.ModelArtifact;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class TrainResumeTest {
  /**
   * A local run interrupted after epoch 1 and resumed ends with exactly the parameters of an
   * uninterrupted run (the last epoch's checkpoint of each), with modality dropout, whose draws
   * must continue as they would have. Two uninterrupted runs are compared first: resume can only be
   * exact if training is deterministic.
   */
  @Test
  void aResumedLocalRunEndsWithTheParametersOfAnUninterruptedOne() throws Exception {
    assertResumeIsExact("local");
  }

  /**
   * The same with parameter averaging over 2 workers and two averaging rounds an epoch. It failed
   * ("two uninterrupted runs differ") while the shards' modality dropout was seeded by their path,
   * which holds a random id per run, and again, once the model had dropout layers, while the
   * executors drew dropout masks from their threads' generators in whatever state earlier tasks had
   * left them.
   */
  @Test
  void aResumedSparkRunEndsWithTheParametersOfAnUninterruptedOne() throws Exception {
    // Minibatches of 8: 52 shards, two averaging rounds an epoch, so the split of the shard list
    // into rounds matters.
    assertResumeIsExact("spark, workers = 2, batch-size = 8");
  }

  private static void assertResumeIsExact(String mode) throws Exception {
    TrainFixture f =
        new TrainFixture(
            600,
            new double[] {0.2, 0.2, 0.2},
            1.0,
            5,
            """
        fusion { models { att { what = [clinical, labs, imaging], how = attention, projection = 8, head = [16], dropout = 0.2, modality-dropout = 0.2 } }, baselines = [] }
        train { batch-size = 32, mode = %s, epochs = 3, patience = 10, seed = 5 }
        """
                .formatted(mode));
    String full = f.root.resolve("full").toString();
    String again = f.root.resolve("again").toString();
    String parts = f.root.resolve("parts").toString();
    f.action().outputDir(full).execute();
    f.action().outputDir(again).execute();
    assertEquals(lastParams(f, full), lastParams(f, again), "two uninterrupted runs differ");

    TrainResult first = f.action().outputDir(parts).interruptAfter(1).execute();
    assertFalse(first.get("att").completed());
    assertEquals(1, first.get("att").epochsRun());
    TrainResult resumed = f.action().outputDir(parts).resume(true).execute();
    assertTrue(resumed.get("att").completed());
    assertEquals(3, resumed.get("att").epochsRun());
    assertEquals(lastParams(f, full), lastParams(f, parts), "the resumed run ends elsewhere");
  }

  private static INDArray lastParams(TrainFixture f, String trainDir) {
    return ModelArtifact.loadGraph(
            f.spark.sparkContext().hadoopConfiguration(), trainDir + "/att/checkpoints/epoch-3")
        .model()
        .params();
  }
}
