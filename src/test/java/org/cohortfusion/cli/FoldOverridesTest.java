package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.study.StudyGrid;
import org.junit.jupiter.api.Test;

/**
 * The options that point a stage at a fold keep URI outputs intact (HOCON reads an unquoted "//" as
 * a comment). Also a fold of a cross-validated study's cell: its outputs where the cv stage run for
 * the cell looks for them, its cohort the fold's view, the cell's embedding size.
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

  private static PipelineConfig parsed(List<String> before, List<String> args) {
    List<String> sets = new ArrayList<>(before);
    for (int i = 0; i < args.size(); i += 2) {
      assertEquals("--set", args.get(i));
      sets.add(args.get(i + 1));
    }
    return PipelineConfigLoader.parse(CONF, sets);
  }

  @Test
  void aStudyCellsFoldIsWhereTheCellsPoolingReadsIt() {
    List<String> sets =
        List.of(
            "train.shards-dir=\"s3a://bucket/shards\"",
            "output.cohort-dir=\"hdfs://namenode:8020/cohorts/shared\"",
            "modalities.clinical { kind = tabular, path = c }",
            "fusion { default = cat, models { cat { what = [clinical, labs], how = concat, head = [8] } } }",
            "study.embedding-sizes.labs = [7]");
    PipelineConfig config = parsed(sets, List.of());
    StudyGrid.Cell cell = StudyGrid.cells(config).get(1);
    assertEquals("labs-7", cell.name());
    PipelineConfig fold = parsed(sets, StudyCommand.cellFoldOverrides(config, cell, 1, 4));
    String root = "hdfs://namenode:8020/cohorts/out/study/labs-7/repeats/1/folds/4";
    assertEquals(root, fold.output().dir());
    assertEquals(root + "/cohort", fold.cohortOutputDir());
    assertEquals("s3a://bucket/shards/study/labs-7/repeats/1/folds/4", fold.shardsDir());
    assertEquals(7, fold.pretrain().encoder("labs").embeddingSize());
    // The cv stage runs with the cell's own overrides: it must look for the fold exactly there.
    PipelineConfig pooling = parsed(sets, StudyCommand.cellOverrides(config, cell));
    assertEquals(root, pooling.foldOutputDir(1, 4));
    assertEquals("hdfs://namenode:8020/cohorts/out/study/labs-7/cv", pooling.cvOutputDir());
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
