package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.struct;

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

  /** Last T observations at or before index time. */
  static Dataset<Row> lastSteps(Dataset<Row> obs, List<String> channels, int steps, String outputColumn) {
    List<Column> fields = new ArrayList<>();
    fields.add(col(TIME).as("t"));
    fields.add(col(INDEX_TIME).as("it"));
    for (int c = 0; c < channels.size(); c++) {
      fields.add(col(channels.get(c)).cast("float").as("c" + c));
    }
    fields.add(0, col(TableValidator.ID));
    Dataset<Row> grouped = obs.select(fields.toArray(Column[]::new)).groupBy(TableValidator.ID)
        .agg(expr("slice(sort_array(collect_list(struct(" + structFields(channels.size()) + ")), false), 1, " + steps + ")").as("obs"));
    // obs is newest first, n = size(obs) <= T; step i holds obs[n - (i - (T - n))] (1-based) or padding.
    String n = "size(obs)";
    String pad = "i < " + steps + " - " + n;
    String at = "element_at(obs, " + n + " - (i - (" + steps + " - " + n + ")))";
    return grouped.select(col(TableValidator.ID), tensor(channels.size(), steps, pad, at, "0").as(outputColumn));
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
    return grouped.select(col(TableValidator.ID), tensor(channels.size(), steps, pad, at, null).as(outputColumn));
  }

  private static String structFields(int channels) {
    StringBuilder s = new StringBuilder("t, it");
    for (int c = 0; c < channels; c++) {
      s.append(", c").append(c);
    }
    return s.toString();
  }

  /**
   * Builds the tensor struct. {@code pad} is true for a padded step i; {@code at} is the struct of
   * step i; delta time is it - t for raw observations, or the bin's mean dt when binned.
   */
  private static Column tensor(int channels, int steps, String pad, String at, String rawDeltaMarker) {
    String seq = "sequence(0, " + (steps - 1) + ")";
    List<String> values = new ArrayList<>();
    List<String> observed = new ArrayList<>();
    for (int c = 0; c < channels; c++) {
      values.add("transform(" + seq + ", i -> IF(" + pad + ", CAST(0 AS FLOAT), coalesce(" + at + ".c" + c + ", CAST(0 AS FLOAT))))");
      observed.add("transform(" + seq + ", i -> IF(" + pad + " OR " + at + ".c" + c + " IS NULL, CAST(0 AS FLOAT), CAST(1 AS FLOAT)))");
    }
    String delta = rawDeltaMarker != null ? "CAST(" + at + ".it - " + at + ".t AS FLOAT)" : at + ".dt";
    return struct(
        expr("flatten(array(" + String.join(", ", values) + "))").as("values"),
        expr("flatten(array(" + String.join(", ", observed) + "))").as("observed"),
        expr("transform(" + seq + ", i -> IF(" + pad + ", CAST(0 AS FLOAT), CAST(1 AS FLOAT)))").as("step_mask"),
        expr("transform(" + seq + ", i -> IF(" + pad + ", CAST(0 AS FLOAT), coalesce(" + delta + ", CAST(0 AS FLOAT))))").as("delta_time"));
  }
}
