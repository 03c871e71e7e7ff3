package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.array_repeat;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.flatten;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.reverse;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.slice;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Turns long-format observations into one fixed-size tensor per subject, entirely in Catalyst
 * (no UDF, no driver work): values and observed [channels x T] channel-major, step_mask [T] and
 * delta_time [T]. Steps run oldest to newest and are left-padded, so the newest observation is
 * always at step T-1. The caller has already dropped every observation after the index time.
 */
final class TimeSeriesWindow {
  static final String TIME = "_t";
  static final String INDEX_TIME = "_index_time";

  private TimeSeriesWindow() {}

  /**
   * Last T observations at or before index time. Every step is built from array functions that
   * Spark compiles (no lambda, which Spark interprets row by row): each observation becomes a struct
   * holding its channel values (null as 0), their observed flags, a step flag and its delta time;
   * the newest T, oldest first, are left-padded with an all-zero struct; then each output array is
   * one field of that struct array.
   */
  static Dataset<Row> lastSteps(Dataset<Row> obs, List<String> channels, int steps, String outputColumn) {
    List<Column> fields = new ArrayList<>();
    fields.add(col(TIME).as("t"));
    List<Column> padding = new ArrayList<>();
    padding.add(lit(null).cast("double").as("t"));
    for (int c = 0; c < channels.size(); c++) {
      Column v = col(channels.get(c)).cast("float");
      fields.add(coalesce(v, lit(0f)).as("v" + c));
      fields.add(when(v.isNull(), lit(0f)).otherwise(lit(1f)).as("o" + c));
      padding.add(lit(0f).as("v" + c));
      padding.add(lit(0f).as("o" + c));
    }
    fields.add(lit(1f).as("step"));
    fields.add(coalesce(col(INDEX_TIME).minus(col(TIME)).cast("float"), lit(0f)).as("dt"));
    padding.add(lit(0f).as("step"));
    padding.add(lit(0f).as("dt"));
    // Newest first, cut at T (the sort key t leads the struct), then oldest first, left-padded to T.
    Dataset<Row> grouped = obs.groupBy(TableValidator.ID)
        .agg(slice(sort_array(collect_list(struct(fields.toArray(Column[]::new))), false), 1, steps).as("newest"));
    Column padded = concat(array_repeat(struct(padding.toArray(Column[]::new)), lit(steps).minus(size(col("newest")))),
        reverse(col("newest")));
    Dataset<Row> stepped = grouped.select(col(TableValidator.ID), padded.as("steps"));
    List<Column> values = new ArrayList<>();
    List<Column> observed = new ArrayList<>();
    for (int c = 0; c < channels.size(); c++) {
      values.add(col("steps.v" + c));
      observed.add(col("steps.o" + c));
    }
    return stepped.select(col(TableValidator.ID), struct(
        flatten(array(values.toArray(Column[]::new))).as("values"),
        flatten(array(observed.toArray(Column[]::new))).as("observed"),
        col("steps.step").as("step_mask"),
        col("steps.dt").as("delta_time")).as(outputColumn));
  }

  /** Mean per fixed-width time bin: bin b covers (index_time - (b+1)w, index_time - bw]; b = 0 is the newest. */
  static Dataset<Row> timeBins(Dataset<Row> obs, List<String> channels, int steps, double width, String outputColumn) {
    Column bin = floor(col(INDEX_TIME).minus(col(TIME)).divide(width)).cast("int");
    Dataset<Row> binned = obs.withColumn("_bin", bin).filter(col("_bin").lt(steps));
    List<Column> aggs = new ArrayList<>();
    for (int c = 0; c < channels.size(); c++) {
      aggs.add(avg(col(channels.get(c)).cast("double")).cast("float").as("c" + c));
    }
    aggs.add(avg(col(INDEX_TIME).minus(col(TIME))).cast("float").as("dt"));
    Dataset<Row> perBin = binned.groupBy(col(TableValidator.ID), col("_bin"))
        .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new));
    List<Column> fields = new ArrayList<>();
    fields.add(col("_bin").as("b"));
    for (int c = 0; c <= channels.size(); c++) {
      fields.add(col(c < channels.size() ? "c" + c : "dt"));
    }
    Dataset<Row> grouped = perBin.groupBy(TableValidator.ID).agg(collect_list(struct(fields.toArray(Column[]::new))).as("obs"));
    // Step i (oldest first) is bin T-1-i; a missing bin is padding.
    String match = "filter(obs, o -> o.b = " + (steps - 1) + " - i)";
    String pad = "size(" + match + ") = 0";
    String at = "element_at(" + match + ", 1)";
    return grouped.select(col(TableValidator.ID), tensor(channels.size(), steps, pad, at).as(outputColumn));
  }

  /**
   * Builds the tensor struct of time bins. {@code pad} is true for a padded step i; {@code at} is
   * the bin struct of step i.
   */
  private static Column tensor(int channels, int steps, String pad, String at) {
    String seq = "sequence(0, " + (steps - 1) + ")";
    List<String> values = new ArrayList<>();
    List<String> observed = new ArrayList<>();
    for (int c = 0; c < channels; c++) {
      values.add("transform(" + seq + ", i -> IF(" + pad + ", CAST(0 AS FLOAT), coalesce(" + at + ".c" + c + ", CAST(0 AS FLOAT))))");
      observed.add("transform(" + seq + ", i -> IF(" + pad + " OR " + at + ".c" + c + " IS NULL, CAST(0 AS FLOAT), CAST(1 AS FLOAT)))");
    }
    String delta = at + ".dt";
    return struct(
        expr("flatten(array(" + String.join(", ", values) + "))").as("values"),
        expr("flatten(array(" + String.join(", ", observed) + "))").as("observed"),
        expr("transform(" + seq + ", i -> IF(" + pad + ", CAST(0 AS FLOAT), CAST(1 AS FLOAT)))").as("step_mask"),
        expr("transform(" + seq + ", i -> IF(" + pad + ", CAST(0 AS FLOAT), coalesce(" + delta + ", CAST(0 AS FLOAT))))").as("delta_time"));
  }
}
