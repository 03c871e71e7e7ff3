package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.cohort.contract.TableContract;
import org.cohortfusion.config.SplitConfig;
import org.cohortfusion.config.SubjectsConfig;
import org.cohortfusion.stage.Columns;

/** Row checks of the subjects table and the label classes (given, or found in the data). */
final class SubjectsPreparer {
  static final String LABEL_TEXT = "_label_text";
  static final String INDEX_TIME = "_index_time";

  /** event_time - index_time (event_time without index_time), when the table has event_time. */
  static final String DURATION = "_duration";

  static final List<String> SPLITS =
      List.of(Columns.Splits.TRAIN, Columns.Splits.VALIDATION, Columns.Splits.TEST);

  private SubjectsPreparer() {}

  /**
   * {@code path}: of the table, for errors; the schema is checked first, as the derived columns
   * read label and index_time.
   */
  static Dataset<Row> withDerivedColumns(Dataset<Row> df, String path, TableContract contract) {
    TableValidator.checkSchema("subjects", path, df, contract);
    Dataset<Row> out = df.withColumn(LABEL_TEXT, col(Columns.LABEL).cast("string"));
    out =
        out.withColumn(
            INDEX_TIME,
            TableValidator.has(df, Columns.INDEX_TIME)
                ? IngestTimes.asNumber(
                    col(Columns.INDEX_TIME), df.schema().apply(Columns.INDEX_TIME).dataType())
                : lit(null).cast("double"));
    if (TableValidator.has(df, "event_time")) {
      Column t =
          IngestTimes.asNumber(col("event_time"), df.schema().apply("event_time").dataType());
      out =
          out.withColumn(
              DURATION,
              t.minus(org.apache.spark.sql.functions.coalesce(col(INDEX_TIME), lit(0.0))));
    }
    return out;
  }

  /**
   * {@code timeSeries}: the time-series modalities of the cohort. With any, every subject needs a
   * finite index time: without one the point-in-time rule has nothing to cut at, and using all
   * visits would let those after the prediction time leak the label. Without any, index_time may be
   * null but not NaN or infinite.
   */
  static List<RowCheck> checks(
      SubjectsConfig config,
      SplitConfig splits,
      String path,
      Dataset<Row> df,
      TableContract contract,
      List<String> timeSeries) {
    TableValidator.checkSchema("subjects", path, df, contract);
    List<RowCheck> checks =
        new ArrayList<>(TableValidator.idChecks("subjects", config.idWhitespace()));
    checks.addAll(TableValidator.columnChecks(df, contract, java.util.Set.of()));
    if (!timeSeries.isEmpty()) {
      if (!TableValidator.has(df, Columns.INDEX_TIME)) {
        throw new IngestException(
            "Cannot align time series "
                + timeSeries
                + " with table 'subjects' ("
                + path
                + "): it has no column 'index_time'; a cohort with a time-series modality needs each subject's prediction time");
      }
      Column t = col(INDEX_TIME);
      checks.add(
          new RowCheck(
              t.isNull()
                  .or(org.apache.spark.sql.functions.isnan(t))
                  .or(t.equalTo(lit(Double.POSITIVE_INFINITY)))
                  .or(t.equalTo(lit(Double.NEGATIVE_INFINITY))),
              RejectReason.BAD_INDEX_TIME,
              lit(
                  "column 'index_time' is null, NaN or infinite; time series "
                      + timeSeries
                      + " need a finite prediction time")));
    } else if (TableValidator.has(df, Columns.INDEX_TIME)) {
      // Nothing is cut at it, so a missing index time is allowed; a non-finite one is a broken
      // value, and copied into the aligned table it would reach whatever reads it as a number.
      Column t = col(INDEX_TIME);
      checks.add(
          new RowCheck(
              org.apache
                  .spark
                  .sql
                  .functions
                  .isnan(t)
                  .or(t.equalTo(lit(Double.POSITIVE_INFINITY)))
                  .or(t.equalTo(lit(Double.NEGATIVE_INFINITY))),
              RejectReason.BAD_INDEX_TIME,
              lit(
                  "column 'index_time' is NaN or infinite (null is allowed: the cohort has no time-series modality)")));
    }
    if (!config.classes().isEmpty()) {
      checks.add(
          new RowCheck(
              col(LABEL_TEXT)
                  .isNotNull()
                  .and(col(LABEL_TEXT).isin(config.classes().toArray()).unary_$bang()),
              RejectReason.BAD_LABEL,
              lit("column 'label' is not one of the classes " + config.classes())));
    }
    if (config.outcome().survival()) {
      if (!TableValidator.has(df, "event_time")) {
        throw new IngestException(
            "Cannot read a survival outcome from table 'subjects' ("
                + path
                + "): it has no column"
                + " 'event_time' (subjects.outcome.kind = survival: label is the event indicator, event_time the time of the"
                + " event or of censoring)");
      }
      Column d = col(DURATION);
      checks.add(
          new RowCheck(
              col(LABEL_TEXT)
                  .isNotNull()
                  .and(
                      d.isNull()
                          .or(org.apache.spark.sql.functions.isnan(d))
                          .or(d.equalTo(lit(Double.POSITIVE_INFINITY)))
                          .or(d.equalTo(lit(Double.NEGATIVE_INFINITY)))
                          .or(d.leq(0))),
              RejectReason.BAD_OUTCOME,
              lit(
                  "column 'event_time' is null, not finite, or not after index_time (the event or"
                      + " censoring came before the prediction time)")));
    }
    for (String truth : List.of("true_probability", "observable_probability")) {
      if (TableValidator.has(df, truth)) {
        Column p = col(truth);
        checks.add(
            new RowCheck(
                p.lt(0).or(p.gt(1)),
                RejectReason.NON_FINITE,
                lit("column '" + truth + "' is outside [0, 1]")));
      }
    }
    if (splits.mode() == SplitConfig.Mode.COLUMN) {
      if (!TableValidator.has(df, Columns.SPLIT)) {
        throw new IngestException(
            "Cannot take splits from the subjects table ("
                + path
                + "): splits.mode = column but it has no column 'split'");
      }
      checks.add(
          new RowCheck(
              col(Columns.SPLIT)
                  .isNull()
                  .or(col(Columns.SPLIT).isin(SPLITS.toArray()).unary_$bang()),
              RejectReason.BAD_SPLIT,
              lit("column 'split' is not train, validation or test")));
    }
    return checks;
  }

  /**
   * The classes among the distinct label texts of accepted subjects, in numeric or natural order.
   */
  static List<String> classesOf(
      java.util.Collection<String> distinctLabels, String path, int maxClasses) {
    List<String> found = new ArrayList<>(distinctLabels);
    if (found.size() > maxClasses) {
      // The labels were counted up to one more than allowed: the exact number would cost a job.
      throw new IngestException(
          "Cannot use column 'label' of table 'subjects' ("
              + path
              + ") as a class label: it has at least "
              + found.size()
              + " distinct values, more than subjects.max-classes = "
              + maxClasses
              + " (an id or a measurement in the label column? raise subjects.max-classes if the classes are real)");
    }
    boolean numeric = found.stream().allMatch(s -> s.matches("-?\\d+(\\.\\d+)?"));
    found.sort(
        numeric ? Comparator.comparingDouble(Double::parseDouble) : Comparator.naturalOrder());
    return List.copyOf(found);
  }

  /** Class index of the label text, null for unlabeled subjects. */
  static Column labelIndex(List<String> classes) {
    Column idx = null;
    for (int i = 0; i < classes.size(); i++) {
      Column match = col(LABEL_TEXT).equalTo(classes.get(i));
      idx = idx == null ? when(match, lit(i)) : idx.when(match, lit(i));
    }
    return idx == null ? lit(null).cast("int") : idx.cast("int");
  }
}
