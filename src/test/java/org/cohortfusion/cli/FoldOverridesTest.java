package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.junit.jupiter.api.Test;

/**
 * The options that point a stage at a fold keep URI outputs intact (HOCON reads an unquoted "//" as
 * a comment).
 */
class FoldOverridesTest {
  private static final String CONF =
      "subjects { path = s }\nmodalities { labs { kind = timeseries, path = l } }\n"
          + "output { dir = \"hdfs://namenode:8020/cohorts/out\" }\nsplits.folds = 5\n";

  private static PipelineConfig applied(
      PipelineConfig config, int repeat, int fold, String... before) {
    List<String> sets = new ArrayList<>(List.of(before));
    List<String> args = RunCommand.foldOverrides(config, repeat, fold);
    for (int i = 0; i < args.size(); i += 2) {
      assertEquals("--set", args.get(i));
      sets.add(args.get(i + 1));
    }
    return PipelineConfigLoader.parse(CONF, sets);
  }

  @Test
  void foldOutputsStayUrisAndShardsFollowTheFold() {
    PipelineConfig config = PipelineConfigLoader.parse(CONF, List.of());
    assertEquals("hdfs://namenode:8020/cohorts/out/folds/3", applied(config, 0, 3).output().dir());
    assertEquals(
        "hdfs://namenode:8020/cohorts/out/repeats/2/folds/3", applied(config, 2, 3).output().dir());

    String shards = "train.shards-dir=\"s3a://bucket/shards\"";
    PipelineConfig withShards = PipelineConfigLoader.parse(CONF, List.of(shards));
    PipelineConfig fold = applied(withShards, 1, 4, shards);
    assertEquals("hdfs://namenode:8020/cohorts/out/repeats/1/folds/4", fold.output().dir());
    assertEquals("s3a://bucket/shards/repeats/1/folds/4", fold.shardsDir());
  }
}
