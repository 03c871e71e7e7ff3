package org.cohortfusion.train.classical;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.HashingTF;
import org.apache.spark.ml.feature.IDF;
import org.apache.spark.ml.feature.Imputer;
import org.apache.spark.ml.feature.OneHotEncoder;
import org.apache.spark.ml.feature.PCA;
import org.apache.spark.ml.feature.RegexTokenizer;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.ModalitySpec;

/**
 * The flat feature table of the classical baselines, from the aligned cohort
 * (data-schemas/aligned.json), and the Spark ML stages that turn it into one {@code features}
 * vector. Two parts:
 *
 * <ol>
 *   <li>{@link #prepare}: a row-wise projection with nothing fitted, so it is the same for every
 *       split: presence indicators, tabular columns, vector and image elements, per-channel
 *       time-series summaries, text. A modality a subject lacks (or that was removed at test time:
 *       presence false) gives null features.
 *   <li>{@link #stages}: Spark ML estimators, to be fitted on the train split only: {@code Imputer}
 *       (train mean for every null numeric feature), {@code StandardScaler} (train mean and
 *       standard deviation, so an imputed value is 0 after scaling), {@code StringIndexer} + {@code
 *       OneHotEncoder} for categorical columns (absent or unseen values in their own bucket,
 *       dropped: all zeros), per image modality a {@code StandardScaler} + {@code PCA} to {@code
 *       imageComponents} components (Jolliffe, <i>Principal Component Analysis</i>, 2002: a linear
 *       reduction fitted on the train pixels), per text modality {@code RegexTokenizer} + {@code
 *       HashingTF} + {@code IDF} (hashed TF-IDF: Salton and Buckley 1988, with the hashing trick of
 *       Weinberger et al. 2009; absent text is an empty document), and the presence indicators, all
 *       joined by a {@code VectorAssembler}.
 * </ol>
 *
 * <p>Time-series summaries per channel, over the observations the aligned tensor holds (ingest
 * already cut it at the index time; {@code observed} marks measured cells): count, mean, last
 * observed value, and the ordinary least-squares slope of value against time (time = minus {@code
 * delta_time}, in the cohort's time unit; 0 with fewer than two observations or a single time).
 * Mean and last are null for a channel never observed, and imputed.
 */
public final class ClassicalFeatures {
  /** The assembled feature vector column. */
  public static final String FEATURES = "features";

  /** Columns every prepared table keeps besides its features. */
  public static final List<String> KEYS = List.of(Columns.SUBJECT_ID, Columns.LABEL, Columns.SPLIT);

  /** The aligned cohort's follow-up column of a survival outcome, kept when present. */
  public static final String DURATION = Columns.DURATION;

  private ClassicalFeatures() {}

  /** The feature columns {@link #prepare} adds, by role, for a list of modalities. */
  public record Layout(
      List<String> numeric,
      List<String> numericNames,
      List<List<String>> images,
      List<String> imageNames,
      List<String> categorical,
      List<String> texts,
      List<String> presence) {}

  /** Presence indicator column of a modality in the prepared table. */
  static String presenceColumn(int modality) {
    return "cf_" + modality + "_present";
  }

  /**
   * Column of feature {@code j} of modality {@code modality} (positional: source names may hold any
   * character).
   */
  static String feature(int modality, String role, int j) {
    return "cf_" + modality + "_" + role + j;
  }

  public static Layout layout(List<ModalitySpec> modalities) {
    List<String> numeric = new ArrayList<>();
    List<String> numericNames = new ArrayList<>();
    List<List<String>> images = new ArrayList<>();
    List<String> imageNames = new ArrayList<>();
    List<String> categorical = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    List<String> presence = new ArrayList<>();
    for (int i = 0; i < modalities.size(); i++) {
      ModalitySpec m = modalities.get(i);
      presence.add(presenceColumn(i));
      switch (m.kind()) {
        case TABULAR -> {
          for (int j = 0; j < m.numericFeatures().size(); j++) {
            numeric.add(feature(i, "n", j));
            numericNames.add(m.name() + "." + m.numericFeatures().get(j));
          }
          for (int j = 0; j < m.categoricalFeatures().size(); j++) {
            categorical.add(feature(i, "c", j));
          }
        }
        case VECTOR -> {
          for (int j = 0; j < m.length(); j++) {
            numeric.add(feature(i, "v", j));
            numericNames.add(m.name() + "[" + j + "]");
          }
        }
        case IMAGE -> {
          List<String> pixels = new ArrayList<>();
          for (int j = 0; j < m.length(); j++) {
            pixels.add(feature(i, "p", j));
          }
          images.add(pixels);
          imageNames.add(m.name());
        }
        case TIMESERIES -> {
          for (int c = 0; c < m.channels().size(); c++) {
            for (String s : SUMMARIES) {
              numeric.add(feature(i, s, c));
              numericNames.add(m.name() + "." + m.channels().get(c) + "." + s);
            }
          }
        }
        case TEXT -> texts.add(feature(i, "t", 0));
        default ->
            throw new IllegalArgumentException(
                "Cannot build classical features of modality '"
                    + m.name()
                    + "': kind "
                    + m.kind()
                    + " is not supported");
      }
    }
    return new Layout(numeric, numericNames, images, imageNames, categorical, texts, presence);
  }

  /**
   * The readable name of a scalar feature column of {@link #prepare} ({@code modality.feature}),
   * else the column.
   */
  public static String describe(List<ModalitySpec> modalities, String column) {
    Layout l = layout(modalities);
    int i = l.numeric().indexOf(column);
    if (i >= 0) {
      return l.numericNames().get(i);
    }
    for (int k = 0; k < l.images().size(); k++) {
      int j = l.images().get(k).indexOf(column);
      if (j >= 0) {
        return l.imageNames().get(k) + "[" + j + "]";
      }
    }
    return column;
  }

  private static final List<String> SUMMARIES = List.of("count", "mean", "last", "slope");

  /**
   * The aligned rows as {@link #KEYS} plus flat feature columns (see the class comment). Row-wise,
   * nothing fitted: the same function serves train, validation, test and test-time removal (a
   * modality whose {@code has_<m>} is false contributes only nulls and presence 0).
   */
  public static Dataset<Row> prepare(Dataset<Row> aligned, List<ModalitySpec> modalities) {
    List<Column> out = new ArrayList<>();
    for (String k : KEYS) {
      out.add(col(k));
    }
    // A survival outcome's follow-up rides along for the person-period rows (PersonPeriod).
    if (List.of(aligned.columns()).contains(DURATION)) {
      out.add(col(DURATION));
    }
    for (int i = 0; i < modalities.size(); i++) {
      ModalitySpec m = modalities.get(i);
      Column present = coalesce(col(m.presenceColumn()), lit(false)).and(col(m.name()).isNotNull());
      Column value = when(present, col(m.name()));
      out.add(present.cast("double").as(presenceColumn(i)));
      switch (m.kind()) {
        case TABULAR -> {
          for (int j = 0; j < m.numericFeatures().size(); j++) {
            out.add(
                value.getField(m.numericFeatures().get(j)).cast("double").as(feature(i, "n", j)));
          }
          for (int j = 0; j < m.categoricalFeatures().size(); j++) {
            out.add(
                value
                    .getField(m.categoricalFeatures().get(j))
                    .cast("string")
                    .as(feature(i, "c", j)));
          }
        }
        case VECTOR -> {
          for (int j = 0; j < m.length(); j++) {
            out.add(value.getItem(j).cast("double").as(feature(i, "v", j)));
          }
        }
        case IMAGE -> {
          for (int j = 0; j < m.length(); j++) {
            out.add(value.getItem(j).cast("double").as(feature(i, "p", j)));
          }
        }
        case TIMESERIES -> {
          for (int c = 0; c < m.channels().size(); c++) {
            Summary s = summary(m, c, present);
            out.add(s.count().as(feature(i, "count", c)));
            out.add(s.mean().as(feature(i, "mean", c)));
            out.add(s.last().as(feature(i, "last", c)));
            out.add(s.slope().as(feature(i, "slope", c)));
          }
        }
        case TEXT -> out.add(coalesce(value.cast("string"), lit("")).as(feature(i, "t", 0)));
        default ->
            throw new IllegalArgumentException(
                "Cannot build classical features of modality '"
                    + m.name()
                    + "': kind "
                    + m.kind()
                    + " is not supported");
      }
    }
    return aligned.select(out.toArray(new Column[0]));
  }

  private record Summary(Column count, Column mean, Column last, Column slope) {}

  /**
   * Summaries of channel {@code c}: Spark SQL higher-order functions over the steps of the {@code
   * [channels x T]} tensor (channel-major), so nothing is hand-computed on the driver. Null when
   * the modality is absent.
   */
  private static Summary summary(ModalitySpec m, int c, Column present) {
    int t = m.steps();
    String ts = "`" + m.name().replace("`", "``") + "`";
    String o = ts + ".observed[" + (c * t) + " + cf_t]";
    String y = "CAST(" + ts + ".values[" + (c * t) + " + cf_t] AS DOUBLE)";
    String x = "(-CAST(" + ts + ".delta_time[cf_t] AS DOUBLE))";
    String steps = "sequence(0, " + (t - 1) + ")";
    Column n = sum(steps, "CAST(" + o + " AS DOUBLE)");
    Column sy = sum(steps, o + " * " + y);
    Column sx = sum(steps, o + " * " + x);
    Column sxx = sum(steps, o + " * " + x + " * " + x);
    Column sxy = sum(steps, o + " * " + x + " * " + y);
    Column last =
        expr(
            String.format(
                Locale.ROOT,
                "aggregate(%s, CAST(NULL AS DOUBLE), (cf_acc, cf_t) -> IF(%s > 0, %s, cf_acc))",
                steps,
                o,
                y));
    Column denominator = n.multiply(sxx).minus(sx.multiply(sx));
    Column slope =
        when(
                n.geq(2).and(denominator.gt(0)),
                n.multiply(sxy).minus(sx.multiply(sy)).divide(denominator))
            .otherwise(lit(0.0));
    return new Summary(
        when(present, n),
        when(present.and(n.gt(0)), sy.divide(n)),
        when(present, last),
        when(present, slope));
  }

  private static Column sum(String steps, String term) {
    return expr(
        String.format(
            Locale.ROOT, "aggregate(%s, 0D, (cf_acc, cf_t) -> cf_acc + %s)", steps, term));
  }

  /**
   * The Spark ML stages from the prepared table to {@link #FEATURES}, in two phases; every
   * estimator among them must be fitted on the train split only. {@code expand} imputes the scalar
   * features and assembles them into a few vectors; {@code finish} works on {@code narrow} columns
   * only (those vectors, categorical and text columns, presence), so the caller can materialise the
   * train rows between the two: the many scalar columns make every query plan over them expensive
   * to compile, and each estimator of a pipeline fits on its own query.
   */
  public record Stages(
      List<PipelineStage> expand, List<PipelineStage> finish, List<String> narrow) {}

  public static Stages stages(
      List<ModalitySpec> modalities, int imageComponents, int textFeatures) {
    Layout l = layout(modalities);
    List<PipelineStage> expand = new ArrayList<>();
    List<PipelineStage> stages = new ArrayList<>();
    List<String> narrow = new ArrayList<>(KEYS);
    List<String> assembled = new ArrayList<>();
    List<String> imputeIn = new ArrayList<>(l.numeric());
    l.images().forEach(imputeIn::addAll);
    if (!imputeIn.isEmpty()) {
      expand.add(
          new Imputer()
              .setStrategy("mean")
              .setInputCols(imputeIn.toArray(new String[0]))
              .setOutputCols(imputeIn.stream().map(c -> c + "_i").toArray(String[]::new)));
    }
    if (!l.numeric().isEmpty()) {
      expand.add(
          new VectorAssembler()
              .setInputCols(l.numeric().stream().map(c -> c + "_i").toArray(String[]::new))
              .setOutputCol("cf_numeric_raw"));
      narrow.add("cf_numeric_raw");
      stages.add(
          new StandardScaler()
              .setWithMean(true)
              .setWithStd(true)
              .setInputCol("cf_numeric_raw")
              .setOutputCol("cf_numeric"));
      assembled.add("cf_numeric");
    }
    for (int k = 0; k < l.images().size(); k++) {
      List<String> pixels = l.images().get(k);
      String base = "cf_image" + k;
      expand.add(
          new VectorAssembler()
              .setInputCols(pixels.stream().map(c -> c + "_i").toArray(String[]::new))
              .setOutputCol(base + "_raw"));
      narrow.add(base + "_raw");
      stages.add(
          new StandardScaler()
              .setWithMean(true)
              .setWithStd(true)
              .setInputCol(base + "_raw")
              .setOutputCol(base + "_std"));
      stages.add(
          new PCA()
              .setK(Math.min(imageComponents, pixels.size()))
              .setInputCol(base + "_std")
              .setOutputCol(base + "_pca"));
      assembled.add(base + "_pca");
    }
    if (!l.categorical().isEmpty()) {
      String[] in = l.categorical().toArray(new String[0]);
      String[] idx = l.categorical().stream().map(c -> c + "_idx").toArray(String[]::new);
      String[] hot = l.categorical().stream().map(c -> c + "_hot").toArray(String[]::new);
      // keep: absent (null) and unseen values get their own last index, which dropLast turns into
      // all zeros.
      stages.add(
          new StringIndexer()
              .setInputCols(in)
              .setOutputCols(idx)
              .setHandleInvalid("keep")
              .setStringOrderType("alphabetAsc"));
      stages.add(new OneHotEncoder().setInputCols(idx).setOutputCols(hot).setDropLast(true));
      assembled.addAll(List.of(hot));
    }
    for (String text : l.texts()) {
      stages.add(
          new RegexTokenizer()
              .setPattern("\\W+")
              .setGaps(true)
              .setToLowercase(true)
              .setInputCol(text)
              .setOutputCol(text + "_tok"));
      stages.add(
          new HashingTF()
              .setNumFeatures(textFeatures)
              .setInputCol(text + "_tok")
              .setOutputCol(text + "_tf"));
      stages.add(new IDF().setInputCol(text + "_tf").setOutputCol(text + "_tfidf"));
      assembled.add(text + "_tfidf");
    }
    assembled.addAll(l.presence());
    stages.add(
        new VectorAssembler()
            .setInputCols(assembled.toArray(new String[0]))
            .setOutputCol(FEATURES));
    narrow.addAll(l.categorical());
    narrow.addAll(l.texts());
    narrow.addAll(l.presence());
    return new Stages(expand, stages, narrow);
  }
}
