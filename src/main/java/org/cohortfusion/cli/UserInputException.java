package org.cohortfusion.cli;

/**
 * Input the user must fix (an option value, a missing file): the CLI exits 2 with one line and no
 * stack trace. Other user-error types of the project are listed in {@link ExitCodes}.
 */
public final class UserInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UserInputException(String message) {
    super(message);
  }

  public UserInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
