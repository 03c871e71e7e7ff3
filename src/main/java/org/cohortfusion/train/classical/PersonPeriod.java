package org.cohortfusion.train.classical;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sequence;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.cohortfusion.stage.Columns;

/**
 * A survival outcome as a binary one for a classical classifier: the person-period form of the
 * discrete-time hazard model (Singer and Willett, "It's about time", J Educ Stat 18:155, 1993). A
 * subject contributes one row per interval it was at risk in, labeled 1 only in the interval of its
 * event; the interval is a feature (one indicator per interval after the first, the first is the
 * intercept's), so a classifier's probability on a row is the hazard of that interval. A logistic
 * regression over these rows is the linear discrete-time proportional-odds model (Cox's discrete
 * analogue); gradient-boosted trees over them let the features act differently per interval. It is
 * the same likelihood the fusion networks' hazard outputs are trained on, so the comparison is of
 * the models, not of the losses.
 */
public final class PersonPeriod {
  /** The interval index of a row, 0-based. */
  public static final String INTERVAL = "cf_interval";

  /** The row's binary target: the event happened in this interval. */
  public static final String EVENT = "cf_event";

  /** The features with the interval indicators appended, what the classifier reads. */
  public static final String FEATURES = "cf_features_t";

  /** The hazards of a subject, one per interval in order (what {@link #hazards} returns). */
  public static final String HAZARDS = "hazards";

  private PersonPeriod() {}

  /**
   * The rows of the intervals each subject was at risk in: {@code code} is the subject's target
   * code {@code 2 * s + event} (s intervals survived, then the event in interval s or no more
   * follow-up), the code of the fusion models' targets. A subject censored before the end of its
   * first interval contributes no row.
   */
  public static Dataset<Row> atRisk(Dataset<Row> rows, Column code, int intervals) {
    Column survived = functions.floor(code.divide(2)).cast("int");
    Column event = functions.pmod(code, lit(2)).equalTo(1);
    Column last = when(event, survived).otherwise(survived.minus(1));
    Dataset<Row> out =
        rows.withColumn("cf_survived", survived)
            .withColumn("cf_event_flag", event)
            .where(last.geq(0))
            .withColumn(
                INTERVAL, explode(sequence(lit(0), functions.least(last, lit(intervals - 1)))))
            .withColumn(
                EVENT,
                when(col("cf_event_flag").and(col(INTERVAL).equalTo(col("cf_survived"))), 1.0)
                    .otherwise(0.0))
            .drop("cf_survived", "cf_event_flag");
    return withIndicators(out, intervals);
  }

  /** Every row once per interval: what hazards are predicted on. */
  public static Dataset<Row> everyInterval(Dataset<Row> rows, int intervals) {
    return withIndicators(
        rows.withColumn(INTERVAL, explode(sequence(lit(0), lit(intervals - 1)))), intervals);
  }

  /** Appends the interval indicators to {@link ClassicalFeatures#FEATURES} as {@link #FEATURES}. */
  public static VectorAssembler assembler(int intervals) {
    List<String> inputs = new ArrayList<>(List.of(ClassicalFeatures.FEATURES));
    inputs.addAll(indicators(intervals));
    return new VectorAssembler().setInputCols(inputs.toArray(new String[0])).setOutputCol(FEATURES);
  }

  /**
   * Per subject, the hazards of rows scored by {@link #everyInterval}: {@code probability} is the
   * classifier's probability of the event on each row.
   */
  public static Dataset<Row> hazards(Dataset<Row> scored, Column probability) {
    return scored
        .select(
            col(Columns.SUBJECT_ID),
            functions.struct(col(INTERVAL), probability.as("p")).as("cf_h"))
        .groupBy(Columns.SUBJECT_ID)
        .agg(functions.sort_array(functions.collect_list(col("cf_h"))).as("cf_hs"))
        .select(col(Columns.SUBJECT_ID), col("cf_hs.p").as(HAZARDS));
  }

  private static List<String> indicators(int intervals) {
    List<String> names = new ArrayList<>();
    for (int j = 1; j < intervals; j++) {
      names.add(INTERVAL + "_" + j);
    }
    return names;
  }

  private static Dataset<Row> withIndicators(Dataset<Row> rows, int intervals) {
    Dataset<Row> out = rows;
    for (int j = 1; j < intervals; j++) {
      out = out.withColumn(INTERVAL + "_" + j, when(col(INTERVAL).equalTo(j), 1.0).otherwise(0.0));
    }
    return out;
  }
}
