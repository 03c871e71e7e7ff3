package org.cohortfusion.train;

/**
 * Training progress of one model, written next to its per-epoch checkpoints ({@code checkpoints/state.json}) so
 * that {@code --resume} continues where a run stopped.
 *
 * @param epoch last completed epoch (0 = none)
 * @param bestAuroc best validation AUROC so far (-1 = none)
 * @param bestEpoch epoch of the best AUROC
 * @param patienceCounter epochs since the last improvement
 * @param seed training seed (init, shuffling, modality dropout)
 * @param done whether training finished (all epochs or early stop)
 * @param stoppedEarly whether early stopping ended it
 */
public record TrainState(int epoch, double bestAuroc, int bestEpoch, int patienceCounter, long seed, boolean done,
                         boolean stoppedEarly, java.util.List<Epoch> history) {
  /** One finished epoch, for training curves: validation loss and AUROC, training throughput. */
  public record Epoch(int epoch, double validationLoss, double validationAuroc, double samplesPerSecond) {}

  public TrainState {
    history = history == null ? java.util.List.of() : java.util.List.copyOf(history);
  }

  public static TrainState initial(long seed) {
    return new TrainState(0, -1, 0, 0, seed, false, false, java.util.List.of());
  }

  /** This state's history plus one epoch. */
  public java.util.List<Epoch> with(Epoch e) {
    java.util.List<Epoch> h = new java.util.ArrayList<>(history);
    h.add(e);
    return h;
  }
}
