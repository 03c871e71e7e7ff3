package org.cohortfusion.cli;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkContext;
import org.cohortfusion.cohort.FoldView;
import org.cohortfusion.config.PipelineConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Every stage from ingest to report in one JVM and one Spark session, so a small cohort does not
 * pay a JVM, Spark and DL4J start per stage. Each stage runs exactly as its own command would (same
 * options, same status file {@code <output.dir>/_status/<stage>.json}); the first stage that fails
 * ends the run with its exit code.
 *
 * <p>With {@code splits.folds = k}, ingest runs once and every later stage runs once per fold, on
 * the fold's view of the cohort ({@link FoldView}: fold f held out as the test split, fold (f + 1)
 * mod k as validation, the rest train) with its outputs, status files included, under {@code
 * <output.dir>/folds/<f>} in the usual layout; folds run concurrently ({@code cv.parallelism}),
 * each on its own thread and Spark job group. The {@code cv} stage then pools the out-of-fold
 * predictions into {@code <output.dir>/cv/metrics.json} (class labels: {@link
 * org.cohortfusion.evaluate.CrossValidationAction}; a survival outcome: {@link
 * org.cohortfusion.evaluate.SurvivalCrossValidation}).
 *
 * <p>A stage whose inputs are unchanged since it last succeeded ({@link StageInputs}: code, its
 * config sections, the source files or the upstream output) is skipped, so a run after a change to
 * the fusion models starts at train. Stages run per fold always run.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run the stages ingest, pretrain, extract, train, evaluate and report in one JVM and Spark session",
      "(--from / --to for a part); stops at the first stage that fails, with its exit code. Its own status:",
      "<output.dir>/_status/run.json; each stage's: <output.dir>/_status/<stage>.json, all with the same run id."
    })
final class RunCommand extends StageCommand {
  private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);
  static final List<String> STAGES =
      List.of("ingest", "pretrain", "extract", "train", "evaluate", "report");

  /** The stages that run once per fold under cross-validation. */
  static final List<String> FOLD_STAGES =
      List.of("pretrain", "extract", "train", "evaluate", "report");

  @Option(
      names = "--from",
      paramLabel = "STAGE",
      defaultValue = "ingest",
      description = "First stage (default: ${DEFAULT-VALUE}).")
  String from;

  @Option(
      names = "--to",
      paramLabel = "STAGE",
      defaultValue = "report",
      description = "Last stage (default: ${DEFAULT-VALUE}).")
  String to;

  @Option(
      names = "--force",
      description =
          "Run every stage, also those whose inputs are unchanged since their output"
              + " was made (by default such a stage is skipped; see <output.dir>/_status/<stage>.json).")
  boolean force;

  @Override
  public Integer call() {
    int first = STAGES.indexOf(from);
    int last = STAGES.indexOf(to);
    if (first < 0 || last < 0 || first > last) {
      throw new picocli.CommandLine.ParameterException(
          new picocli.CommandLine(this),
          "Cannot run stages from '"
              + from
              + "' to '"
              + to
              + "': expected two of "
              + STAGES
              + " in that order");
    }
    int folds = config().splits().folds();
    if (last >= STAGES.indexOf("pretrain")) {
      requireThreeFolds(folds);
    }
    String id = run().runIdOrNew();
    long start = System.nanoTime();
    List<String> perFold = new ArrayList<>();
    for (String stage : STAGES.subList(first, last + 1)) {
      if (folds > 0 && FOLD_STAGES.contains(stage)) {
        perFold.add(stage);
        continue;
      }
      int code = runOrSkip(stage, id);
      if (code != 0) {
        return code;
      }
    }
    if (!perFold.isEmpty()) {
      int code = runFolds(config(), perFold, id);
      if (code != 0) {
        return code;
      }
      if (last >= STAGES.indexOf("evaluate")) {
        code = runStage("cv", id);
        if (code != 0) {
          return code;
        }
      }
    }
    LOG.info(
        "run: stages {} to {} done in {} s",
        from,
        to,
        Math.round((System.nanoTime() - start) / 1e9));
    return 0;
  }

  /**
   * Refuses splits.folds = 1 or 2 (0, no cross-validation, passes): every fold needs a test fold, a
   * validation fold and at least one training fold.
   */
  static void requireThreeFolds(int folds) {
    if (folds > 0 && folds < 3) {
      throw new UserInputException(
          "Cannot run cross-validation with splits.folds = "
              + folds
              + ": every fold needs a"
              + " test fold, a validation fold and at least one training fold (use 3 or more)");
    }
  }

  /**
   * Skips {@code stage} when its status says it succeeded from the inputs it would read now ({@link
   * StageInputs}) and its output is still there; else runs it and records the digest of those
   * inputs in its status.
   */
  private int runOrSkip(String stage, String id) {
    org.apache.hadoop.conf.Configuration conf = spark().sparkContext().hadoopConfiguration();
    PipelineConfig config = config();
    String digest = StageInputs.digest(stage, config, conf);
    String root = config.output().dir();
    java.util.Optional<StageStatus> last = StageStatus.read(conf, root, stage);
    if (!force
        && last.isPresent()
        && last.get().state() == StageStatus.State.SUCCEEDED
        && digest.equals(last.get().inputDigest())
        && StageInputs.outputPresent(stage, config, conf)) {
      last.get().skippedBy(id).write(conf, root);
      LOG.info(
          "run: {} skipped: its inputs are unchanged since run {} made its output (--force runs it)",
          stage,
          last.get().producedBy());
      return 0;
    }
    int code = runStage(stage, id);
    if (code == 0) {
      StageStatus.read(conf, root, stage)
          .ifPresent(s -> s.withInputDigest(digest).write(conf, root));
    }
    return code;
  }

  /**
   * Runs {@code stages} for every fold of every repeat, {@code cv.parallelism} folds at a time;
   * returns 0, or the exit code of the first fold (in repeat, fold order) that failed (a fold that
   * failed stops its own chain; the others finish the stage they are in and stop).
   */
  private int runFolds(PipelineConfig config, List<String> stages, String id) {
    int k = config.splits().folds();
    int repeats = config.splits().repeats();
    SparkContext sc = spark().sparkContext();
    writeFoldViews(spark(), config, stages.contains("pretrain"), path -> path);
    int parallel = config.cv().effectiveParallelism(k * repeats, sc.defaultParallelism());
    LOG.info(
        "run: {} folds x {} repeat(s), stages {} per fold, {} fold(s) at a time",
        k,
        repeats,
        stages,
        parallel);
    List<StageChains.Chain> chains = new ArrayList<>();
    for (int r = 0; r < repeats; r++) {
      for (int f = 0; f < k; f++) {
        String label = r == 0 ? "fold " + f : "repeat " + r + " fold " + f;
        List<String> extra = foldOverrides(config, r, f);
        List<StageChains.Step> steps = new ArrayList<>();
        for (String stage : stages) {
          steps.add(new StageChains.Step(stage, stageArgs(stage, id, extra)));
        }
        chains.add(new StageChains.Chain(label, "cv-" + label.replace(' ', '-'), steps));
      }
    }
    return StageChains.run(sc, chains, parallel, "run", CohortFusion::run);
  }

  /**
   * Publishes the cohort view of every fold of every repeat ({@link FoldView}) at {@code <fold
   * root>/cohort}, where a fold's stages read their cohort. Repeats after the first get their own
   * folds, drawn into {@code <repeat root>/assignment} when {@code drawAssignments} (a run from
   * pretrain; later stages reuse the assignment already drawn). {@code place} maps a directory of
   * the config's own layout (fold and repeat roots under output.dir) to where it is written: itself
   * for run, the same path under a study cell for study.
   */
  static void writeFoldViews(
      org.apache.spark.sql.SparkSession spark,
      PipelineConfig config,
      boolean drawAssignments,
      java.util.function.UnaryOperator<String> place) {
    int k = config.splits().folds();
    for (int r = 0; r < config.splits().repeats(); r++) {
      String assignment = null;
      if (r > 0) {
        assignment = place.apply(config.repeatOutputDir(r)) + "/assignment";
        if (drawAssignments) {
          FoldView.writeAssignment(
              spark, config.cohortOutputDir(), config.splits().forRepeat(r), assignment);
        }
      }
      for (int f = 0; f < k; f++) {
        FoldView.of(config.cohortOutputDir(), f, k, assignment)
            .write(
                spark.sparkContext().hadoopConfiguration(),
                foldCohortDir(place.apply(config.foldOutputDir(r, f))));
      }
    }
  }

  /** The cohort directory of the fold rooted at {@code foldDir}: its FoldView. */
  static String foldCohortDir(String foldDir) {
    return foldDir + "/cohort";
  }

  /**
   * The --set options that point a stage at fold {@code fold} of repeat {@code repeat}: output.dir,
   * and train.shards-dir when set (else it follows output.dir). Values are quoted: unquoted, HOCON
   * would read the "//" of a URI such as hdfs://namenode:8020/x as the start of a comment.
   */
  static List<String> foldOverrides(PipelineConfig config, int repeat, int fold) {
    String dir = config.foldOutputDir(repeat, fold);
    List<String> extra = new ArrayList<>(List.of("--set", "output.dir=" + quoted(dir)));
    if (config.train().shardsDir() != null && !config.train().shardsDir().isBlank()) {
      extra.addAll(
          List.of(
              "--set",
              "train.shards-dir="
                  + quoted(
                      config.train().shardsDir() + dir.substring(config.output().dir().length()))));
    }
    return extra;
  }

  private static String quoted(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
