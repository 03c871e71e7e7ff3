package org.cohortfusion.train;

import org.cohortfusion.config.TrainConfig;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.FixedSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.schedule.StepSchedule;

/** The updater and learning-rate schedule (per epoch) of the {@code train} section. */
public final class Updaters {
  private Updaters() {}

  public static IUpdater of(TrainConfig c) {
    return of(c, 1.0, 0);
  }

  /**
   * The updater of the encoder layers of an end-to-end model: the learning rate and its schedule
   * scaled by {@code multiplier}, and 0 for the first {@code frozenEpochs} epochs ({@link
   * FrozenThen}).
   */
  public static IUpdater of(TrainConfig c, double multiplier, int frozenEpochs) {
    double rate = c.learningRate() * multiplier;
    ISchedule lr =
        switch (c.schedule()) {
            // The schedule travels to the executors inside the broadcast network configuration
            // (Kryo): a schedule over an
            // immutable java.util.Map (MapSchedule over Map.of) cannot be rebuilt there.
          case CONSTANT -> new FixedSchedule(rate);
          case STEP ->
              new StepSchedule(ScheduleType.EPOCH, rate, c.scheduleDecay(), c.scheduleStep());
          case EXPONENTIAL -> new ExponentialSchedule(ScheduleType.EPOCH, rate, c.scheduleDecay());
        };
    if (frozenEpochs > 0) {
      lr = new FrozenThen(frozenEpochs, lr);
    }
    return switch (c.updater()) {
      case ADAM -> new Adam(lr);
      case SGD -> new Sgd(lr);
      case NESTEROVS -> new Nesterovs(lr, 0.9);
    };
  }
}
