package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.fusion.spec.FusionCompiler;
import org.cohortfusion.fusion.spec.FusionSpec;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

class PresenceWeightedAveragingTest {
  private static final int A = 0;
  private static final int SHARED = PresenceWeightedAveraging.SHARED;

  /**
   * Two workers; element 0 owned by modality a, seen in 3 and 1 examples; element 1 shared. By
   * hand: a-owned = 3/4 * 1 + 1/4 * 5 = 2; shared = (10 + 20) / 2 = 15.
   */
  @Test
  void modalityOwnedParameterFollowsPresentCountsSharedOneIsThePlainMean() {
    INDArray avg =
        PresenceWeightedAveraging.average(
            List.of(Nd4j.createFromArray(1f, 10f), Nd4j.createFromArray(5f, 20f)),
            List.of(new long[] {3}, new long[] {1}),
            new int[] {A, SHARED});
    assertArrayEquals(new float[] {2f, 15f}, avg.toFloatVector(), 1e-6f);
  }

  /** No worker saw modality a: its parameters fall back to the plain mean, (1 + 5) / 2 = 3. */
  @Test
  void noPresentExampleAnywhereFallsBackToUniform() {
    INDArray avg =
        PresenceWeightedAveraging.average(
            List.of(Nd4j.createFromArray(1f, 10f), Nd4j.createFromArray(5f, 20f)),
            List.of(new long[] {0}, new long[] {0}),
            new int[] {A, SHARED});
    assertArrayEquals(new float[] {3f, 15f}, avg.toFloatVector(), 1e-6f);
  }

  /** A worker that saw no example of a contributes nothing to a's parameters: 0 * 1 + 1 * 5. */
  @Test
  void aWorkerWithoutTheModalityLeavesItsParametersToTheOther() {
    INDArray avg =
        PresenceWeightedAveraging.average(
            List.of(Nd4j.createFromArray(1f, 10f), Nd4j.createFromArray(5f, 20f)),
            List.of(new long[] {0}, new long[] {7}),
            new int[] {A, SHARED});
    assertArrayEquals(new float[] {5f, 15f}, avg.toFloatVector(), 1e-6f);
  }

  @Test
  void uniformWeightingIgnoresCounts() {
    INDArray avg =
        PresenceWeightedAveraging.average(
            List.of(Nd4j.createFromArray(1f, 10f), Nd4j.createFromArray(5f, 20f)),
            List.of(new long[] {3}, new long[] {1}),
            null);
    assertArrayEquals(new float[] {3f, 15f}, avg.toFloatVector(), 1e-6f);
  }

  /**
   * Ownership of a masked-attention graph whose vertex projects each input to 4 (P_m [d_m, 4] and 4
   * bias columns): clinical (8) 8*4+4 = 36, labs (12) 52, imaging (6) 28 elements; attention and
   * head shared. Adam keeps two state values per parameter, so the updater state doubles each.
   */
  @Test
  void projectionsBelongToTheirModalityAndAdamStateFollows() {
    EmbeddingsSpec emb =
        new EmbeddingsSpec(
            List.of(
                new EmbeddingsSpec.Modality("clinical", 8, "a"),
                new EmbeddingsSpec.Modality("labs", 12, "b"),
                new EmbeddingsSpec.Modality("imaging", 6, "c")),
            List.of("no", "yes"),
            "cohort");
    PipelineConfig c =
        PipelineConfigLoader.parse(
            """
        subjects { path = s.csv }
        modalities { clinical { kind = tabular, path = c.csv } }
        output { dir = out }
        fusion {
          models {
            att { what = [clinical, labs, imaging], how = attention, projection = 4, head = [5] }
            hier { stages = [ {name = early, what = [clinical, labs], how = concat_mask},
                              {name = top, what = [early, clinical], how = concat_mask} ],
                   projection = 4, head = [5] }
          }
        }
        """,
            List.of());
    FusionSpec att =
        FusionSpec.all(c.fusion(), emb).stream()
            .filter(s -> s.name().equals("att"))
            .findFirst()
            .orElseThrow();
    ComputationGraph g = FusionCompiler.compile(att, emb, new Adam(1e-3), 7).newGraph();
    int[] owners = PresenceWeightedAveraging.owners(g);
    assertEquals(g.params().length(), owners.length);
    assertEquals(36, count(owners, 0));
    assertEquals(52, count(owners, 1));
    assertEquals(28, count(owners, 2));
    int[] state = PresenceWeightedAveraging.updaterOwners(g, owners);
    assertEquals(72, count(state, 0));
    assertEquals(104, count(state, 1));
    assertEquals(56, count(state, 2));

    // clinical feeds two stages: its projection is a DenseLayer proj_clinical (8*4 + 4), labs is
    // projected inside the first stage's vertex (12*4 + 4).
    FusionSpec hier =
        FusionSpec.all(c.fusion(), emb).stream()
            .filter(s -> s.name().equals("hier"))
            .findFirst()
            .orElseThrow();
    ComputationGraph h = FusionCompiler.compile(hier, emb, new Adam(1e-3), 7).newGraph();
    int[] ho = PresenceWeightedAveraging.owners(h);
    assertEquals(36, count(ho, 0));
    assertEquals(52, count(ho, 1));
  }

  private static int count(int[] owners, int owner) {
    int n = 0;
    for (int o : owners) {
      n += o == owner ? 1 : 0;
    }
    return n;
  }

  private static List<String> shards(String group, int n) {
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(group + i);
    }
    return out;
  }

  /**
   * Groups of 5, 1, 3 and 3 shards on 2 workers, by hand: largest first, each to the less loaded
   * worker: g0 (5) to w0; g2 (3) to w1; g3 (3) to w1 (3 < 5, now 6); g1 (1) to w0 (5 < 6, now 6).
   */
  @Test
  void wholeGroupsGoLargestFirstToTheLeastLoadedWorker() {
    PresenceWeightedAveraging.GroupAssignment a =
        PresenceWeightedAveraging.byGroup(
            List.of(shards("a", 5), shards("b", 1), shards("c", 3), shards("d", 3)), 2);
    assertEquals(List.of(List.of(0, 1), List.of(2, 3)), a.groupsPerWorker());
    assertEquals(
        List.of(
            List.of("a0", "a1", "a2", "a3", "a4", "b0"),
            List.of("c0", "c1", "c2", "d0", "d1", "d2")),
        a.shardsPerWorker());
  }

  /** Two groups with shards (one empty group) on four workers: two workers, a group each. */
  @Test
  void fewerGroupsThanWorkersUseOneWorkerPerGroupAndSkipEmptyGroups() {
    PresenceWeightedAveraging.GroupAssignment a =
        PresenceWeightedAveraging.byGroup(List.of(shards("a", 2), List.of(), shards("c", 4)), 4);
    assertEquals(List.of(List.of(2), List.of(0)), a.groupsPerWorker());
    assertEquals(List.of(shards("c", 4), shards("a", 2)), a.shardsPerWorker());
  }

  @Test
  void noShardAtAllIsRefused() {
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class,
        () -> PresenceWeightedAveraging.byGroup(List.of(List.of(), List.of()), 2));
  }
}
