package org.cohortfusion.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.SplitConfig;
import org.cohortfusion.registry.ModelRegistry;
import org.cohortfusion.registry.RegistryLock;
import org.cohortfusion.registry.RunInfo;
import org.cohortfusion.retrain.RetrainAction;
import org.cohortfusion.retrain.RetrainResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Scheduled retraining on a new cohort snapshot: under the registry's lock, the stages ingest to
 * evaluate run on the snapshot (with the champion's encoders, so the embedding cache is reused and
 * both models see the same embeddings; pretrain only without a champion or with
 * retrain.refit-encoders), then {@link RetrainAction} scores the champion on the same test
 * subjects, judges the gate, registers the challenger and moves the alias.
 *
 * <p>Rerunning a run id resumes it: stages whose status file records that run id as SUCCEEDED are
 * skipped, and a version the run registered is reused.
 */
@Command(
    name = "retrain",
    mixinStandardHelpOptions = true,
    description = {
      "Retrain on a new cohort snapshot and promote the challenger only if it passes the gate.",
      "Runs ingest, [pretrain], extract, train (the model and the unimodal baselines) and evaluate under the",
      "registry's lock, scores the champion on the same test subjects, registers the challenger (with encoders",
      "and lineage) and writes <output.dir>/retrain/retrain.json and report.html.",
      "Exit codes: 0 promoted; 3 gate not passed (challenger registered, champion unchanged);",
      "2 bad input or config; 1 failure (including: another retrain holds the registry's lock)."
    })
final class RetrainCommand extends StageCommand {

  @Option(
      names = "--model",
      paramLabel = "NAME",
      description = "Fusion model to retrain (default: retrain.model, else fusion.default).")
  String model;

  @Option(
      names = "--registry",
      paramLabel = "DIR|URI",
      description = "Registry root (default: registry.dir).")
  String registry;

  @Option(
      names = "--stop-after-registration",
      hidden = true,
      description =
          "Stop after registering the challenger, before moving an alias, as a crash there would (tests).")
  boolean stopAfterRegistration;

  @Override
  public boolean completed(int exitCode) {
    return exitCode == ExitCodes.OK || exitCode == ExitCodes.NOT_PROMOTED;
  }

  @Override
  public Integer call() {
    PipelineConfig config = config();
    String name =
        model != null
            ? model
            : config.retrain().model() != null
                ? config.retrain().model()
                : config.fusion().defaultModel();
    if (name == null || !config.fusion().models().containsKey(name)) {
      throw new UserInputException(
          "Cannot retrain '"
              + name
              + "': not a model of the config's fusion.models "
              + config.fusion().models().keySet());
    }
    checkStableSplits(config.splits());
    String id = run().runIdOrNew();
    Configuration hconf = spark().sparkContext().hadoopConfiguration();
    ModelRegistry reg = ModelRegistry.at(hconf, registry != null ? registry : config.registryDir());
    RunInfo info = new RunInfo(id, null, "retrain on " + config.cohortDir());
    try (RegistryLock lock =
        reg.lock(
            RegistryLock.thisProcess(),
            id,
            Duration.ofMinutes(config.retrain().lockTtlMinutes()))) {
      boolean known = reg.list().stream().anyMatch(e -> e.model().equals(name));
      // A rerun of a run that already registered its challenger (and may have promoted it) compares
      // with the
      // champion that run met, as its lineage records, never with its own challenger.
      Optional<Integer> registered = known ? reg.registeredBy(name, id) : Optional.empty();
      Optional<Integer> champion =
          registered.isPresent()
              ? Optional.ofNullable(
                  org.cohortfusion.io.Json.read(
                          hconf,
                          reg.modelPath(name, registered.get())
                              + "/"
                              + org.cohortfusion.retrain.Lineage.FILE,
                          org.cohortfusion.retrain.Lineage.class)
                      .comparedWith())
              : known ? reg.aliasTarget(name, ModelRegistry.CHAMPION) : Optional.empty();
      boolean pretrain = champion.isEmpty() || config.retrain().refitEncoders();
      String encoders =
          pretrain
              ? config.pretrainOutputDir()
              : RetrainAction.encodersDirOf(reg.modelPath(name, champion.get()));
      System.out.println(
          champion
              .map(
                  v ->
                      "Champion: "
                          + name
                          + " v"
                          + v
                          + (pretrain ? "; encoders refitted" : "; extracting with its encoders"))
              .orElse(
                  "No champion of "
                      + name
                      + " yet: the challenger must beat the "
                      + "best unimodal model"));
      List<String> unimodal = new ArrayList<>();
      config.modalities().keySet().forEach(m -> unimodal.add("unimodal:" + m));
      int code = stage(config, id, "ingest");
      code = code == 0 && pretrain ? stage(config, id, "pretrain") : code;
      code = code == 0 ? stage(config, id, "extract", "--encoders", encoders) : code;
      List<String> train = new ArrayList<>(List.of("--model", name));
      Integer warmFrom =
          champion.isPresent() && config.retrain().warmStart() ? champion.get() : null;
      if (warmFrom != null) {
        train.addAll(List.of("--warm-start", name + "=" + reg.modelPath(name, warmFrom)));
      }
      unimodal.forEach(u -> train.addAll(List.of("--model", u)));
      code = code == 0 ? stage(config, id, "train", train.toArray(new String[0])) : code;
      code = code == 0 ? stage(config, id, "evaluate") : code;
      if (code != 0) {
        return code;
      }
      RetrainResult result =
          RetrainAction.of(spark(), config, reg, name, champion.orElse(null), encoders, info)
              .warmStartedFrom(warmFrom)
              .progress(System.out::println)
              .stopAfterRegistration(stopAfterRegistration)
              .execute();
      System.out.print(result.summary());
      System.out.println(
          "Retrain result: " + result.resultPath() + "; report: " + result.reportPath());
      return result.promoted() ? ExitCodes.OK : ExitCodes.NOT_PROMOTED;
    }
  }

  /**
   * Runs a stage as its own command would, unless this run id already completed it (a rerun after a
   * crash). Returns its exit code.
   */
  private int stage(PipelineConfig config, String id, String stage, String... extra) {
    Optional<StageStatus> done = StageStatus.read(hconf(), config.output().dir(), stage);
    if (done.isPresent()
        && id.equals(done.get().runId())
        && done.get().state() == StageStatus.State.SUCCEEDED) {
      System.out.println("retrain: " + stage + " already done by run " + id + ", skipped");
      return 0;
    }
    return runStage(stage, id, extra);
  }

  private Configuration hconf() {
    return spark().sparkContext().hadoopConfiguration();
  }

  /**
   * A champion is judged on the new snapshot's test split, so no subject may move between splits
   * when a snapshot adds subjects: rank-stratified splits move them.
   */
  static void checkStableSplits(SplitConfig splits) {
    if (splits.mode() == SplitConfig.Mode.HASH && splits.stratify()) {
      throw new UserInputException(
          "Cannot retrain: splits.stratify = true ranks subjects within their label, so a "
              + "subject can change split when a snapshot adds others, and the champion could be scored on its own training "
              + "subjects; set splits.stratify = false (a subject's split then depends only on its id and splits.seed) or "
              + "splits.mode = column");
    }
  }
}
