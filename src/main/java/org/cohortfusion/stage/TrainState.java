package org.cohortfusion.stage;

/**
 * Training progress of one network, written next to its per-epoch checkpoints ({@code
 * checkpoints/state.json}) after every epoch so that a run continues where it stopped ({@code train
 * --resume}); the report draws its history.
 *
 * @param epoch last completed epoch (0 = none)
 * @param bestAuroc validation AUROC (C for a survival head) of the best epoch so far (-1 = none)
 * @param bestEpoch the best epoch by the early-stopping criterion (train.early-stopping for train)
 * @param patienceCounter epochs since the last improvement
 * @param seed training seed (init, shuffling, modality dropout)
 * @param done whether training finished (all epochs or early stop)
 * @param stoppedEarly whether early stopping ended it
 * @param history every finished epoch
 * @param bestLoss validation log loss of the best epoch so far (null = none)
 * @param bestScore what the best epoch is ranked by ({@code fit.EpochScore#key}; null = none)
 */
public record TrainState(
    int epoch,
    double bestAuroc,
    int bestEpoch,
    int patienceCounter,
    long seed,
    boolean done,
    boolean stoppedEarly,
    java.util.List<Epoch> history,
    Double bestLoss,
    java.util.List<Double> bestScore) {
  /** One finished epoch, for training curves: validation loss and AUROC, training throughput. */
  public record Epoch(
      int epoch, double validationLoss, double validationAuroc, double samplesPerSecond) {}

  public TrainState {
    history = history == null ? java.util.List.of() : java.util.List.copyOf(history);
    bestScore = bestScore == null ? null : java.util.List.copyOf(bestScore);
  }

  /** The state file inside a checkpoints directory. */
  public static final String FILE = "state.json";

  /** Path of the state file in checkpoints directory {@code checkpoints}. */
  public static String path(String checkpoints) {
    return checkpoints + "/" + FILE;
  }

  public static TrainState initial(long seed) {
    return new TrainState(0, -1, 0, 0, seed, false, false, java.util.List.of(), null, null);
  }

  /**
   * The state after one more epoch.
   *
   * @param e the epoch just finished
   * @param improvedScore its score key when it is the new best, else null
   * @param patience epochs since the last improvement, this one included
   */
  public TrainState after(
      Epoch e,
      java.util.List<Double> improvedScore,
      int patience,
      boolean finished,
      boolean earlyStop) {
    boolean improved = improvedScore != null;
    return new TrainState(
        e.epoch(),
        improved ? e.validationAuroc() : bestAuroc,
        improved ? e.epoch() : bestEpoch,
        patience,
        seed,
        finished,
        earlyStop,
        with(e),
        improved ? Double.valueOf(e.validationLoss()) : bestLoss,
        improved ? improvedScore : bestScore);
  }

  /** The best validation loss so far; +infinity before the first epoch. */
  public double bestLossOrInfinity() {
    return bestLoss == null ? Double.POSITIVE_INFINITY : bestLoss;
  }

  /** This state's history plus one epoch. */
  public java.util.List<Epoch> with(Epoch e) {
    java.util.List<Epoch> h = new java.util.ArrayList<>(history);
    h.add(e);
    return h;
  }
}
