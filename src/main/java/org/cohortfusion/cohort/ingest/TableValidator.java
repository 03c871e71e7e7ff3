package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.regexp_replace;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.cohortfusion.cohort.contract.ContractColumn;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.cohort.contract.TableContract;
import org.cohortfusion.config.IdWhitespace;
import org.cohortfusion.spark.internal.ArrayScans;
import org.cohortfusion.stage.Columns;

/**
 * Checks a table against its contract. Schema problems (a missing column, a wrong type, an
 * unexpected column) stop the run with a message naming table, path and column; row problems become
 * checks that {@link IngestAction} turns into rejects or errors by policy.
 */
final class TableValidator {
  static final String ID = Columns.SUBJECT_ID;
  private static final String FAILED_CHECK = "_failed_check";
  private static final Set<String> NUMERIC =
      Set.of("tinyint", "smallint", "int", "bigint", "float", "double", "boolean");

  private TableValidator() {}

  /** Spark's simple type name, e.g. {@code array<float>}. */
  static String typeName(DataType t) {
    return t.simpleString().toLowerCase(Locale.ROOT);
  }

  /**
   * Throws on schema-level violations; returns the feature columns (columns beyond the declared
   * ones).
   */
  static List<String> checkSchema(
      String table, String path, Dataset<Row> df, TableContract contract) {
    List<String> features = new ArrayList<>();
    for (ContractColumn c : contract.columns()) {
      if (!has(df, c.name())) {
        if (c.required()) {
          throw new IngestException(
              "Cannot ingest table '"
                  + table
                  + "' ("
                  + path
                  + "): missing required column '"
                  + c.name()
                  + "' (expected "
                  + String.join(" or ", c.types())
                  + ")");
        }
        continue;
      }
      String found = typeName(df.schema().apply(c.name()).dataType());
      if (!c.accepts(found)) {
        throw new IngestException(
            "Cannot ingest table '"
                + table
                + "' ("
                + path
                + "): column '"
                + c.name()
                + "' has type "
                + found
                + ", expected "
                + String.join(" or ", c.types()));
      }
    }
    for (StructField f : df.schema().fields()) {
      String name = f.name();
      if (name.startsWith("_") || contract.column(name).isPresent()) {
        continue;
      }
      if (!contract.extraColumnsAreFeatures()) {
        throw new IngestException(
            "Cannot ingest table '"
                + table
                + "' ("
                + path
                + "): unexpected column '"
                + name
                + "'; a "
                + contract.kind()
                + " table has only "
                + contract.columns().stream().map(ContractColumn::name).toList());
      }
      String found = typeName(f.dataType());
      if (!contract.featureTypes().contains(found)) {
        throw new IngestException(
            "Cannot ingest table '"
                + table
                + "' ("
                + path
                + "): feature column '"
                + name
                + "' has type "
                + found
                + ", expected one of "
                + contract.featureTypes());
      }
      features.add(name);
    }
    return features;
  }

  /**
   * A column by its name as the file has it: quoted, since Parquet allows names that Spark would
   * read as syntax (a dot selects a struct field: {@code alk.phos}; a backtick quotes).
   */
  static Column column(String name) {
    return col("`" + name.replace("`", "``") + "`");
  }

  static boolean has(Dataset<Row> df, String column) {
    return List.of(df.columns()).contains(column);
  }

  /**
   * The id checks every table shares. With {@code whitespace} reject, an id that starts or ends
   * with whitespace is MALFORMED_ID with a message saying so; {@code key} is the table's config key
   * ({@code subjects} or {@code modalities.<m>}), named in that message.
   */
  static List<RowCheck> idChecks(String key, IdWhitespace whitespace) {
    Column id = col(ID);
    List<RowCheck> checks =
        new ArrayList<>(
            List.of(
                new RowCheck(id.isNull(), RejectReason.NULL_ID, lit("column 'subject_id' is null")),
                new RowCheck(
                    MalformedId.of(id),
                    RejectReason.MALFORMED_ID,
                    lit(
                        "column 'subject_id' is empty, longer than 256 characters, has control characters or is not valid UTF-8 (or holds U+FFFD)"))));
    if (whitespace == IdWhitespace.REJECT) {
      checks.add(
          new RowCheck(
              MalformedId.edgeSpace(id),
              RejectReason.MALFORMED_ID,
              lit(
                  "column 'subject_id' starts or ends with whitespace ("
                      + key
                      + ".id-whitespace = reject; set it to trim to trim such ids)")));
    }
    return checks;
  }

  /**
   * The table with leading and trailing whitespace ({@link MalformedId#hasEdgeSpace}) removed from
   * subject_id: the regular expression runs only on the ids that have it.
   */
  static Dataset<Row> trimIds(Dataset<Row> df) {
    Column id = col(ID);
    String space = MalformedId.SPACE_CLASS;
    return df.withColumn(
        ID,
        when(MalformedId.edgeSpace(id), regexp_replace(id, "^" + space + "+|" + space + "+$", ""))
            .otherwise(id));
  }

  /** The rows whose subject_id {@link #trimIds} changes. */
  static Column hasEdgeSpace() {
    return MalformedId.edgeSpace(col(ID)).eqNullSafe(lit(true));
  }

  /**
   * Non-nullable declared columns must not be null; finite columns must hold no NaN or infinity;
   * arrays must hold no null element, unless named in {@code nonNullElementArrays} (the files' own
   * schema rules nulls out).
   */
  static List<RowCheck> columnChecks(
      Dataset<Row> df, TableContract contract, java.util.Set<String> nonNullElementArrays) {
    List<RowCheck> checks = new ArrayList<>();
    for (ContractColumn c : contract.columns()) {
      if (!has(df, c.name()) || "id".equals(c.role())) {
        continue;
      }
      if (!c.nullable()) {
        checks.add(
            new RowCheck(
                column(c.name()).isNull(),
                RejectReason.NULL_VALUE,
                lit("column '" + c.name() + "' is null")));
      }
      DataType type = df.schema().apply(c.name()).dataType();
      if (type instanceof ArrayType) {
        boolean mayHoldNull =
            ((ArrayType) type).containsNull() && !nonNullElementArrays.contains(c.name());
        checks.addAll(
            arrayChecks(c.name(), column(c.name()), (ArrayType) type, c.finite(), mayHoldNull));
      } else if (c.finite() && isFloating(type)) {
        checks.add(nonFinite(c.name()));
      }
    }
    return checks;
  }

  /**
   * Null elements and, for float arrays, NaN or infinite elements, in that order: a row with both
   * is rejected for its null element. Each rule is one pass over the elements ({@link ArrayScans}).
   * When the column's type rules out null elements ({@code mayHoldNull} false: Parquet's {@code
   * required} element), there is nothing to check for them.
   */
  static List<RowCheck> arrayChecks(
      String name, Column array, ArrayType type, boolean finite, boolean mayHoldNull) {
    List<RowCheck> checks = new ArrayList<>();
    if (mayHoldNull) {
      checks.add(
          new RowCheck(
              ArrayScans.hasNull(array),
              RejectReason.NULL_VALUE,
              lit("column '" + name + "' holds a null element")));
    }
    if (finite && isFloating(type.elementType())) {
      checks.add(
          new RowCheck(
              ArrayScans.hasNonFinite(array, type, mayHoldNull),
              RejectReason.NON_FINITE,
              lit("column '" + name + "' holds NaN or infinity")));
    }
    return checks;
  }

  /**
   * NaN or infinity in floating feature columns (one check per column, so the message names it).
   */
  static List<RowCheck> featureChecks(Dataset<Row> df, List<String> features) {
    List<RowCheck> checks = new ArrayList<>();
    for (String f : features) {
      if (isFloating(df.schema().apply(f).dataType())) {
        checks.add(nonFinite(f));
      }
    }
    return checks;
  }

  static RowCheck wrongLength(String name, Column array, int expected) {
    return new RowCheck(
        size(array).notEqual(expected),
        RejectReason.WRONG_LENGTH,
        concat(
            lit("column '" + name + "' has "),
            size(array).cast("string"),
            lit(" elements, expected " + expected)));
  }

  private static RowCheck nonFinite(String name) {
    Column c = column(name);
    return new RowCheck(
        isnan(c)
            .or(c.equalTo(lit(Double.POSITIVE_INFINITY)))
            .or(c.equalTo(lit(Double.NEGATIVE_INFINITY))),
        RejectReason.NON_FINITE,
        lit("column '" + name + "' is NaN or infinite"));
  }

  static boolean isFloating(DataType t) {
    return t.equals(DataTypes.DoubleType) || t.equals(DataTypes.FloatType);
  }

  static boolean isNumeric(DataType t) {
    return NUMERIC.contains(typeName(t));
  }

  /**
   * Folds checks into two columns, reason and message, taking the first failing check in order; a
   * check's condition is null-safe (a null condition does not fail the row). The position of the
   * failing check is computed once, in a column of its own, and both columns are read from it:
   * written as two chains of conditions, Spark would evaluate most checks twice per row.
   */
  static Dataset<Row> applyChecks(
      Dataset<Row> df, List<RowCheck> checks, String reasonCol, String messageCol) {
    if (checks.isEmpty()) {
      return df.withColumn(reasonCol, lit(null).cast("string"))
          .withColumn(messageCol, lit(null).cast("string"));
    }
    Column failedCheck = null;
    for (int i = 0; i < checks.size(); i++) {
      Column failed = checks.get(i).failed().eqNullSafe(lit(true));
      failedCheck = failedCheck == null ? when(failed, lit(i)) : failedCheck.when(failed, lit(i));
    }
    Column reason = null;
    Column message = null;
    for (int i = 0; i < checks.size(); i++) {
      Column isFailed = col(FAILED_CHECK).equalTo(lit(i));
      RowCheck c = checks.get(i);
      reason =
          reason == null
              ? when(isFailed, lit(c.reason().name()))
              : reason.when(isFailed, lit(c.reason().name()));
      message = message == null ? when(isFailed, c.message()) : message.when(isFailed, c.message());
    }
    Map<String, Column> verdict = new java.util.LinkedHashMap<>();
    verdict.put(reasonCol, reason);
    verdict.put(messageCol, message);
    return df.withColumn(FAILED_CHECK, failedCheck).withColumns(verdict).drop(FAILED_CHECK);
  }
}
