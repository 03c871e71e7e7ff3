package org.cohortfusion.cli;

import java.util.Optional;
import org.cohortfusion.cohort.ingest.IngestException;
import org.cohortfusion.config.ConfigException;
import org.cohortfusion.fusion.spec.FusionSpecException;
import picocli.CommandLine;

/**
 * Exit codes of every command, decided by exception type (never by message text), so that a
 * scheduler can branch on them: 0 success, 1 failure (retrying may help), 2 bad input or config
 * (fix it first), 3 only from {@code retrain} (and {@code status} of a retrain): the challenger was
 * not promoted, 4 unknown (only {@code status}: no final status recorded for the run).
 */
final class ExitCodes {
  static final int OK = 0;
  static final int FAILED = 1;
  static final int USER_ERROR = 2;
  static final int UNKNOWN = 4;

  /** retrain: the gate did not pass; the challenger is registered, the champion unchanged. */
  static final int NOT_PROMOTED = 3;

  private ExitCodes() {}

  /**
   * The user error in {@code e} or its causes, if any: Spark hands a task's exception to the driver
   * as the cause of a SparkException, so an IngestException thrown on an executor still counts as
   * bad input.
   */
  static Optional<Throwable> userError(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (isUserErrorType(t)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  static boolean isUserErrorType(Throwable t) {
    return t instanceof UserInputException
        || t instanceof ConfigException
        || t instanceof IngestException
        || t instanceof FusionSpecException
        || t instanceof CommandLine.ParameterException
        || t instanceof org.cohortfusion.retrain.RetrainException;
  }

  static int of(Throwable e) {
    return userError(e).isPresent() ? USER_ERROR : FAILED;
  }

  /** One line for the user and for status files: the user error's message, else the exception's. */
  static String oneLine(Throwable e) {
    Throwable shown = userError(e).orElse(e);
    String message =
        shown.getMessage() == null || shown.getMessage().isBlank()
            ? shown.getClass().getName()
            : shown.getMessage();
    String line = message.strip();
    int nl = line.indexOf('\n');
    return nl < 0 ? line : line.substring(0, nl).strip();
  }
}
