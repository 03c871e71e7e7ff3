package org.cohortfusion.fit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.cohortfusion.io.Json;
import org.cohortfusion.stage.TrainState;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Early stopping with checkpoints, for every network the project trains: each epoch is fitted
 * ({@link EpochFitter}), scored on the validation split, checkpointed in {@code
 * <checkpoints>/epoch-N} (the last two are kept) and, when it beats the best so far ({@link
 * EpochScore#improves}), in {@code <checkpoints>/best}; {@code patience} epochs in a row without
 * improvement stop the run. The state after every epoch is written to {@code
 * <checkpoints>/state.json} ({@link TrainState}), so a run continues from it where it stopped.
 *
 * <p>DL4J's own early stopping ({@code EarlyStoppingGraphTrainer}, {@code
 * SparkEarlyStoppingGraphTrainer}) fits from a {@code DataSetIterator} or an RDD of examples, not
 * from minibatch shards by path, keeps no state to resume from, and saves only the best model; this
 * loop is what is left when those three are needed.
 *
 * <p>Every epoch starts from ND4J's random generator seeded with {@code seed + epoch}, so an epoch
 * draws the same whether the run started at epoch 1 or resumed before it.
 *
 * @param <M> the network type
 */
public final class EarlyStopping<M> {
  /** Writes a checkpoint of a network with its provenance, and reads one back. */
  public interface Checkpoints<M> {
    /** Writes {@code model} to {@code dir}, its provenance carrying {@code metrics}. */
    void save(String dir, M model, Map<String, Double> metrics);

    /** Reads the network written to {@code dir}. */
    M load(String dir);
  }

  /**
   * How long to train.
   *
   * @param epochs the last epoch
   * @param patience epochs in a row without improvement that stop the run
   * @param seed the seed ND4J's generator starts every epoch from ({@code seed + epoch})
   * @param epochsThisRun epochs after which this run stops unfinished (0: none), to leave a run to
   *     be resumed
   */
  public record Schedule(int epochs, int patience, long seed, int epochsThisRun) {
    public Schedule {
      if (epochs < 1 || patience < 1 || epochsThisRun < 0) {
        throw new IllegalArgumentException(
            "Cannot train: epochs and patience must be at least 1 and epochsThisRun at least 0, got "
                + epochs
                + ", "
                + patience
                + " and "
                + epochsThisRun);
      }
    }
  }

  /**
   * One finished epoch, for the caller's progress line.
   *
   * @param samplesPerSecond training examples over the epoch's fitting time
   * @param secondsLeft the run's mean time per epoch times the epochs left to the last one
   */
  public record Epoch(
      int epoch,
      int epochs,
      EpochScore score,
      boolean improved,
      boolean stopped,
      int patience,
      double samplesPerSecond,
      double secondsLeft) {}

  private final Configuration conf;
  private final String dir;
  private final Checkpoints<M> checkpoints;
  private final Schedule schedule;

  public EarlyStopping(
      Configuration conf, String dir, Checkpoints<M> checkpoints, Schedule schedule) {
    this.conf = Objects.requireNonNull(conf, "conf");
    this.dir = Objects.requireNonNull(dir, "dir");
    this.checkpoints = Objects.requireNonNull(checkpoints, "checkpoints");
    this.schedule = Objects.requireNonNull(schedule, "schedule");
  }

  /** The checkpoint of epoch {@code epoch}. */
  public String epochDir(int epoch) {
    return dir + "/epoch-" + epoch;
  }

  /** The best epoch's checkpoint. */
  public String bestDir() {
    return dir + "/best";
  }

  /** The state a previous run left, or null when none did. */
  public TrainState previous() {
    String path = TrainState.path(dir);
    return exists(path) ? Json.read(conf, path, TrainState.class) : null;
  }

  /** A first run's state: earlier checkpoints are deleted (not the published model). */
  public TrainState fresh() {
    delete(dir);
    return TrainState.initial(schedule.seed());
  }

  /** The best epoch's network. */
  public M best() {
    return checkpoints.load(bestDir());
  }

  /**
   * Trains {@code model} from {@code state} (a {@link #fresh} one, or a {@link #previous} one with
   * {@code model} restored from its last epoch's checkpoint) until the last epoch, an early stop,
   * or {@link Schedule#epochsThisRun}; returns the state then, {@link TrainState#done} unless this
   * run was cut short.
   */
  public TrainState run(
      M model,
      TrainState state,
      EpochFitter<M> fitter,
      java.util.function.Function<M, EpochScore> validation,
      Consumer<Epoch> progress) {
    if (state.epoch() > 0 && state.bestScore() == null) {
      throw new IllegalStateException(
          "Cannot resume from "
              + TrainState.path(dir)
              + ": it records no best score (written by an older version); train again without"
              + " resuming");
    }
    int ran = 0;
    long start = System.nanoTime();
    for (int epoch = state.epoch() + 1; epoch <= schedule.epochs() && !state.done(); epoch++) {
      if (schedule.epochsThisRun() > 0 && ran >= schedule.epochsThisRun()) {
        break;
      }
      long t0 = System.nanoTime();
      Nd4j.getRandom().setSeed(schedule.seed() + epoch);
      model = fitter.fitEpoch(model, epoch);
      double samplesPerSecond = fitter.examples() / ((System.nanoTime() - t0) / 1e9);
      ran++;
      EpochScore score = validation.apply(model);
      boolean improved = score.improves(state.bestScore());
      int patience = improved ? 0 : state.patienceCounter() + 1;
      boolean stop = patience >= schedule.patience();
      Map<String, Double> metrics = new java.util.LinkedHashMap<>(score.metrics());
      metrics.put("epoch", (double) epoch);
      checkpoints.save(epochDir(epoch), model, metrics);
      if (improved) {
        checkpoints.save(bestDir(), model, metrics);
      }
      state =
          state.after(
              new TrainState.Epoch(epoch, score.loss(), score.rank(), samplesPerSecond),
              improved ? score.key() : null,
              patience,
              stop || epoch == schedule.epochs(),
              stop);
      Json.write(conf, TrainState.path(dir), state);
      delete(epochDir(epoch - 2));
      double perEpoch = (System.nanoTime() - start) / 1e9 / ran;
      progress.accept(
          new Epoch(
              epoch,
              schedule.epochs(),
              score,
              improved,
              stop,
              schedule.patience(),
              samplesPerSecond,
              perEpoch * (schedule.epochs() - epoch)));
    }
    return state;
  }

  private boolean exists(String path) {
    try {
      Path p = new Path(path);
      return p.getFileSystem(conf).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + path, e);
    }
  }

  private void delete(String path) {
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      if (fs.exists(p)) {
        fs.delete(p, true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + path, e);
    }
  }
}
