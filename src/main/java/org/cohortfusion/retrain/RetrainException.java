package org.cohortfusion.retrain;

/** A retrain that cannot go on with this input or config (exit code 2): fix it, do not retry. */
public final class RetrainException extends RuntimeException {
  public RetrainException(String message) {
    super(message);
  }
}
