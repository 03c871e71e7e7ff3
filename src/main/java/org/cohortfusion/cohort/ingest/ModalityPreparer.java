package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.cohort.contract.TableContract;
import org.cohortfusion.config.ModalityConfig;
import org.cohortfusion.stage.ModalityKind;
import org.cohortfusion.stage.ModalitySpec;

/**
 * Per-kind preparation of a modality table: its row checks, the payload column that goes into the
 * aligned cohort, and the {@link ModalitySpec} that describes it to later stages.
 */
final class ModalityPreparer {
  static final String PAYLOAD = "_payload";

  /** Row checks, a dataset with the payload column, and the spec. */
  record Prepared(List<RowCheck> checks, Dataset<Row> rows, ModalitySpec spec) {}

  private ModalityPreparer() {}

  /**
   * {@code nonNullElementArrays}: array columns the files' schema keeps free of null elements;
   * {@code packed}: the wide columns a CSV table's {@code values} was packed from as read ({@link
   * CsvTable}), else null.
   */
  static Prepared prepare(
      String name,
      ModalityConfig m,
      String path,
      Dataset<Row> df,
      TableContract contract,
      java.util.Set<String> nonNullElementArrays,
      List<String> packed) {
    List<String> features = TableValidator.checkSchema(name, path, df, contract);
    List<RowCheck> checks =
        new ArrayList<>(TableValidator.idChecks("modalities." + name, m.idWhitespace()));
    // Packed wide columns get element rules that name the column (WideColumns.checks), not the
    // array's.
    checks.addAll(
        TableValidator.columnChecks(
            packed == null ? df : df.drop("values"), contract, nonNullElementArrays));
    return switch (m.kind()) {
      case TABULAR -> tabular(name, m, path, df, features, checks);
      case VECTOR -> vector(name, m, path, df, features, checks, packed);
      case IMAGE -> image(name, m, df, checks);
      case TIMESERIES -> timeseries(name, m, path, df, features, checks);
      case TEXT ->
          new Prepared(
              checks,
              df.withColumn(PAYLOAD, col("text")),
              new ModalitySpec(name, ModalityKind.TEXT, null, null, 0, null, null, 0));
    };
  }

  private static Prepared tabular(
      String name,
      ModalityConfig m,
      String path,
      Dataset<Row> df,
      List<String> features,
      List<RowCheck> checks) {
    for (String c : m.categorical()) {
      if (!features.contains(c)) {
        throw new IngestException(
            "Cannot ingest table '"
                + name
                + "' ("
                + path
                + "): column '"
                + c
                + "' listed in modalities."
                + name
                + ".categorical is not a feature column of the table");
      }
    }
    if (features.isEmpty()) {
      throw new IngestException(
          "Cannot ingest table '"
              + name
              + "' ("
              + path
              + "): a tabular table needs at least one feature column besides subject_id");
    }
    checks.addAll(TableValidator.featureChecks(df, features));
    List<String> numeric = new ArrayList<>();
    List<String> categorical = new ArrayList<>();
    List<Column> fields = new ArrayList<>();
    for (String f : features) {
      DataType t = df.schema().apply(f).dataType();
      if (t.equals(DataTypes.StringType) || m.categorical().contains(f)) {
        categorical.add(f);
        fields.add(TableValidator.column(f).cast("string").as(f));
      } else {
        numeric.add(f);
        fields.add(TableValidator.column(f).cast("double").as(f));
      }
    }
    // Struct order: numeric first, then categorical, as the spec lists them.
    List<Column> ordered = new ArrayList<>();
    for (String f : numeric) {
      ordered.add(fields.get(features.indexOf(f)));
    }
    for (String f : categorical) {
      ordered.add(fields.get(features.indexOf(f)));
    }
    return new Prepared(
        checks,
        df.withColumn(PAYLOAD, struct(ordered.toArray(Column[]::new))),
        new ModalitySpec(
            name,
            ModalityKind.TABULAR,
            numeric,
            categorical,
            numeric.size() + categorical.size(),
            null,
            null,
            0));
  }

  private static Prepared vector(
      String name,
      ModalityConfig m,
      String path,
      Dataset<Row> df,
      List<String> features,
      List<RowCheck> checks,
      List<String> packed) {
    int length = m.length();
    Column values;
    if (TableValidator.has(df, "values")) {
      if (!features.isEmpty()) {
        throw new IngestException(
            "Cannot ingest table '"
                + name
                + "' ("
                + path
                + "): it has a 'values' array and wide columns "
                + features.subList(0, Math.min(3, features.size()))
                + "; use one or the other");
      }
      values = col("values");
      if (packed != null) {
        checks.addAll(WideColumns.checks(values.cast("array<float>"), packed));
      }
    } else {
      if (features.size() != length) {
        throw new IngestException(
            "Cannot ingest table '"
                + name
                + "' ("
                + path
                + "): no 'values' column, and "
                + features.size()
                + " wide numeric columns where modalities."
                + name
                + ".length = "
                + length);
      }
      // Packed first, the wide columns dropped: one array expression, not one per column
      // (WideColumns).
      java.util.Set<String> wide = new java.util.HashSet<>(features);
      List<Column> kept = new ArrayList<>();
      for (String c : df.columns()) {
        if (!wide.contains(c)) {
          kept.add(TableValidator.column(c));
        }
      }
      kept.add(WideColumns.pack(features, f -> TableValidator.column(f).cast("float"), "values"));
      df = df.select(kept.toArray(Column[]::new));
      if (features.size() >= WideColumns.NARROW_PLAN_FROM) {
        // Every later plan of the table (checks, rejects, alignment) would start from a scan with a
        // column per
        // feature, planned again each time; packed once, they start from the packed rows.
        df = WideColumns.materialise(df);
      }
      values = col("values");
      checks.addAll(WideColumns.checks(values, features));
    }
    checks.add(TableValidator.wrongLength("values", values, length));
    return new Prepared(
        checks,
        df.withColumn(PAYLOAD, values.cast("array<float>")),
        new ModalitySpec(name, ModalityKind.VECTOR, null, null, length, null, null, 0));
  }

  private static Prepared image(
      String name, ModalityConfig m, Dataset<Row> df, List<RowCheck> checks) {
    int size = m.imageSize();
    checks.add(TableValidator.wrongLength("pixels", col("pixels"), size));
    if (TableValidator.has(df, "shape")) {
      Column declared =
          array(m.shape().stream().map(s -> lit(s.longValue())).toArray(Column[]::new));
      checks.add(
          new RowCheck(
              col("shape").isNotNull().and(col("shape").cast("array<bigint>").notEqual(declared)),
              RejectReason.BAD_SHAPE,
              lit("column 'shape' differs from the declared shape " + m.shape())));
    }
    return new Prepared(
        checks,
        df.withColumn(PAYLOAD, col("pixels").cast("array<float>")),
        new ModalitySpec(name, ModalityKind.IMAGE, null, null, size, m.shape(), null, 0));
  }

  private static Prepared timeseries(
      String name,
      ModalityConfig m,
      String path,
      Dataset<Row> df,
      List<String> features,
      List<RowCheck> checks) {
    List<String> channels = m.channels().isEmpty() ? features : m.channels();
    for (String c : channels) {
      if (!features.contains(c)) {
        throw new IngestException(
            "Cannot ingest table '"
                + name
                + "' ("
                + path
                + "): channel '"
                + c
                + "' listed in modalities."
                + name
                + ".channels is not a numeric column of the table");
      }
    }
    if (channels.isEmpty()) {
      throw new IngestException(
          "Cannot ingest table '"
              + name
              + "' ("
              + path
              + "): a time-series table needs at least one channel column");
    }
    checks.addAll(TableValidator.featureChecks(df, channels));
    Dataset<Row> rows =
        df.withColumn(
            TimeSeriesWindow.TIME,
            IngestTimes.asNumber(col("time"), df.schema().apply("time").dataType()));
    return new Prepared(
        checks,
        rows,
        new ModalitySpec(
            name,
            ModalityKind.TIMESERIES,
            null,
            null,
            channels.size() * m.steps(),
            null,
            channels,
            m.steps()));
  }
}
