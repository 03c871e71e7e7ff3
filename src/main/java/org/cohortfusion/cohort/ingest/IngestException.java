package org.cohortfusion.cohort.ingest;

/**
 * Input that ingest cannot accept under the configured policies; the message names table, file and
 * column.
 */
public final class IngestException extends RuntimeException {
  public IngestException(String message) {
    super(message);
  }

  public IngestException(String message, Throwable cause) {
    super(message, cause);
  }
}
