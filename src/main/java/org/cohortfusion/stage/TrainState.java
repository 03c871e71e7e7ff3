package org.cohortfusion.stage;

/**
 * Training progress of one model, written next to its per-epoch checkpoints ({@code
 * checkpoints/state.json}) so that {@code --resume} continues where a run stopped.
 *
 * @param epoch last completed epoch (0 = none)
 * @param bestAuroc validation AUROC of the best epoch so far (-1 = none)
 * @param bestEpoch the best epoch by train.early-stopping (validation loss or AUROC)
 * @param patienceCounter epochs since the last improvement
 * @param seed training seed (init, shuffling, modality dropout)
 * @param done whether training finished (all epochs or early stop)
 * @param stoppedEarly whether early stopping ended it
 * @param history every finished epoch
 * @param bestLoss validation log loss of the best epoch so far (null = none)
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
    Double bestLoss) {
  /** One finished epoch, for training curves: validation loss and AUROC, training throughput. */
  public record Epoch(
      int epoch, double validationLoss, double validationAuroc, double samplesPerSecond) {}

  public TrainState {
    history = history == null ? java.util.List.of() : java.util.List.copyOf(history);
  }

  /** The state file inside a checkpoints directory. */
  public static final String FILE = "state.json";

  /** Path of the state file in checkpoints directory {@code checkpoints}. */
  public static String path(String checkpoints) {
    return checkpoints + "/" + FILE;
  }

  public static TrainState initial(long seed) {
    return new TrainState(0, -1, 0, 0, seed, false, false, java.util.List.of(), null);
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
