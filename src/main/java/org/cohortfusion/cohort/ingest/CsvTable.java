package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.config.ModalityConfig;

/**
 * A CSV table read as data engineers receive it. Every cell is read as text first, so that no cell
 * decides a column's type by itself: ids stay text ({@code 01005} is not {@code 1005}); the table's
 * null tokens ({@code NA}, {@code NaN}, ...) are missing values; a column is numeric when more than
 * half of its non-missing cells are numbers (any, for a table whose features must be numeric), and
 * its other cells reject their rows as {@link RejectReason#NON_NUMERIC}; a record whose field count
 * differs from the header's, or with an unbalanced quote, is rejected as {@link
 * RejectReason#MALFORMED_RECORD}, never padded or cut. {@value TableSource#ROW_ORDER} is the line
 * in the file, which messages report.
 */
final class CsvTable {
  static final String REASON = "_csv_reason";
  static final String MESSAGE = "_csv_message";
  private static final String CORRUPT = "_corrupt_record";
  private static final String BLOCK_START = "_block_start";
  private static final String INTEGRAL = "^\\s*[+-]?[0-9]{1,18}\\s*$";

  /**
   * How a table's cells are typed: {@code nullValues} are missing; {@code categorical} columns stay
   * text; with {@code featuresNumeric} (time series, vectors) a column is numeric as soon as one
   * cell is a number.
   */
  record Rules(
      List<String> nullValues, Set<String> categorical, boolean featuresNumeric, boolean packWide) {
    static final Rules DEFAULT =
        new Rules(ModalityConfig.DEFAULT_NULL_VALUES, Set.of(), false, false);

    Rules(List<String> nullValues, Set<String> categorical, boolean featuresNumeric) {
      this(nullValues, categorical, featuresNumeric, false);
    }
  }

  private CsvTable() {}

  /** The header line's column names, every column text; null for an empty file. */
  static StructType header(Configuration conf, FileStatus status) {
    org.apache.hadoop.fs.Path path = status.getPath();
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(path.getFileSystem(conf).open(path), StandardCharsets.UTF_8))) {
      String line = in.readLine();
      if (line == null) {
        return null;
      }
      StructType schema = new StructType();
      for (String name : splitHeader(line.startsWith("\uFEFF") ? line.substring(1) : line)) {
        schema = schema.add(name, DataTypes.StringType);
      }
      return schema;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the header line of " + path, e);
    }
  }

  /**
   * Splits a header line at commas outside double quotes; a doubled quote inside quotes is one
   * quote.
   */
  static List<String> splitHeader(String line) {
    List<String> names = new ArrayList<>();
    StringBuilder name = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"') {
        if (quoted && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          name.append('"');
          i++;
        } else {
          quoted = !quoted;
        }
      } else if (c == ',' && !quoted) {
        names.add(name.toString());
        name.setLength(0);
      } else {
        name.append(c);
      }
    }
    names.add(name.toString());
    return names;
  }

  /** Ids are text whatever they look like: a number would lose leading zeros. */
  static boolean isId(String column) {
    String lower = column.toLowerCase(Locale.ROOT);
    return lower.equals("id") || lower.endsWith("_id");
  }

  /**
   * Reads the files as text, then types them (one small job counts each column's numeric cells),
   * with {@value #REASON} and {@value #MESSAGE} set on malformed records and non-numeric cells.
   */
  static Dataset<Row> read(SparkSession spark, String table, TableSource.Files files, Rules rules) {
    if (rules.packWide()) {
      return readWide(spark, files, rules);
    }
    StructType text = files.schema().add(CORRUPT, DataTypes.StringType);
    Dataset<Row> cells =
        spark
            .read()
            .schema(text)
            .option("header", "true")
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT)
            .csv(files.readable().toArray(String[]::new))
            .withColumn(TableSource.SOURCE_FILE, col("_metadata.file_path"))
            .withColumn(BLOCK_START, col("_metadata.file_block_start"));
    cells = withLineNumbers(cells, 2); // line 1 is the header, which the reader skips
    Column malformed = col(CORRUPT).isNotNull();
    Map<String, Column> cleaned = new LinkedHashMap<>();
    for (String name : files.schema().fieldNames()) {
      Column c = TableValidator.column(name);
      cleaned.put(
          name,
          when(trim(c).isin(rules.nullValues().toArray()), lit(null).cast("string")).otherwise(c));
    }
    cells = cells.withColumns(cleaned);

    List<String> candidates = new ArrayList<>();
    for (String name : files.schema().fieldNames()) {
      if (!isId(name) && !rules.categorical().contains(name)) {
        candidates.add(name);
      }
    }
    Map<String, String> types = new LinkedHashMap<>();
    Map<String, Long> nonNumericCells = new LinkedHashMap<>();
    if (!candidates.isEmpty()) {
      List<Column> aggregates = new ArrayList<>();
      for (String name : candidates) {
        Column c = TableValidator.column(name);
        aggregates.add(count(c));
        aggregates.add(count(when(c.cast("double").isNotNull(), lit(1))));
        aggregates.add(count(when(c.rlike(INTEGRAL), lit(1))));
      }
      Row counts =
          cells
              .filter(malformed.unary_$bang())
              .agg(
                  aggregates.get(0),
                  aggregates.subList(1, aggregates.size()).toArray(Column[]::new))
              .first();
      for (int i = 0; i < candidates.size(); i++) {
        long present = counts.getLong(3 * i);
        long numeric = counts.getLong(3 * i + 1);
        long integral = counts.getLong(3 * i + 2);
        boolean isNumeric = numeric > 0 && (rules.featuresNumeric() || 2 * numeric > present);
        if (isNumeric) {
          types.put(candidates.get(i), integral == numeric ? "bigint" : "double");
          nonNumericCells.put(candidates.get(i), present - numeric);
        }
      }
    }
    Column reason = when(malformed, lit(RejectReason.MALFORMED_RECORD.name()));
    Column message =
        when(
            malformed,
            org.apache.spark.sql.functions.concat(
                lit("malformed csv record at line "),
                col(TableSource.ROW_ORDER).cast("string"),
                lit(
                    ": its field count differs from the header's "
                        + files.schema().size()
                        + " or a quote is not closed")));
    Map<String, Column> typed = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : types.entrySet()) {
      Column c = TableValidator.column(e.getKey());
      Column notNumber = c.isNotNull().and(c.cast("double").isNull());
      if (nonNumericCells.get(e.getKey()) > 0) {
        reason = reason.when(notNumber, lit(RejectReason.NON_NUMERIC.name()));
        message =
            message.when(
                notNumber,
                org.apache.spark.sql.functions.concat(
                    lit("column '" + e.getKey() + "' is not a number at line "),
                    col(TableSource.ROW_ORDER).cast("string"),
                    lit(
                        " ("
                            + nonNumericCells.get(e.getKey())
                            + " such cells in the table's "
                            + "numeric column; declare it categorical, or its token in null-values, to keep them)")));
      }
      typed.put(
          e.getKey(),
          when(notNumber, lit(null)).otherwise(c.cast(e.getValue())).cast(e.getValue()));
    }
    Map<String, Column> verdict = new LinkedHashMap<>();
    verdict.put(REASON, reason);
    verdict.put(MESSAGE, message);
    // The verdict first: it reads the cells as text. The raw record never leaves this method.
    return cells.withColumns(verdict).withColumns(typed).drop(CORRUPT, BLOCK_START);
  }

  /**
   * Right after the scan, before any filter: the counter numbers the rows in the order it reads
   * them, a file's first row {@code firstLine}.
   */
  private static Dataset<Row> withLineNumbers(Dataset<Row> cells, long firstLine) {
    Column line =
        org.apache
            .spark
            .sql
            .functions
            .udf(new LineNumber(firstLine), DataTypes.LongType)
            .asNondeterministic()
            .apply(col(TableSource.SOURCE_FILE), col(BLOCK_START));
    return cells.withColumn(TableSource.ROW_ORDER, line);
  }

  /**
   * A vector table's wide columns ({@link WideColumns#ofCsvHeader}) as one {@code values} array of
   * doubles, typed with one pass over the elements: the first cell that is not a number rejects the
   * row as NON_NUMERIC, naming its column.
   *
   * <p>The files are read as lines and each line parsed into arrays, so no plan ever holds a column
   * per feature: with Spark's CSV reader a 20,000-column schema made every plan of the table 20,000
   * attributes wide, and planning, not reading, took the time. A record is malformed when its field
   * count differs from the header's.
   */
  private static Dataset<Row> readWide(SparkSession spark, TableSource.Files files, Rules rules) {
    StructType header = files.schema();
    List<String> names = List.of(header.fieldNames());
    List<String> wide = WideColumns.ofCsvHeader(names);
    List<String> ids = names.stream().filter(CsvTable::isId).toList();
    Dataset<Row> lines =
        spark
            .read()
            .text(files.readable().toArray(String[]::new))
            .select(
                col("value"),
                col("_metadata.file_path").as(TableSource.SOURCE_FILE),
                col("_metadata.file_block_start").as(BLOCK_START));
    lines = withLineNumbers(lines, 1);
    // Line 1 of a file is its header; blank lines are no records (as Spark's CSV reader skips
    // them).
    lines =
        lines
            .where(col(TableSource.ROW_ORDER).notEqual(1).or(col(BLOCK_START).notEqual(0)))
            .where(org.apache.spark.sql.functions.length(trim(col("value"))).gt(0));
    StructType parsedType =
        new StructType()
            .add("malformed", DataTypes.BooleanType, false)
            .add("ids", DataTypes.createArrayType(DataTypes.StringType, true), false)
            .add("cells", DataTypes.createArrayType(DataTypes.StringType, true), false);
    Column parsed =
        org.apache
            .spark
            .sql
            .functions
            .udf(new WideRecord(names, ids), parsedType)
            .apply(col("value"));
    List<Column> narrow = new ArrayList<>();
    narrow.add(parsed.as("_parsed"));
    narrow.add(col(TableSource.SOURCE_FILE));
    narrow.add(col(TableSource.ROW_ORDER));
    Dataset<Row> cells = lines.select(narrow.toArray(Column[]::new));
    Column malformed = col("_parsed.malformed");
    Column nulls = lit(rules.nullValues().toArray(String[]::new));
    Column cleaned =
        org.apache.spark.sql.functions.transform(
            col("_parsed.cells"),
            x ->
                when(
                        org.apache.spark.sql.functions.array_contains(nulls, trim(x)),
                        lit(null).cast("string"))
                    .otherwise(x));
    Column firstNotNumber =
        org.apache.spark.sql.functions.array_position(
            org.apache.spark.sql.functions.transform(
                cleaned, x -> x.isNotNull().and(x.cast("double").isNull())),
            true);
    Column reason =
        when(malformed, lit(RejectReason.MALFORMED_RECORD.name()))
            .when(firstNotNumber.gt(0), lit(RejectReason.NON_NUMERIC.name()));
    Column message =
        when(
                malformed,
                org.apache.spark.sql.functions.concat(
                    lit("malformed csv record at line "),
                    col(TableSource.ROW_ORDER).cast("string"),
                    lit(
                        ": its field count differs from the header's "
                            + header.size()
                            + " or a quote is not closed")))
            .when(
                firstNotNumber.gt(0),
                org.apache.spark.sql.functions.concat(
                    lit("column '"),
                    WideColumns.nameAt(wide, firstNotNumber),
                    lit("' is not a number at line "),
                    col(TableSource.ROW_ORDER).cast("string"),
                    lit(" (declare its token in null-values to keep such cells as missing)")));
    List<Column> out = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      out.add(col("_parsed.ids").getItem(i).as(ids.get(i)));
    }
    out.add(org.apache.spark.sql.functions.transform(cleaned, x -> x.cast("double")).as("values"));
    out.add(col(TableSource.SOURCE_FILE));
    out.add(col(TableSource.ROW_ORDER));
    // The verdict reads the cells as text, which never leave this method.
    out.add(reason.as(REASON));
    out.add(message.as(MESSAGE));
    return cells.select(out.toArray(Column[]::new));
  }

  /**
   * One line of a wide CSV file parsed as Spark's CSV reader would (univocity, whitespace kept):
   * its id cells and its other cells, or malformed when its field count is not the header's. Holds
   * the parser, so one instance serves one task.
   */
  private static final class WideRecord implements org.apache.spark.sql.api.java.UDF1<String, Row> {
    private static final long serialVersionUID = 1L;
    private final int columns;
    private final int[] idPositions;
    private final int[] cellPositions;
    private transient com.univocity.parsers.csv.CsvParser parser;

    WideRecord(List<String> header, List<String> ids) {
      this.columns = header.size();
      this.idPositions = ids.stream().mapToInt(header::indexOf).toArray();
      this.cellPositions =
          java.util.stream.IntStream.range(0, header.size())
              .filter(i -> !ids.contains(header.get(i)))
              .toArray();
    }

    @Override
    public Row call(String line) {
      if (parser == null) {
        com.univocity.parsers.csv.CsvParserSettings settings =
            new com.univocity.parsers.csv.CsvParserSettings();
        settings.setIgnoreLeadingWhitespaces(false);
        settings.setIgnoreTrailingWhitespaces(false);
        settings.setMaxColumns(columns + 16);
        settings.setMaxCharsPerColumn(-1);
        settings.setNullValue(null);
        parser = new com.univocity.parsers.csv.CsvParser(settings);
      }
      String[] fields = parser.parseLine(line);
      String[] idCells = new String[idPositions.length];
      String[] cells = new String[cellPositions.length];
      boolean malformed = fields == null || fields.length != columns;
      // A malformed record keeps the ids it has, as Spark's permissive reader does, so its reject
      // names its subject.
      for (int i = 0; fields != null && i < idPositions.length; i++) {
        idCells[i] = idPositions[i] < fields.length ? fields[idPositions[i]] : null;
      }
      if (!malformed) {
        for (int i = 0; i < cellPositions.length; i++) {
          cells[i] = fields[cellPositions[i]];
        }
      }
      return org.apache.spark.sql.RowFactory.create(malformed, idCells, cells);
    }
  }

  /**
   * The CSV verdict of every row the mapping kept: carried by the sql itself ({@code SELECT *}), or
   * joined back by file and line. The sql must select {@value TableSource#SOURCE_FILE} and {@value
   * TableSource#ROW_ORDER}: without them a malformed record could pass, and no message could name
   * its line.
   */
  static Dataset<Row> carryVerdict(
      String table, String sqlKey, Dataset<Row> raw, Dataset<Row> mapped) {
    List<String> cols = List.of(mapped.columns());
    if (!cols.contains(TableSource.SOURCE_FILE) || !cols.contains(TableSource.ROW_ORDER)) {
      throw new IngestException(
          "Cannot apply the sql of table '"
              + table
              + "' (config key "
              + sqlKey
              + "): a csv table's sql must select "
              + TableSource.SOURCE_FILE
              + " and "
              + TableSource.ROW_ORDER
              + ", so that malformed records and non-numeric cells are rejected,"
              + " not passed, and messages give their lines");
    }
    if (cols.contains(REASON) && cols.contains(MESSAGE)) {
      return mapped;
    }
    Dataset<Row> flagged =
        raw.filter(col(REASON).isNotNull())
            .select(
                col(TableSource.SOURCE_FILE).as("_flagged_file"),
                col(TableSource.ROW_ORDER).as("_flagged_line"),
                col(REASON),
                col(MESSAGE));
    Column same =
        col(TableSource.SOURCE_FILE)
            .equalTo(col("_flagged_file"))
            .and(col(TableSource.ROW_ORDER).equalTo(col("_flagged_line")));
    return mapped.join(flagged, same, "left").drop("_flagged_file", "_flagged_line");
  }

  /**
   * The checks a CSV table adds before its contract's: malformed records, then non-numeric cells.
   */
  static List<RowCheck> checks(Dataset<Row> df) {
    if (!TableValidator.has(df, REASON)) {
      return List.of();
    }
    return List.of(
        new RowCheck(
            col(REASON).equalTo(RejectReason.MALFORMED_RECORD.name()),
            RejectReason.MALFORMED_RECORD,
            col(MESSAGE)),
        new RowCheck(
            col(REASON).equalTo(RejectReason.NON_NUMERIC.name()),
            RejectReason.NON_NUMERIC,
            col(MESSAGE)));
  }

  /**
   * The line of each row in its file: Spark reads a split's lines in order, one record per line,
   * skipping the header at the file's start. Rows of a split that does not start the file (files
   * larger than spark.sql.files.maxPartitionBytes) are numbered from the split's byte offset, an
   * order but not a line. Holds the current file, so one instance serves one task.
   */
  private static final class LineNumber
      implements org.apache.spark.sql.api.java.UDF2<String, Long, Long> {
    private static final long serialVersionUID = 1L;
    private final long firstLine;
    private transient String file;
    private transient long blockStart = -1;
    private transient long next;

    LineNumber(long firstLine) {
      this.firstLine = firstLine;
    }

    @Override
    public Long call(String path, Long start) {
      long s = start == null ? 0 : start;
      if (!path.equals(file) || s != blockStart) {
        file = path;
        blockStart = s;
        next = s == 0 ? firstLine : s;
      }
      return next++;
    }
  }
}
