package org.cohortfusion.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.PretrainOutputs;
import org.cohortfusion.study.StudyGrid;
import org.cohortfusion.study.StudyReport;
import org.cohortfusion.study.StudyResult;
import org.cohortfusion.study.StudyTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/**
 * The config's study grid ({@code study} block, {@link StudyGrid}) in one JVM and one Spark
 * session: ingest once (or the cohort already at {@code <output.dir>/cohort}), then pretrain,
 * extract, train (the study's fusion models only) and evaluate each cell exactly as their own
 * commands would, with the cell's embedding sizes and its outputs under {@code
 * <output.dir>/study/<cell>}; then {@code study.json} and {@code study.html} beside the cells (test
 * AUROC, or Harrell's C on a survival outcome). Cells are independent and run {@code
 * study.parallelism} at a time ({@link StageChains}), like the folds of cross-validation. The first
 * stage that fails ends the study with its exit code.
 *
 * <p>Each distinct (modality, size) encoder is pretrained once: in two phases, first every cell's
 * pretrain (the base cell all modalities, a varied cell {@code <m>-<size>} only {@code m}, with
 * {@code --modality}), then per cell a copy of the base cell's encoders of the modalities it does
 * not vary into its own pretrain directory ({@link AtomicDirectory#publishCopy}), and the cell's
 * extract, train and evaluate. A varied cell's pretrain metrics.json therefore lists only its
 * varied modality. Pretrain seeds every modality's encoder with {@code pretrain.seed} alone and
 * fits it on that modality's rows alone, so the copy is the encoder the cell would have fitted, up
 * to whatever run-to-run nondeterminism training itself has.
 *
 * <p>With {@code splits.folds = k} (and {@code splits.repeats}) the study is cross-validated: every
 * cell runs as a cross-validated {@code run} would with the cell's directory as output.dir — per
 * repeat and fold, pretrain, extract, train and evaluate on the fold's view of the cohort ({@link
 * org.cohortfusion.cohort.FoldView}, written by {@link RunCommand#writeFoldViews}) under {@code
 * <output.dir>/study/<cell>/folds/<f>} ({@code .../repeats/<r>/folds/<f>} for later repeats), one
 * chain per cell and fold, {@code study.parallelism} chains at a time, encoders pretrained once per
 * fold and copied from the base cell's same fold; then the {@code cv} stage per cell pools its
 * out-of-fold predictions into {@code <output.dir>/study/<cell>/cv/metrics.json}. The table then
 * reads each cell's pooled out-of-fold metric and the fold mean ± sd ({@link StudyTable}).
 */
@Command(
    name = "study",
    mixinStandardHelpOptions = true,
    description = {
      "Run the config's study grid (study { embedding-sizes { <m> = [...] }, models = [...] }): ingest once",
      "(reused when <output.dir>/cohort exists), then per cell (the base sizes, and one modality's size changed at a",
      "time) pretrain, extract, train and evaluate under <output.dir>/study/<cell>; writes",
      "<output.dir>/study/study.json (one row per cell x model) and study.html. Cells run study.parallelism at a time.",
      "With splits.folds = k (3 or more; splits.repeats too) every cell is cross-validated: its stages run per fold",
      "under <output.dir>/study/<cell>/folds/<f>, the cv stage pools each cell's out-of-fold predictions into",
      "<output.dir>/study/<cell>/cv/metrics.json, and the table reports the pooled out-of-fold AUROC (or C) and the",
      "fold mean ± sd; cell x fold chains run study.parallelism at a time.",
      "Each (modality, size) encoder is pretrained once (per fold): a varied cell pretrains only its varied modality",
      "and takes the base cell's encoders (same fold) of the others; its pretrain/metrics.json lists only the varied one."
    })
final class StudyCommand extends StageCommand {
  private static final Logger LOG = LoggerFactory.getLogger(StudyCommand.class);

  /** The stages of a cell after pretrain (which runs for every cell first, see {@link #call}). */
  static final List<String> CELL_STAGES = List.of("extract", "train", "evaluate");

  /**
   * One chain of the study: a cell, or a cell's fold.
   *
   * @param overrides its --set options ({@link #cellOverrides}, {@link #cellFoldOverrides})
   * @param pretrainDir its pretrain output directory
   * @param baseDir the pretrain output directory of the base cell on the same data (same fold)
   */
  private record Unit(
      StudyGrid.Cell cell,
      String label,
      String group,
      List<String> overrides,
      String pretrainDir,
      String baseDir) {}

  @Override
  public Integer call() {
    PipelineConfig config = config();
    if (!config.study().declared()) {
      throw new UserInputException(
          "Cannot run a study: the config has no study block (e.g. study { embedding-sizes"
              + " { labs = [4, 16, 64] }, models = [concat, attention] })");
    }
    int folds = config.splits().folds();
    RunCommand.requireThreeFolds(folds);
    String id = run().runIdOrNew();
    long start = System.nanoTime();
    Configuration hconf = spark().sparkContext().hadoopConfiguration();
    if (exists(hconf, config.cohortOutputDir() + "/" + CohortManifest.FILE)) {
      LOG.info(
          "study: reusing the cohort ingested at {} (run ingest to refresh it)",
          config.cohortOutputDir());
    } else {
      int code = runStage("ingest", id);
      if (code != 0) {
        return code;
      }
    }
    List<StudyGrid.Cell> cells = StudyGrid.cells(config);
    List<String> models = config.study().modelsOr(config.fusion());
    int repeats = folds > 0 ? config.splits().repeats() : 1;
    // One unit per cell (per cell and fold when cross-validated), each paired with the base cell's
    // unit on the same data: that is where its unvaried encoders come from.
    List<Unit> units = new ArrayList<>();
    StudyGrid.Cell base = cells.get(0);
    for (int i = 0; i < cells.size(); i++) {
      StudyGrid.Cell cell = cells.get(i);
      String label = "cell " + cell.name() + " (" + (i + 1) + "/" + cells.size() + ")";
      if (folds == 0) {
        units.add(
            new Unit(
                cell,
                label,
                "study-" + cell.name(),
                cellOverrides(config, cell),
                PipelineConfig.pretrainOutputDir(StudyGrid.cellDir(config, cell)),
                PipelineConfig.pretrainOutputDir(StudyGrid.cellDir(config, base))));
        continue;
      }
      RunCommand.writeFoldViews(
          spark(), config, true, path -> StudyGrid.inCell(config, cell, path));
      for (int r = 0; r < repeats; r++) {
        for (int f = 0; f < folds; f++) {
          String fold = r == 0 ? "fold " + f : "repeat " + r + " fold " + f;
          units.add(
              new Unit(
                  cell,
                  label + " " + fold,
                  "study-" + cell.name() + "-" + fold.replace(' ', '-'),
                  cellFoldOverrides(config, cell, r, f),
                  PipelineConfig.pretrainOutputDir(
                      StudyGrid.inCell(config, cell, config.foldOutputDir(r, f))),
                  PipelineConfig.pretrainOutputDir(
                      StudyGrid.inCell(config, base, config.foldOutputDir(r, f)))));
        }
      }
    }
    // Phase 1: every distinct (modality, size) encoder is pretrained once per fold (once without
    // folds): the base cell pretrains every modality, a varied cell only its varied one.
    List<StageChains.Chain> pretrains = new ArrayList<>();
    for (Unit u : units) {
      List<String> args = new ArrayList<>(u.overrides());
      if (u.cell().varied() != null) {
        args.addAll(List.of("--modality", u.cell().varied()));
      }
      pretrains.add(
          new StageChains.Chain(
              u.label() + ", phase 1",
              u.group(),
              List.of(new StageChains.Step("pretrain", stageArgs("pretrain", id, args)))));
    }
    int parallel =
        config
            .study()
            .effectiveParallelism(units.size(), spark().sparkContext().defaultParallelism());
    LOG.info(
        "study: {} cell(s) x {} model(s){}, {} chain(s) at a time",
        cells.size(),
        models.size(),
        folds == 0 ? "" : " x " + folds + " fold(s) x " + repeats + " repeat(s)",
        parallel);
    int code =
        StageChains.run(spark().sparkContext(), pretrains, parallel, "study", CohortFusion::run);
    if (code != 0) {
      return code;
    }
    // Phase 2: a varied cell takes the base cell's encoders (same fold) of the modalities it does
    // not vary, then every cell extracts, trains and evaluates.
    List<StageChains.Chain> chains = new ArrayList<>();
    for (Unit u : units) {
      List<String> reused = new ArrayList<>();
      List<String> pretrained = new ArrayList<>();
      for (String m : u.cell().sizes().keySet()) {
        if (u.cell().varied() == null || u.cell().varied().equals(m)) {
          pretrained.add(m);
        } else {
          AtomicDirectory.publishCopy(
              hconf,
              PretrainOutputs.encoder(u.baseDir(), m),
              PretrainOutputs.encoder(u.pretrainDir(), m));
          reused.add(m);
        }
      }
      LOG.info(
          "study: {}: encoders pretrained {}{}",
          u.label(),
          pretrained,
          reused.isEmpty() ? "" : ", reused " + reused + " from cell " + StudyGrid.BASE);
      chains.add(new StageChains.Chain(u.label(), u.group(), cellSteps(id, models, u.overrides())));
    }
    code = StageChains.run(spark().sparkContext(), chains, parallel, "study", CohortFusion::run);
    if (code != 0) {
      return code;
    }
    if (folds > 0) {
      // Each cell pooled exactly as a cross-validated run pools its folds: the cv stage, with the
      // cell's directory as output.dir.
      for (StudyGrid.Cell cell : cells) {
        code = runStage("cv", id, cellOverrides(config, cell).toArray(new String[0]));
        if (code != 0) {
          return code;
        }
      }
    }
    StudyResult result =
        StudyTable.collect(spark(), config, cells, (System.nanoTime() - start) / 1e9);
    String page = StudyReport.write(hconf, config.studyOutputDir(), result);
    System.out.print(result.summary());
    System.out.println(
        "Study table written to " + config.studyOutputDir() + "/" + StudyReport.JSON);
    System.out.println("Study report written to " + page);
    return 0;
  }

  /**
   * One cell's (or one fold of a cell's) stages after pretrain, each with {@code extra}; train with
   * --model.
   */
  private List<StageChains.Step> cellSteps(String id, List<String> models, List<String> extra) {
    List<StageChains.Step> steps = new ArrayList<>();
    for (String stage : CELL_STAGES) {
      List<String> args = new ArrayList<>(extra);
      if (stage.equals("train")) {
        models.forEach(m -> args.addAll(List.of("--model", m)));
      }
      steps.add(new StageChains.Step(stage, stageArgs(stage, id, args)));
    }
    return steps;
  }

  /**
   * The --set options of one cell: its output.dir, the shared cohort (output.cohort-dir),
   * train.shards-dir when set (else it follows output.dir), and every modality's embedding size.
   * Values are quoted: unquoted, HOCON would read the "//" of a URI such as hdfs://namenode:8020/x
   * as the start of a comment.
   */
  static List<String> cellOverrides(PipelineConfig config, StudyGrid.Cell cell) {
    return overrides(config, cell, StudyGrid.cellDir(config, cell), config.cohortOutputDir());
  }

  /**
   * The --set options of fold {@code fold} of repeat {@code repeat} of one cell: as {@link
   * #cellOverrides}, with output.dir the fold's root in the cell's layout ({@link
   * PipelineConfig#foldOutputDir(int, int)} under the cell) and output.cohort-dir the fold's view
   * of the cohort there.
   */
  static List<String> cellFoldOverrides(
      PipelineConfig config, StudyGrid.Cell cell, int repeat, int fold) {
    String dir = StudyGrid.inCell(config, cell, config.foldOutputDir(repeat, fold));
    return overrides(config, cell, dir, RunCommand.foldCohortDir(dir));
  }

  private static List<String> overrides(
      PipelineConfig config, StudyGrid.Cell cell, String dir, String cohortDir) {
    List<String> extra =
        new ArrayList<>(
            List.of(
                "--set",
                "output.dir=" + quoted(dir),
                "--set",
                "output.cohort-dir=" + quoted(cohortDir)));
    if (config.train().shardsDir() != null && !config.train().shardsDir().isBlank()) {
      extra.addAll(
          List.of(
              "--set",
              "train.shards-dir="
                  + quoted(
                      config.train().shardsDir() + dir.substring(config.output().dir().length()))));
    }
    for (Map.Entry<String, Integer> e : cell.sizes().entrySet()) {
      extra.addAll(
          List.of("--set", "pretrain.encoders." + e.getKey() + ".embedding-size=" + e.getValue()));
    }
    return extra;
  }

  private static String quoted(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static boolean exists(Configuration hconf, String path) {
    try {
      Path p = new Path(path);
      return p.getFileSystem(hconf).exists(p);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("Cannot check " + path + ": " + e.getMessage(), e);
    }
  }
}
