package org.cohortfusion.stage;

/**
 * The columns the stages pass to each other: ingest writes them into the aligned cohort, extract
 * carries them into the embeddings table, and every later stage selects them by these names. A
 * modality's own column is named after the modality; its presence mask is {@link #presence}.
 */
public final class Columns {
  /** The subject's identifier, unique per table. Never logged. */
  public static final String SUBJECT_ID = "subject_id";

  /** Class index into the manifest's classes, or the event indicator of a survival outcome. */
  public static final String LABEL = "label";

  /** Survival outcomes only: time from the index time to the event or to censoring. */
  public static final String DURATION = "duration";

  /** The subject's time origin (point-in-time alignment). */
  public static final String INDEX_TIME = "index_time";

  /** {@link Splits#TRAIN}, {@link Splits#VALIDATION} or {@link Splits#TEST}. */
  public static final String SPLIT = "split";

  /** Cross-validation fold, 0..k-1 (null without folds). */
  public static final String FOLD = "fold";

  /** Group the splits keep together (e.g. site or family), when the subjects table has one. */
  public static final String GROUP = "group";

  private static final String PRESENCE_PREFIX = "has_";

  private Columns() {}

  /** The boolean column that says whether a subject has modality {@code modality}. */
  public static String presence(String modality) {
    return PRESENCE_PREFIX + modality;
  }

  /** The values of {@link #SPLIT}. */
  public static final class Splits {
    public static final String TRAIN = "train";
    public static final String VALIDATION = "validation";
    public static final String TEST = "test";

    private Splits() {}
  }
}
