package org.cohortfusion.evaluate;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.train.Metrics;

/**
 * Pretrain's own unimodal models — each encoder with its own head — as evaluate sees them: extract
 * writes the head's outputs per subject into the embeddings table ({@code head_<modality>}), for
 * class labels the softmax head's class probabilities, for a survival outcome the discrete-time
 * hazard head's J hazards. A subject lacking the modality gets the constant such a model would give
 * it: the class frequencies of the labeled train subjects, or the hazards of the labeled train
 * subjects without covariates ({@link #trainHazards}, the maximum of the same masked likelihood).
 *
 * <p>For each modality the comparison's unimodal baseline is the stronger, on VALIDATION (all
 * validation subjects, absent ones at the constant), of this encoder head and train's head on the
 * frozen embedding ({@link #choose}): AUROC for class labels, for a survival outcome Harrell's C at
 * the intervals' resolution, the number pretrain early-stops on and train records as the frozen
 * head's validation metric ({@link #validationC}); test never takes part in the choice.
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
    return read(table, List.of(modality), split).get(modality);
  }

  /**
   * {@link #read(Dataset, String, String)} of every modality of {@code modalities} in one pass over
   * the table, by modality.
   */
  public static Map<String, double[][]> read(
      Dataset<Row> table, List<String> modalities, String split) {
    List<Column> columns = new ArrayList<>();
    columns.add(col(Columns.SUBJECT_ID));
    for (String m : modalities) {
      columns.add(col(Columns.presence(m)));
      columns.add(col(COLUMN_PREFIX + m));
    }
    List<Row> rows =
        table
            .where(col(Columns.SPLIT).equalTo(split).and(col(Columns.LABEL).isNotNull()))
            .select(columns.toArray(Column[]::new))
            .orderBy(Columns.SUBJECT_ID)
            .collectAsList();
    Map<String, double[][]> out = new LinkedHashMap<>();
    for (int j = 0; j < modalities.size(); j++) {
      int presence = 1 + 2 * j;
      int head = presence + 1;
      double[][] values = new double[rows.size()][];
      for (int i = 0; i < values.length; i++) {
        Row r = rows.get(i);
        if (!r.isNullAt(presence) && r.getBoolean(presence) && !r.isNullAt(head)) {
          List<Float> p = r.getList(head);
          values[i] = new double[p.size()];
          for (int k = 0; k < p.size(); k++) {
            values[i][k] = p.get(k);
          }
        }
      }
      out.put(modalities.get(j), values);
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
    return checkedWidth(head, modality, numClasses, false);
  }

  /**
   * {@link #checkedWidth(double[][], String, int)} for either outcome: {@code width} class
   * probabilities, or with {@code survival} one hazard per interval (a softmax head of an encoder
   * pretrained on class labels would be read as hazards).
   */
  static double[][] checkedWidth(double[][] head, String modality, int width, boolean survival) {
    if (survival) {
      for (double[] row : head) {
        if (row != null && row.length != width) {
          throw new IllegalStateException(
              "Cannot score "
                  + NAME_PREFIX
                  + modality
                  + ": its head has "
                  + row.length
                  + " outputs, the survival outcome "
                  + width
                  + " intervals (an encoder pretrained on another outcome?); run pretrain and"
                  + " extract again");
        }
      }
      return head;
    }
    for (double[] row : head) {
      if (row != null && row.length != width) {
        throw new IllegalStateException(
            "Cannot score the encoder head of modality '"
                + modality
                + "' as class probabilities: it has "
                + row.length
                + " outputs, the cohort "
                + width
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
    return choose(
        modality,
        encoderValidationAuroc,
        frozenValidationAuroc,
        frozenTrained,
        EvaluateResult.UnimodalBaseline.AUROC);
  }

  /**
   * {@link #choose(String, Double, Double, boolean)} on {@code metric}: {@link
   * EvaluateResult.UnimodalBaseline#AUROC}, or {@link EvaluateResult.UnimodalBaseline#C} for a
   * survival outcome (higher is better for both).
   */
  public static EvaluateResult.UnimodalBaseline choose(
      String modality,
      Double encoderValidationAuroc,
      Double frozenValidationAuroc,
      boolean frozenTrained,
      String metric) {
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
        frozenTrained ? frozenValidationAuroc : null,
        metric);
  }

  /**
   * The best unimodal baseline: among the per-modality baselines chosen on validation ({@code
   * baselines}; every unimodal model when there is no choice), the one with the highest test
   * metric. Shared by class-label and survival results.
   */
  static <M> Optional<M> bestChosen(
      List<M> models,
      List<EvaluateResult.UnimodalBaseline> baselines,
      Predicate<M> unimodal,
      Function<M, String> name,
      ToDoubleFunction<M> test) {
    Set<String> chosen = new HashSet<>();
    baselines.forEach(b -> chosen.add(b.chosen()));
    return models.stream()
        .filter(unimodal)
        .filter(m -> chosen.isEmpty() || chosen.contains(name.apply(m)))
        .filter(m -> !Double.isNaN(test.applyAsDouble(m)))
        .max(Comparator.comparingDouble(test));
  }

  // ---- survival outcomes: hazard heads ----

  /**
   * The hazards of a model without covariates fitted to the labeled train subjects: per interval,
   * the events in it over the subjects at risk in it, counted with the targets and label mask of
   * the hazard heads' own likelihood ({@link DiscreteTimeHazard#targets}), so this is its maximum.
   * What a hazard head answers for a subject without the modality, as the class frequencies are for
   * a softmax head. An interval nobody was at risk in gets hazard 0.
   */
  public static double[] trainHazards(Dataset<Row> table, DiscreteTimeHazard model) {
    int j = model.intervals();
    double[] events = new double[j];
    double[] atRisk = new double[j];
    long subjects = 0;
    for (Row r :
        labeledWithCodes(table, Columns.Splits.TRAIN, model)
            .groupBy(col(CODE))
            .count()
            .collectAsList()) {
      if (r.isNullAt(0)) {
        continue; // no duration: not part of the likelihood
      }
      float[] y = new float[j];
      float[] mask = new float[j];
      DiscreteTimeHazard.targets(r.getInt(0), 0, j, y, mask);
      long n = r.getLong(1);
      subjects += n;
      for (int k = 0; k < j; k++) {
        events[k] += n * y[k];
        atRisk[k] += n * mask[k];
      }
    }
    if (subjects == 0) {
      throw new IllegalStateException(
          "Cannot score the encoders' hazard heads: the train split has no labeled subject with a"
              + " duration");
    }
    double[] h = new double[j];
    for (int k = 0; k < j; k++) {
      h[k] = atRisk[k] == 0 ? 0 : events[k] / atRisk[k];
    }
    return h;
  }

  /**
   * The interval codes ({@link DiscreteTimeHazard#code}) of the labeled subjects of {@code split},
   * in {@link #read} order (by subject_id).
   */
  public static int[] codes(Dataset<Row> table, String split, DiscreteTimeHazard model) {
    List<Row> rows =
        labeledWithCodes(table, split, model)
            .select(col(Columns.SUBJECT_ID), col(CODE))
            .orderBy(Columns.SUBJECT_ID)
            .collectAsList();
    int[] out = new int[rows.size()];
    for (int i = 0; i < out.length; i++) {
      if (rows.get(i).isNullAt(1)) {
        throw new IllegalStateException(
            "Cannot score the encoders' hazard heads: a labeled "
                + split
                + " subject has no duration in the embeddings table");
      }
      out[i] = rows.get(i).getInt(1);
    }
    return out;
  }

  private static final String CODE = "_code";

  private static Dataset<Row> labeledWithCodes(
      Dataset<Row> table, String split, DiscreteTimeHazard model) {
    return table
        .where(col(Columns.SPLIT).equalTo(split).and(col(Columns.LABEL).isNotNull()))
        .withColumn(CODE, model.codeColumn());
  }

  /**
   * By modality of {@code modalities}, the hazard head's validation C on every labeled validation
   * subject, {@code fill} (the train hazards) standing in where the modality is absent: Harrell's C
   * at the intervals' resolution of the risks {@link
   * org.cohortfusion.cohort.survival.IntervalConcordance#risk}, through {@link
   * Metrics#survival(double[][], int[])} — the code path of train's validation metrics, whose
   * "auroc" holds that C, and of pretrain's early stopping. Null without validation subjects or a
   * comparable pair. The heads are read in one pass, not one per modality, as the table may be
   * recomputed on each read.
   */
  public static Map<String, Double> validationC(
      Dataset<Row> table,
      List<String> modalities,
      int[] validationCodes,
      double[] fill,
      DiscreteTimeHazard model) {
    Map<String, Double> out = new LinkedHashMap<>();
    if (validationCodes.length == 0) {
      modalities.forEach(m -> out.put(m, null));
      return out;
    }
    Map<String, double[][]> heads = read(table, modalities, Columns.Splits.VALIDATION);
    for (String m : modalities) {
      double[][] v = filled(checkedWidth(heads.get(m), m, model.intervals(), true), fill);
      double c = Metrics.survival(v, validationCodes).auroc();
      out.put(m, Double.isNaN(c) ? null : c);
    }
    return out;
  }

  /**
   * Refuses to score the hazard head of an encoder pretrained on another outcome than the
   * embeddings' survival intervals ({@link EncoderArtifact#outcomeMismatch}, the check extract
   * makes): a wrong config. An encoder of an older version that did not record its outcome (its
   * head is a softmax on the event indicator) is an old artifact, not a wrong config: its head is
   * left out and the reason returned, so the other models are still evaluated. {@code provenance}
   * is the encoder's at {@code dir}; null when extract did not record where the encoder was or it
   * is gone, and then only {@link #checkedWidth} guards.
   *
   * @return why the head is skipped, or null when it can be scored
   */
  static String checkOutcome(
      String modality, String dir, ModelArtifact.Provenance provenance, List<Double> intervals) {
    if (provenance == null) {
      return null;
    }
    if (!EncoderArtifact.recordsOutcome(provenance)) {
      return "Skipping "
          + NAME_PREFIX
          + modality
          + ": the encoder at "
          + dir
          + " does not record its outcome (older version): its head is a softmax on the event"
          + " indicator, not a hazard head over the intervals "
          + intervals
          + "; run pretrain and extract again to score it";
    }
    String mismatch = EncoderArtifact.outcomeMismatch(provenance, intervals);
    if (mismatch != null) {
      throw new IllegalStateException(
          "Cannot score "
              + NAME_PREFIX
              + modality
              + ": the encoder at "
              + dir
              + " "
              + mismatch
              + "; run pretrain and extract again");
    }
    return null;
  }
}
