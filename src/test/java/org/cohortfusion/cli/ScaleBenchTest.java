package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScaleBenchTest {
  @TempDir Path dir;

  /**
   * Two tiny sizes end to end, each in its child JVM: every stage of both sizes is in
   * bench-scale.json with a positive time and heap figures read from a 2 GB JVM. Speed is not
   * asserted: the machine is shared.
   */
  @Test
  void runsEveryStageAtBothSizesInChildJvmsAndWritesTheFigures() throws Exception {
    String conf =
        Path.of(System.getProperty("cohortfusion.repo", "."), "conf", "demo.conf").toString();
    CliRun run =
        CliRun.of(
            "bench",
            "scale",
            "--config",
            conf,
            "--subjects",
            "600,300",
            "--epochs",
            "1",
            "--models",
            "attention,concat",
            "--work-dir",
            dir.toString(),
            "--live-heap-every",
            "1");
    assertEquals(0, run.code(), run.err());
    assertTrue(run.out().contains("total"), run.out());

    JsonNode json = new ObjectMapper().readTree(dir.resolve("bench-scale.json").toFile());
    JsonNode sizes = json.get("sizes");
    assertEquals(2, sizes.size());
    assertEquals(300, sizes.get(0).get("subjects").asLong(), "smallest first");
    assertEquals(600, sizes.get(1).get("subjects").asLong());
    for (JsonNode size : sizes) {
      long maxHeap = size.get("driverMaxHeapBytes").asLong();
      assertTrue(
          maxHeap > 1_500_000_000L && maxHeap <= 2L << 30,
          "the child's heap is the driver memory: " + maxHeap);
      assertTrue(size.get("executorsInDriverJvm").asBoolean(), "local mode");
      JsonNode stages = size.get("stages");
      assertEquals(ScaleRun.STAGES.size(), stages.size());
      long collected = 0;
      int liveSamples = 0;
      for (int i = 0; i < stages.size(); i++) {
        JsonNode s = stages.get(i);
        assertEquals(ScaleRun.STAGES.get(i), s.get("stage").asText());
        assertTrue(s.get("seconds").asDouble() > 0, s.toString());
        long poolPeak = s.get("driverPoolPeakSumBytes").asLong();
        // Not bounded by -Xmx: the pools peak at different moments (2,668 MB in a 2 GB heap at
        // 100,000 subjects).
        assertTrue(poolPeak > 0, s.toString());
        assertTrue(s.get("driverUsedAfterGcBytes").asLong() <= poolPeak, s.toString());
        assertEquals(
            -1,
            s.get("executorPeakHeapBytes").asLong(),
            "no executor apart from the driver in local mode");
        collected += s.get("driverUsedAfterGcBytes").asLong();
        // A live sample is the heap in use at one moment of the stage: no pool exceeds its peak.
        if (s.get("driverLiveSamples").asInt() > 0) {
          long live = s.get("driverLiveSampledBytes").asLong();
          assertTrue(live > 0 && live <= poolPeak, s.toString());
          liveSamples += s.get("driverLiveSamples").asInt();
        } else {
          assertEquals(0, s.get("driverLiveSampledBytes").asLong(), s.toString());
        }
      }
      assertTrue(collected > 0, "the collector ran during some stage of " + size.get("subjects"));
      assertTrue(liveSamples > 0, "a sample a second over the whole pipeline: " + size);
      assertTrue(
          Files.exists(
              dir.resolve("subjects-" + size.get("subjects").asLong()).resolve("out/report")));
    }
    for (String stage : ScaleRun.STAGES) {
      assertTrue(json.get("timeRatios").get(stage).asDouble() > 0, stage);
    }
    assertTrue(json.get("timeRatios").get("total").asDouble() > 0);
    assertEquals(2.4, json.get("timeGoal").asDouble(), 1e-9);
    assertTrue(json.get("driverAfterGcRatio").asDouble() > 0);
    assertTrue(json.get("executorHeapRatio").isNull());
  }

  /**
   * The ratios are the largest size's over the smallest's; the executor ratio is unknown without
   * executor figures.
   */
  @Test
  void ratiosAreLargeOverSmall() {
    ScaleRun.SizeFigures small = figures(100, 10, 200, 100, 50);
    ScaleRun.SizeFigures large = figures(1000, 110, 260, 100, 60);
    ScaleBench.Result r = ScaleBench.ratios(List.of(small, large));
    assertEquals(11.0, r.timeRatios().get("generate"), 1e-9);
    assertEquals(11.0, r.timeRatios().get("total"), 1e-9);
    assertEquals(12.0, r.timeGoal(), 1e-9);
    assertEquals(1.3, r.driverAfterGcRatio(), 1e-9);
    assertEquals(1.0, r.driverPoolPeakRatio(), 1e-9);
    assertEquals(1.2, r.driverLiveRatio(), 1e-9);
    assertNull(r.executorHeapRatio());
    assertTrue(ScaleBench.table(r).contains("MISS") == false, ScaleBench.table(r));
  }

  /**
   * A stage that failed at the large size (say, out of memory) is kept with its figures: no time
   * ratio for it or the stages after it, no total, and the heap ratios over the stages both sizes
   * finished.
   */
  @Test
  void aFailedStageHasNoRatioAndTheHeapRatiosCoverTheStagesBothFinished() {
    ScaleRun.SizeFigures small = figures(100, 10, 200, 100, 0);
    List<ScaleRun.StageFigures> failed = new java.util.ArrayList<>();
    for (String stage : ScaleRun.STAGES.subList(0, ScaleRun.STAGES.indexOf("evaluate"))) {
      failed.add(new ScaleRun.StageFigures(stage, 0, 50, 100, 400, 1, 0, 0, -1, 1.0));
    }
    failed.add(new ScaleRun.StageFigures("evaluate", 1, 300, 2000, 1900, 9, 0, 0, -1, 1.0));
    ScaleRun.SizeFigures large =
        new ScaleRun.SizeFigures(
            1000, 1, List.of("attention"), "local[*]", true, 2L << 30, 2, 1.0, failed);
    ScaleBench.Result r = ScaleBench.ratios(List.of(small, large));
    assertEquals(5.0, r.timeRatios().get("train"), 1e-9);
    assertNull(r.timeRatios().get("evaluate"));
    assertNull(r.timeRatios().get("report"));
    assertNull(r.timeRatios().get("total"));
    assertEquals(2.0, r.driverAfterGcRatio(), 1e-9, "over generate to train only");
    assertNull(r.driverLiveRatio(), "no live samples");
    assertEquals(false, r.complete());
    String table = ScaleBench.table(r);
    assertTrue(table.contains("FAIL 300") && table.contains("not complete"), table);
  }

  private static ScaleRun.SizeFigures figures(
      long subjects, double seconds, long afterGc, long poolPeak, long live) {
    List<ScaleRun.StageFigures> stages =
        ScaleRun.STAGES.stream()
            .map(
                s ->
                    new ScaleRun.StageFigures(
                        s, 0, seconds, poolPeak, afterGc, 1, live, live > 0 ? 3 : 0, -1, 1.0))
            .toList();
    return new ScaleRun.SizeFigures(
        subjects, 1, List.of("attention"), "local[*]", true, 2L << 30, 2, 1.0, stages);
  }
}
