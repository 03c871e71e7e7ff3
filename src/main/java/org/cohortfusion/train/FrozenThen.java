package org.cohortfusion.train;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * A learning-rate schedule that is 0 for the first {@code epochs} epochs (the layers it drives are
 * frozen: with Adam, SGD or Nesterov momentum a zero learning rate leaves the parameters
 * unchanged), then follows {@code then}. It travels inside the network configuration (JSON in the
 * model file, Kryo to Spark executors): plain fields only.
 */
public final class FrozenThen implements ISchedule {
  private static final long serialVersionUID = 1L;
  private final int epochs;
  private final ISchedule then;

  public FrozenThen(@JsonProperty("epochs") int epochs, @JsonProperty("then") ISchedule then) {
    this.epochs = epochs;
    this.then = then;
  }

  public int getEpochs() {
    return epochs;
  }

  public ISchedule getThen() {
    return then;
  }

  @Override
  public double valueAt(int iteration, int epoch) {
    return epoch < epochs ? 0.0 : then.valueAt(iteration, epoch);
  }

  @Override
  public ISchedule clone() {
    return new FrozenThen(epochs, then.clone());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FrozenThen f && f.epochs == epochs && f.then.equals(then);
  }

  @Override
  public int hashCode() {
    return epochs * 31 + then.hashCode();
  }

  @Override
  public String toString() {
    return "FrozenThen(epochs=" + epochs + ", then=" + then + ")";
  }
}
