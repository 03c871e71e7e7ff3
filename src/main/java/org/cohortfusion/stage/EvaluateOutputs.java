package org.cohortfusion.stage;

/**
 * The evaluate stage's output directory, the contract between evaluate and the stages and commands
 * that read its results (report, cross-validation, study, retrain's gate, {@code bench runs}):
 * {@code metrics.json} and the {@code predictions} table, one row per (test subject, model).
 *
 * <p>The predictions table's columns: {@link Columns#SUBJECT_ID}, {@link #MODEL}, then for a
 * classification cohort {@link #PROBABILITY} and {@link Columns#LABEL}, for a survival cohort
 * {@link #RISK}, {@link Columns#DURATION} and {@link #EVENT}; last {@link #PATTERN}.
 */
public final class EvaluateOutputs {
  /** The metrics of every model, inside the evaluate directory. */
  public static final String METRICS = "metrics.json";

  /** The predictions table (Parquet), inside the evaluate directory. */
  public static final String PREDICTIONS = "predictions";

  /** Name of the model that made the prediction. */
  public static final String MODEL = "model";

  /** The positive class's probability (binary cohorts), or every class's probability (an array). */
  public static final String PROBABILITY = "probability";

  /** Survival cohorts: the predicted risk, higher for an earlier event. */
  public static final String RISK = "risk";

  /** Survival cohorts: 1 when the event was observed, 0 when censored. */
  public static final String EVENT = "event";

  /** The subject's missingness pattern: the modalities it has, joined by "+". */
  public static final String PATTERN = "pattern";

  private EvaluateOutputs() {}

  /** metrics.json of evaluate output directory {@code dir}. */
  public static String metrics(String dir) {
    return dir + "/" + METRICS;
  }

  /** The predictions table of evaluate output directory {@code dir}. */
  public static String predictions(String dir) {
    return dir + "/" + PREDICTIONS;
  }
}
