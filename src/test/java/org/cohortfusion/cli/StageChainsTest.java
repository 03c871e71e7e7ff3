package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkContext;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;

class StageChainsTest {
  private static final SparkContext SC = SparkTestSession.get().sparkContext();

  private static StageChains.Chain chain(String name, String... stages) {
    List<StageChains.Step> steps = new ArrayList<>();
    for (String s : stages) {
      steps.add(new StageChains.Step(s, new String[] {name, s}));
    }
    return new StageChains.Chain(name, "test-" + name, steps);
  }

  @Test
  void twoChainsRunAtTheSameTimeWhenTheParallelismIsTwo() {
    // Both chains' first stages wait for each other: with one chain at a time this times out.
    CyclicBarrier both = new CyclicBarrier(2);
    List<String> ran = Collections.synchronizedList(new ArrayList<>());
    int code =
        StageChains.run(
            SC,
            List.of(chain("a", "pretrain", "train"), chain("b", "pretrain", "train")),
            2,
            "test",
            args -> {
              if (args[1].equals("pretrain")) {
                try {
                  both.await(60, TimeUnit.SECONDS);
                } catch (Exception e) {
                  return 9;
                }
              }
              ran.add(args[0] + ":" + args[1]);
              return 0;
            });
    assertEquals(0, code);
    assertEquals(4, ran.size(), ran.toString());
    assertEquals(
        List.of("a:pretrain", "a:train"), ran.stream().filter(s -> s.startsWith("a")).toList());
  }

  @Test
  void aFailedStageStopsTheOtherChainsAndItsCodeIsReturned() {
    List<String> ran = Collections.synchronizedList(new ArrayList<>());
    int code =
        StageChains.run(
            SC,
            List.of(chain("a", "pretrain", "train", "evaluate"), chain("b", "pretrain")),
            1,
            "test",
            args -> {
              ran.add(args[0] + ":" + args[1]);
              return args[0].equals("a") && args[1].equals("train") ? 3 : 0;
            });
    assertEquals(3, code);
    // One chain at a time, in order: a stops at its failed train; b, next, does not start.
    assertEquals(List.of("a:pretrain", "a:train"), ran);
  }
}
