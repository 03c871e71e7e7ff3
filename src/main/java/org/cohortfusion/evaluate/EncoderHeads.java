package org.cohortfusion.evaluate;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.stage.Columns;

/**
 * Pretrain's own unimodal models — each encoder with its softmax head — as evaluate sees them for
 * class labels (a survival outcome's encoders carry hazard heads, which survival evaluation does
 * not score as unimodal models; {@link #checkedWidth} refuses to read them as probabilities):
 * extract writes the head's class probabilities per subject into the embeddings table ({@code
 * head_<modality>}), and a subject lacking the modality gets the constant such a model would give
 * it, the class frequencies of the labeled train subjects.
 *
 * <p>For each modality the comparison's unimodal baseline is the stronger, on VALIDATION AUROC (all
 * validation subjects, absent ones at the constant), of this encoder head and train's head on the
 * frozen embedding ({@link #choose}); test never takes part in the choice.
 */
public final class EncoderHeads {
  /** Prefix of the head columns in the embeddings table (written by extract). */
  public static final String COLUMN_PREFIX =
      org.cohortfusion.features.extract.ExtractAction.HEAD_PREFIX;

  /** Name of the encoder-head model of a modality in evaluate's results. */
  public static final String NAME_PREFIX = "encoder:";

  /** Name prefix of train's unimodal model (a head on the frozen embedding). */
  public static final String FROZEN_PREFIX = "unimodal:";

  private EncoderHeads() {}

  /** Whether the embeddings table carries the encoder-head column of every modality. */
  public static boolean available(Dataset<Row> table, List<String> modalities) {
    List<String> columns = Arrays.asList(table.columns());
    return !modalities.isEmpty()
        && modalities.stream().allMatch(m -> columns.contains(COLUMN_PREFIX + m));
  }

  /**
   * Class frequencies of the labeled train subjects: what a unimodal model answers for a subject
   * without the modality.
   */
  public static double[] trainPrior(Dataset<Row> table, int numClasses) {
    double[] counts = new double[numClasses];
    for (Row r :
        table
            .where(
                col(Columns.SPLIT)
                    .equalTo(Columns.Splits.TRAIN)
                    .and(col(Columns.LABEL).isNotNull()))
            .groupBy(col(Columns.LABEL))
            .count()
            .collectAsList()) {
      int y = r.getInt(0);
      if (y >= 0 && y < numClasses) {
        counts[y] = r.getLong(1);
      }
    }
    double n = Arrays.stream(counts).sum();
    if (n == 0) {
      throw new IllegalStateException(
          "Cannot score the encoder heads: the train split has no labeled subject");
    }
    for (int k = 0; k < numClasses; k++) {
      counts[k] /= n;
    }
    return counts;
  }

  /**
   * The head's class probabilities of the labeled subjects of {@code split}, in {@link TestSplit}
   * order (by subject_id); null rows where the subject lacks the modality.
   */
  public static double[][] read(Dataset<Row> table, String modality, String split) {
    List<Row> rows =
        table
            .where(col(Columns.SPLIT).equalTo(split).and(col(Columns.LABEL).isNotNull()))
            .select(
                col(Columns.SUBJECT_ID),
                col(Columns.presence(modality)),
                col(COLUMN_PREFIX + modality))
            .orderBy(Columns.SUBJECT_ID)
            .collectAsList();
    double[][] out = new double[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      Row r = rows.get(i);
      if (!r.isNullAt(1) && r.getBoolean(1) && !r.isNullAt(2)) {
        List<Float> p = r.getList(2);
        out[i] = new double[p.size()];
        for (int k = 0; k < p.size(); k++) {
          out[i][k] = p.get(k);
        }
      }
    }
    return out;
  }

  /**
   * Labels of the labeled subjects of {@code split}, in {@link TestSplit} order (by subject_id).
   */
  public static int[] labels(Dataset<Row> table, String split) {
    return table
        .where(col(Columns.SPLIT).equalTo(split).and(col(Columns.LABEL).isNotNull()))
        .select(Columns.SUBJECT_ID, Columns.LABEL)
        .orderBy(Columns.SUBJECT_ID)
        .collectAsList()
        .stream()
        .mapToInt(r -> r.getInt(1))
        .toArray();
  }

  /**
   * The encoder head's AUROC on every labeled validation subject, the prior standing in where the
   * modality is absent; null without validation subjects or when undefined (one class only).
   */
  public static Double validationAuroc(
      Dataset<Row> table, String modality, int[] validationLabels, double[] prior, int numClasses) {
    if (validationLabels.length == 0) {
      return null;
    }
    double[][] v =
        filled(
            checkedWidth(read(table, modality, Columns.Splits.VALIDATION), modality, numClasses),
            prior);
    double a = ClassificationMetrics.of(v, validationLabels, numClasses).auroc();
    return Double.isNaN(a) ? null : a;
  }

  /**
   * Refuses head rows that are not {@code numClasses} class probabilities: a survival encoder's
   * head holds one hazard per interval, and read as class probabilities it would score nonsense
   * without an error.
   */
  static double[][] checkedWidth(double[][] head, String modality, int numClasses) {
    for (double[] row : head) {
      if (row != null && row.length != numClasses) {
        throw new IllegalStateException(
            "Cannot score the encoder head of modality '"
                + modality
                + "' as class probabilities: it has "
                + row.length
                + " outputs, the cohort "
                + numClasses
                + " classes (a hazard head of a survival outcome?); extract again with the"
                + " encoders of this outcome");
      }
    }
    return head;
  }

  /** The head probabilities with the prior where the modality is absent. */
  public static double[][] filled(double[][] head, double[] prior) {
    double[][] out = new double[head.length][];
    for (int i = 0; i < head.length; i++) {
      out[i] = head[i] != null ? head[i] : prior.clone();
    }
    return out;
  }

  /**
   * The encoder-head model as a {@link Scorer}: row by row in TestSplit order, the head's
   * probabilities where the scenario's presence still has the modality, the prior where it does not
   * (absent, or removed by the scenario).
   */
  static Scorer scorer(double[][] head, int modalityIndex, double[] prior, int numModalities) {
    return (scenarios, presence) -> {
      List<double[][]> out = new ArrayList<>();
      for (float[] p : presence) {
        double[][] rows = new double[head.length][];
        for (int row = 0; row < head.length; row++) {
          boolean has = p[row * numModalities + modalityIndex] != 0f && head[row] != null;
          rows[row] = has ? head[row] : prior.clone();
        }
        out.add(rows);
      }
      return out;
    };
  }

  /**
   * The unimodal baseline of one modality: the candidate with the higher validation AUROC (the
   * encoder head wins only if strictly higher; a candidate without a validation AUROC loses to one
   * with).
   */
  public static EvaluateResult.UnimodalBaseline choose(
      String modality,
      Double encoderValidationAuroc,
      Double frozenValidationAuroc,
      boolean frozenTrained) {
    String encoder = NAME_PREFIX + modality;
    String frozen = FROZEN_PREFIX + modality;
    boolean encoderValid = encoderValidationAuroc != null && !encoderValidationAuroc.isNaN();
    boolean frozenValid =
        frozenTrained && frozenValidationAuroc != null && !frozenValidationAuroc.isNaN();
    String chosen;
    if (!frozenTrained) {
      chosen = encoder;
    } else if (encoderValid && (!frozenValid || encoderValidationAuroc > frozenValidationAuroc)) {
      chosen = encoder;
    } else {
      chosen = frozen;
    }
    return new EvaluateResult.UnimodalBaseline(
        modality,
        chosen,
        encoder,
        encoderValidationAuroc,
        frozenTrained ? frozen : null,
        frozenTrained ? frozenValidationAuroc : null);
  }
}
