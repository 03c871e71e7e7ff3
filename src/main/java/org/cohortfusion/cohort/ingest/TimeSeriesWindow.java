package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.array_repeat;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.flatten;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.reverse;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.slice;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Turns a subject's observations into one fixed-size tensor, entirely in Catalyst (no UDF, no
 * driver work): values and observed [channels x T] channel-major, step_mask [T] and delta_time
 * [T]. Steps run oldest to newest and are left-padded, so the newest observation is always at step
 * T-1. The observations are an array of {@link #element} structs, sorted by time, that the caller
 * has already cut at the index time.
 */
final class TimeSeriesWindow {
  static final String TIME = "_t";
  private static final String BINS = "_bins";
  private static final String NEWEST = "_newest";

  private TimeSeriesWindow() {}

  /**
   * One observation as an array element. Its first fields order it for duplicates: time {@code t}
   * (as a number), file {@code f} and row {@code r}, and with latest:&lt;column&gt; that column as
   * {@code k}. Then {@code extra}: the payload ({@link #channelFields}) or what rejects need.
   */
  static Column element(Optional<String> orderColumn, List<Column> extra) {
    List<Column> fields = new ArrayList<>(List.of(col(TIME).as("t"), col(TableSource.SOURCE_FILE).as("f"),
        col(TableSource.ROW_ORDER).as("r")));
    orderColumn.ifPresent(k -> fields.add(col(k).as("k")));
    fields.addAll(extra);
    return struct(fields.toArray(Column[]::new));
  }

  /** Per channel c: its value {@code v<c>} as float (null as 0) and its observed flag {@code m<c>}. */
  static List<Column> channelFields(List<String> channels) {
    List<Column> fields = new ArrayList<>();
    for (int c = 0; c < channels.size(); c++) {
      Column v = col(channels.get(c)).cast("float");
      fields.add(coalesce(v, lit(0f)).as("v" + c));
      fields.add(when(v.isNull(), lit(0f)).otherwise(lit(1f)).as("m" + c));
    }
    return fields;
  }

  /**
   * The last T observations of {@code used} (sorted oldest first): channel arrays are fields of
   * the element array, left-padded with zeros; compiled array functions throughout, only the delta
   * times need a lambda. Null when no observation is used.
   */
  static Dataset<Row> lastSteps(Dataset<Row> df, String used, String indexTime, int channels, int steps, String output) {
    Column newest = col(NEWEST);
    Column zeros = array_repeat(lit(0f), greatest(lit(0), lit(steps).minus(size(newest))));
    List<Column> values = new ArrayList<>();
    List<Column> observed = new ArrayList<>();
    for (int c = 0; c < channels; c++) {
      values.add(concat(zeros, newest.getField("v" + c)));
      observed.add(concat(zeros, newest.getField("m" + c)));
    }
    Column delta = expr("transform(" + NEWEST + ".t, t -> coalesce(CAST(" + indexTime + " - t AS FLOAT), CAST(0 AS FLOAT)))");
    Column tensor = struct(
        flatten(array(values.toArray(Column[]::new))).as("values"),
        flatten(array(observed.toArray(Column[]::new))).as("observed"),
        concat(zeros, array_repeat(lit(1f), size(newest))).as("step_mask"),
        concat(zeros, delta).as("delta_time"));
    // The newest steps as a column of their own: Spark would not share them between the
    // branches of the null check, and slice them again for every channel.
    return df.withColumn(NEWEST, reverse(slice(reverse(col(used)), 1, steps)))
        .withColumn(output, when(size(col(used)).gt(0), tensor))
        .drop(NEWEST);
  }

  /**
   * Mean per fixed-width time bin: bin b covers (index_time - (b+1)w, index_time - bw]; b = 0 is
   * the newest; a channel's mean is over its observed values only. Null when no observation is
   * used.
   */
  static Dataset<Row> timeBins(Dataset<Row> df, String used, String indexTime, int channels, int steps, double width, String output) {
    String inBin = "filter(" + used + ", x -> floor((" + indexTime + " - x.t) / " + width + ") = b)";
    List<String> fields = new ArrayList<>(List.of("'b', y.b"));
    for (int c = 0; c < channels; c++) {
      String observed = "aggregate(y.xs, 0D, (a, x) -> a + x.m" + c + ")";
      String sum = "aggregate(y.xs, 0D, (a, x) -> a + x.v" + c + ")";
      fields.add("'c" + c + "', IF(" + observed + " > 0, CAST(" + sum + " / " + observed + " AS FLOAT), CAST(NULL AS FLOAT))");
    }
    fields.add("'dt', CAST(aggregate(y.xs, 0D, (a, x) -> a + (" + indexTime + " - x.t)) / size(y.xs) AS FLOAT)");
    String bins = "transform(filter(transform(sequence(0, " + (steps - 1) + "), b -> named_struct('b', b, 'xs', " + inBin
        + ")), y -> size(y.xs) > 0), y -> named_struct(" + String.join(", ", fields) + "))";
    // Step i (oldest first) is bin T-1-i; a missing bin is padding.
    String match = "filter(" + BINS + ", o -> o.b = " + (steps - 1) + " - i)";
    return df.withColumn(BINS, expr(bins))
        .withColumn(output, when(size(col(used)).gt(0), tensor(channels, steps, "size(" + match + ") = 0", "element_at(" + match + ", 1)")))
        .drop(BINS);
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
