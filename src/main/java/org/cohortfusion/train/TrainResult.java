package org.cohortfusion.train;

import java.util.List;
import java.util.stream.Collectors;

/**
 * What a train run produced.
 *
 * @param models one entry per model trained (or reported) in this run, in training order
 * @param summaryPath {@code <output>/train/summary.json}
 */
public record TrainResult(List<ModelResult> models, String summaryPath) {

  /**
   * One trained model.
   *
   * @param name model name (fusion.models key, unimodal:&lt;m&gt;, early or late)
   * @param kind fusion, unimodal, early, late or classical
   * @param describe the spec in the review's notation
   * @param modelDir published model directory (ModelArtifact; late: late.json directory; classical:
   *     the Spark ML pipeline's directory); null if not completed
   * @param sha256 SHA-256 of model.zip (late: of late.json; classical: of its manifest.json)
   * @param bestEpoch epoch of the best validation AUROC
   * @param epochsRun epochs completed in total (over resumed runs)
   * @param stoppedEarly whether early stopping ended training
   * @param completed false when the run was interrupted before the end (resume with --resume)
   * @param validation validation metrics of the best model
   * @param samplesPerSecond training throughput of the last epoch of this run (0 if none ran)
   * @param parameters trainable parameters of the network (null: not a network, e.g. late fusion or
   *     classical)
   * @param trainSeconds wall seconds this train run spent on the model, validation scoring and
   *     checkpoints included (null when not measured)
   */
  public record ModelResult(
      String name,
      String kind,
      String describe,
      String modelDir,
      String sha256,
      int bestEpoch,
      int epochsRun,
      boolean stoppedEarly,
      boolean completed,
      Metrics validation,
      double samplesPerSecond,
      Long parameters,
      Double trainSeconds) {
    /** A result without cost figures (late fusion, classical baselines). */
    public ModelResult(
        String name,
        String kind,
        String describe,
        String modelDir,
        String sha256,
        int bestEpoch,
        int epochsRun,
        boolean stoppedEarly,
        boolean completed,
        Metrics validation,
        double samplesPerSecond) {
      this(
          name,
          kind,
          describe,
          modelDir,
          sha256,
          bestEpoch,
          epochsRun,
          stoppedEarly,
          completed,
          validation,
          samplesPerSecond,
          null,
          null);
    }

    /** This result with the wall seconds the train run spent on it. */
    public ModelResult timed(double seconds) {
      return new ModelResult(
          name,
          kind,
          describe,
          modelDir,
          sha256,
          bestEpoch,
          epochsRun,
          stoppedEarly,
          completed,
          validation,
          samplesPerSecond,
          parameters,
          seconds);
    }
  }

  public TrainResult {
    models = List.copyOf(models);
  }

  public ModelResult get(String name) {
    return models.stream()
        .filter(m -> m.name().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "Cannot find model '" + name + "' in the train result"));
  }

  /**
   * One line per model; then the best fusion against the best classical baseline on validation
   * AUROC (C for a survival outcome).
   */
  public String summary() {
    String lines =
        models.stream()
            .map(
                m ->
                    String.format(
                        java.util.Locale.ROOT,
                        "%-22s %s  val %s  best epoch %d/%d  %s",
                        m.name(),
                        m.completed() ? "done" : "INTERRUPTED",
                        m.validation() == null
                            ? "-"
                            : String.format(
                                java.util.Locale.ROOT,
                                "%s %.4f",
                                m.validation().rankName(),
                                m.validation().auroc()),
                        m.bestEpoch(),
                        m.epochsRun(),
                        m.describe()))
            .collect(Collectors.joining("\n"));
    java.util.Optional<ModelResult> fusion = best("fusion");
    java.util.Optional<ModelResult> classical = best("classical");
    if (fusion.isPresent() && classical.isPresent()) {
      double d = fusion.get().validation().auroc() - classical.get().validation().auroc();
      lines +=
          String.format(
              java.util.Locale.ROOT,
              "%nBest fusion (%s, val %s %.4f) %s the best classical baseline"
                  + " (%s, %.4f) by %.4f",
              fusion.get().name(),
              fusion.get().validation().rankName(),
              fusion.get().validation().auroc(),
              d >= 0 ? "beats" : "trails",
              classical.get().name(),
              classical.get().validation().auroc(),
              Math.abs(d));
    }
    return lines;
  }

  /**
   * The completed model of {@code kind} (fusion, classical, ...) with the highest validation AUROC.
   */
  public java.util.Optional<ModelResult> best(String kind) {
    return models.stream()
        .filter(m -> kind.equals(m.kind()) && m.validation() != null)
        .filter(m -> !Double.isNaN(m.validation().auroc()))
        .max(java.util.Comparator.comparingDouble(m -> m.validation().auroc()));
  }
}
