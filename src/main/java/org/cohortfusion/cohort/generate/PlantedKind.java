package org.cohortfusion.cohort.generate;

/**
 * Kinds of deliberately bad rows the generator can plant. The names are the reject reason codes of
 * data-schemas/rejects.json, so a validator's reject counts can be compared with the planted counts
 * one to one. Every planted row has exactly one defect, so it maps to exactly one reason.
 */
public enum PlantedKind {
  /** Extra row whose subject_id is null. */
  NULL_ID,
  /** Extra row whose subject_id is the empty string. */
  MALFORMED_ID,
  /** Extra exact copy of a valid row (same key); the validator keeps one and rejects one. */
  DUPLICATE,
  /** Extra row for a subject id ("U...") that is not in the subjects table. */
  UNKNOWN_SUBJECT,
  /** A NaN or infinite numeric value (replaces the subject's row; in labs an extra visit). */
  NON_FINITE,
  /** An array with one element too few (replaces the subject's omics or imaging row). */
  WRONG_LENGTH,
  /** A per-row image shape different from the declared one (replaces the imaging row). */
  BAD_SHAPE,
  /** A required column is null: text in notes (replaces the row), time in labs (extra visit). */
  NULL_VALUE,
  /** A label outside {0, 1} (7); the subject has no modality rows so nothing else cascades. */
  BAD_LABEL,
  /** A valid subject that has no row in any modality table. */
  NO_MODALITY
}
