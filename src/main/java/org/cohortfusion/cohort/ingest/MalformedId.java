package org.cohortfusion.cohort.ingest;

import org.apache.spark.sql.Column;
import org.cohortfusion.spark.internal.Utf8Ids;

/**
 * The malformed-id rule: a subject_id is malformed when it is empty or only spaces, longer than
 * {@value #MAX_CHARACTERS} characters, holds a control character (U+0000 to U+001F, U+007F) or
 * U+FFFD, or is not valid UTF-8 (Spark does not check the bytes of a Parquet string, and an invalid
 * sequence decodes later to U+FFFD, so two distinct ids could become one). Every row of every table
 * is checked, so the rule runs as one compiled pass over the id's bytes ({@link Utf8Ids}).
 */
public final class MalformedId {
  static final int MAX_CHARACTERS = Utf8Ids.MAX_CHARACTERS;

  private MalformedId() {}

  /** The rule as a column over {@code id} (null for a null id). */
  static Column of(Column id) {
    return Utf8Ids.malformed(id);
  }

  /**
   * Whether {@code id} starts or ends with whitespace (a Unicode space separator or U+FEFF), as a
   * column (null for a null id).
   */
  static Column edgeSpace(Column id) {
    return Utf8Ids.edgeSpace(id);
  }

  /** The characters {@link #edgeSpace} looks for, as a Java regular expression class. */
  static final String SPACE_CLASS = "[\\p{Z}\\x{FEFF}]";
}
