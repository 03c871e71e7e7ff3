package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Column;

/**
 * The observation element of a time series: what {@link ModalityJoin.TimeSeries} collects per
 * subject before the shuffle, and {@link TimeSeriesTensor} turns into the subject's tensor.
 */
final class TimeSeriesWindow {
  static final String TIME = "_t";

  private TimeSeriesWindow() {}

  /**
   * One observation as an array element. Its first fields order it for duplicates: time {@code t}
   * (as a number), file {@code f} and row {@code r}, and with latest:&lt;column&gt; that column as
   * {@code k}. Then {@code extra}: the payload ({@link #channelFields}) or what rejects need.
   */
  static Column element(Optional<String> orderColumn, List<Column> extra) {
    List<Column> fields =
        new ArrayList<>(
            List.of(
                col(TIME).as("t"),
                col(TableSource.SOURCE_FILE).as("f"),
                col(TableSource.ROW_ORDER).as("r")));
    orderColumn.ifPresent(k -> fields.add(TableValidator.column(k).as("k")));
    fields.addAll(extra);
    return struct(fields.toArray(Column[]::new));
  }

  /**
   * Per channel c: its value {@code v<c>} as float (null as 0) and its observed flag {@code m<c>}.
   */
  static List<Column> channelFields(List<String> channels) {
    List<Column> fields = new ArrayList<>();
    for (int c = 0; c < channels.size(); c++) {
      Column v = TableValidator.column(channels.get(c)).cast("float");
      fields.add(coalesce(v, lit(0f)).as("v" + c));
      fields.add(when(v.isNull(), lit(0f)).otherwise(lit(1f)).as("m" + c));
    }
    return fields;
  }
}
