package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.cohortfusion.train.Batch;
import org.junit.jupiter.api.Test;

/**
 * The keyed MCAR removal: a pure function of (seed, subject id, modality), so the same whatever the
 * row order or partitioning, nested across rates, and removing a fraction of the cells within a
 * binomial bound of the rate.
 */
class ModalityRemovalTest {
  private static final int M = 4;

  private static List<String> ids(int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(String.format("subj-%06d", i));
    }
    return ids;
  }

  /** A presence matrix with about 20% of the cells absent. */
  private static float[] presence(int n, long seed) {
    Random rnd = new Random(seed);
    float[] p = new float[n * M];
    for (int c = 0; c < p.length; c++) {
      p[c] = rnd.nextDouble() < 0.2 ? 0f : 1f;
    }
    return p;
  }

  private static Map<String, float[]> bySubject(List<String> ids, float[] presence) {
    Map<String, float[]> out = new HashMap<>();
    for (int r = 0; r < ids.size(); r++) {
      float[] row = new float[M];
      System.arraycopy(presence, r * M, row, 0, M);
      out.put(ids.get(r), row);
    }
    return out;
  }

  @Test
  void theRemovalsOfASubjectDoNotDependOnRowOrderOrPartitioning() {
    int n = 2000;
    List<String> ids = ids(n);
    float[] p = presence(n, 1);
    Map<String, float[]> original =
        bySubject(ids, ModalityRemoval.completelyAtRandom(p, ids, M, 0.4, 17));

    // The same rows shuffled.
    List<Integer> order = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      order.add(r);
    }
    Collections.shuffle(order, new Random(5));
    List<String> shuffledIds = new ArrayList<>();
    float[] shuffled = new float[n * M];
    for (int k = 0; k < n; k++) {
      shuffledIds.add(ids.get(order.get(k)));
      System.arraycopy(p, order.get(k) * M, shuffled, k * M, M);
    }
    Map<String, float[]> reordered =
        bySubject(
            shuffledIds, ModalityRemoval.completelyAtRandom(shuffled, shuffledIds, M, 0.4, 17));

    // The shuffled rows cut into uneven partitions, each removed on its own as an executor
    // would, through Scenarios.apply on batches.
    Scenarios scenarios = new Scenarios(List.of(0.0, 0.4), 17, M);
    Map<String, float[]> partitioned = new HashMap<>();
    int[] cuts = {0, 7, 700, 701, 1500, n};
    for (int c = 0; c + 1 < cuts.length; c++) {
      int size = cuts[c + 1] - cuts[c];
      String[] part = shuffledIds.subList(cuts[c], cuts[c + 1]).toArray(new String[0]);
      float[] pp = new float[size * M];
      System.arraycopy(shuffled, cuts[c] * M, pp, 0, size * M);
      Batch b = batch(size, pp);
      Batch removed = scenarios.apply(b, part).get(1);
      partitioned.putAll(bySubject(List.of(part), removed.presence()));
      // A removed modality's input is zeros, a kept one's unchanged.
      for (int r = 0; r < size; r++) {
        for (int i = 0; i < M; i++) {
          float expected = removed.presence()[r * M + i] == 0f ? 0f : b.features()[i][r];
          assertEquals(expected, removed.features()[i][r], 0f);
        }
      }
    }
    int removedCells = 0;
    for (String id : ids) {
      assertArrayEquals(original.get(id), reordered.get(id), 0f);
      assertArrayEquals(original.get(id), partitioned.get(id), 0f);
      for (float x : original.get(id)) {
        removedCells += x == 0f ? 1 : 0;
      }
    }
    // Not vacuous: about 0.2 + 0.8 * 0.4 = 52% of the cells are absent after removal.
    assertTrue(removedCells > n * M / 3, "absent cells " + removedCells);
  }

  @Test
  void theRemovalsAreNestedAcrossRatesAndKeepAbsentModalitiesAbsent() {
    int n = 1000;
    List<String> ids = ids(n);
    float[] p = presence(n, 2);
    List<Double> rates = EvaluateAction.REMOVAL_RATES;
    List<float[]> scenarios = new Scenarios(rates, 3, M).presence(ids, p);
    assertEquals(rates.size() + M, scenarios.size());
    assertArrayEquals(p, scenarios.get(0), 0f); // rate 0: as is
    for (int s = 1; s < rates.size(); s++) {
      float[] lower = scenarios.get(s - 1);
      float[] higher = scenarios.get(s);
      int more = 0;
      for (int c = 0; c < p.length; c++) {
        assertTrue(higher[c] <= lower[c], "a cell removed at a lower rate came back");
        assertTrue(higher[c] <= p[c], "an absent modality became present");
        more += lower[c] - higher[c] > 0 ? 1 : 0;
      }
      assertTrue(more > 0, "rate " + rates.get(s) + " removes nothing more");
    }
    for (int i = 0; i < M; i++) {
      float[] ablated = scenarios.get(rates.size() + i);
      for (int r = 0; r < n; r++) {
        for (int j = 0; j < M; j++) {
          assertEquals(j == i ? 0f : p[r * M + j], ablated[r * M + j], 0f);
        }
      }
    }
    float[] all = ModalityRemoval.completelyAtRandom(p, ids, M, 1.0, 3);
    for (float x : all) {
      assertEquals(0f, x, 0f);
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> ModalityRemoval.completelyAtRandom(p, ids, M, 1.5, 3));
  }

  @Test
  void theRemovedFractionIsWithinABinomialBoundOfTheRate() {
    int n = 5000; // 20,000 cells, all present
    List<String> ids = ids(n);
    float[] p = new float[n * M];
    java.util.Arrays.fill(p, 1f);
    for (double rate : List.of(0.1, 0.3, 0.5, 0.9)) {
      float[] removed = ModalityRemoval.completelyAtRandom(p, ids, M, rate, 11);
      int count = 0;
      int[] byModality = new int[M];
      int bothFirstTwo = 0;
      for (int r = 0; r < n; r++) {
        for (int i = 0; i < M; i++) {
          if (removed[r * M + i] == 0f) {
            count++;
            byModality[i]++;
          }
        }
        bothFirstTwo += removed[r * M] == 0f && removed[r * M + 1] == 0f ? 1 : 0;
      }
      int cells = n * M;
      double sd = Math.sqrt(cells * rate * (1 - rate));
      assertTrue(
          Math.abs(count - cells * rate) < 4 * sd,
          "rate " + rate + ": " + count + " of " + cells + " removed");
      // Per modality, and both of two modalities at once (rate^2: the draws are independent
      // across modalities).
      double sdOne = Math.sqrt(n * rate * (1 - rate));
      for (int i = 0; i < M; i++) {
        assertTrue(
            Math.abs(byModality[i] - n * rate) < 4 * sdOne,
            "rate " + rate + ", modality " + i + ": " + byModality[i] + " of " + n);
      }
      double q = rate * rate;
      assertTrue(
          Math.abs(bothFirstTwo - n * q) < 4 * Math.sqrt(n * q * (1 - q)),
          "rate " + rate + ": both removed " + bothFirstTwo + " of " + n);
    }
  }

  @Test
  void theDrawDependsOnSeedSubjectAndModality() {
    double d = ModalityRemoval.draw(1, "a", 0);
    assertTrue(d >= 0 && d < 1);
    assertEquals(d, ModalityRemoval.draw(1, "a", 0), 0.0);
    assertNotEquals(d, ModalityRemoval.draw(2, "a", 0));
    assertNotEquals(d, ModalityRemoval.draw(1, "b", 0));
    assertNotEquals(d, ModalityRemoval.draw(1, "a", 1));
  }

  /** A batch of one-wide modalities whose features are distinct non-zero values. */
  private static Batch batch(int n, float[] presence) {
    float[][] f = new float[M][n];
    for (int i = 0; i < M; i++) {
      for (int r = 0; r < n; r++) {
        f[i][r] = presence[r * M + i] == 0f ? 0f : 1 + r + 0.5f * i;
      }
    }
    return new Batch(new int[] {1, 1, 1, 1}, f, presence, new int[n], 2);
  }
}
