package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.cohort.contract.Contracts;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.config.CheckPolicy;
import org.cohortfusion.config.ModalityConfig;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.TableFormat;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.ModalityKind;
import org.cohortfusion.stage.ModalitySpec;

/**
 * Turns every modality table of the config into plans: its checked rows, how they join the aligned
 * cohort ({@link ModalityJoin}), and the slim plan the rejects pass reads. Building the plans apart
 * from running them lets the driver plan the modalities while the subjects are counted, and plan
 * them again when duplicate subjects change the splits.
 */
final class ModalityPlanner {
  /** The accepted subjects' ids, under a name of their own so that they join without ambiguity. */
  static final String KNOWN_ID = "_known_id";

  private final SparkSession spark;
  private final PipelineConfig config;
  private final TrimmedIds trimmedIds;

  ModalityPlanner(SparkSession spark, PipelineConfig config, TrimmedIds trimmedIds) {
    this.spark = spark;
    this.config = config;
    this.trimmedIds = trimmedIds;
  }

  /**
   * The modalities as plans: their checked tables (for rejects), specs and joins, and the count of
   * each table's rows as read, in config order.
   */
  record PlannedModalities(
      List<CheckedTable> tables,
      List<ModalitySpec> specs,
      Map<String, ModalityJoin> joins,
      Map<String, RowsRead> rowsRead) {}

  /**
   * Plans every modality from its listed files: checks the schema against the contract and builds
   * the plans of its checked rows, its join and its rejects. Runs no job, but one per CSV table,
   * which counts the numeric cells of each column to type it ({@link CsvTable}), and one per
   * Parquet table of thousands of wide columns, which packs them ({@link
   * WideColumns#NARROW_PLAN_FROM}).
   */
  PlannedModalities plan(
      Dataset<Row> subjectsRaw,
      Dataset<Row> knownIds,
      Map<String, TableSource.Files> modalityFiles) {
    List<CheckedTable> tables = new ArrayList<>();
    List<ModalitySpec> specs = new ArrayList<>();
    Map<String, ModalityJoin> joins = new LinkedHashMap<>();
    Map<String, RowsRead> rowsRead = new LinkedHashMap<>();
    for (Map.Entry<String, ModalityConfig> e : config.modalities().entrySet()) {
      String name = e.getKey();
      ModalityConfig m = e.getValue();
      String path = config.resolve(m.path());
      TableSource.Files files = modalityFiles.get(name);
      Map<RejectReason, CheckPolicy> policies =
          IngestPolicy.policies("modalities." + name, m.checks());
      IngestPolicy.failOnUnreadable(name, files, policies);
      boolean numbersOnly = m.kind() == ModalityKind.TIMESERIES || m.kind() == ModalityKind.VECTOR;
      // A vector CSV without a 'values' column is wide columns: packed as read, unless a sql maps
      // them.
      boolean packWide =
          m.kind() == ModalityKind.VECTOR
              && files.format() == TableFormat.CSV
              && (m.sql() == null || m.sql().isBlank())
              && !List.of(files.schema().fieldNames()).contains("values");
      // A Parquet vector table of thousands of wide columns: packed in its first (and only wide)
      // plan.
      boolean packWideParquet =
          m.kind() == ModalityKind.VECTOR
              && files.format() == TableFormat.PARQUET
              && (m.sql() == null || m.sql().isBlank())
              && !List.of(files.schema().fieldNames()).contains("values")
              && files.schema().size() >= WideColumns.NARROW_PLAN_FROM;
      List<String> packed =
          packWide ? WideColumns.ofCsvHeader(List.of(files.schema().fieldNames())) : null;
      Dataset<Row> read;
      if (packWideParquet) {
        packed =
            TableValidator.checkSchema(
                name, path, files.readParquet(spark), Contracts.forKind(m.kind().configName()));
        read = WideColumns.readPackedParquet(spark, files, packed);
      } else {
        read =
            TableSource.read(
                spark,
                name,
                files,
                m.sql(),
                "modalities." + name + ".sql",
                new CsvTable.Rules(
                    m.nullValues(), Set.copyOf(m.categorical()), numbersOnly, packWide));
      }
      RowsRead counted = RowsRead.of(name, read);
      rowsRead.put(name, counted);
      Dataset<Row> raw = trimmedIds.apply(name, m.idWhitespace(), counted.rows());
      // What the files' schema guarantees holds for the table only as read, not after a SQL
      // mapping.
      Set<String> nonNullElements =
          m.sql() == null || m.sql().isBlank() ? files.nonNullElementArrays() : Set.of();
      ModalityPreparer.Prepared prepared =
          ModalityPreparer.prepare(
              name,
              m,
              path,
              raw,
              Contracts.forKind(m.kind().configName()),
              nonNullElements,
              packed);
      if (m.kind() == ModalityKind.TIMESERIES) {
        checkTimeUnits(name, raw, subjectsRaw);
      }
      // A CSV verdict first: a malformed record's other cells mean nothing.
      List<RowCheck> checks = new ArrayList<>(CsvTable.checks(prepared.rows()));
      checks.addAll(prepared.checks());
      Dataset<Row> checked =
          TableValidator.applyChecks(
              prepared.rows(), checks, CheckedTable.REASON, CheckedTable.MESSAGE);
      boolean timeSeries = m.kind() == ModalityKind.TIMESERIES;
      joins.put(
          name,
          timeSeries
              ? ModalityJoin.timeSeries(
                  name, m, prepared.spec(), checked, checks, Columns.INDEX_TIME)
              : ModalityJoin.perRow(name, m, checked, checks));
      // The same rules on the bookkeeping columns only (payloads pruned by Catalyst): what the
      // rejects pass and an error message read, without carrying arrays through the shuffles.
      Dataset<Row> slim = checked.select(bookkeepingColumns(m));
      Dataset<Row> rejectable =
          timeSeries
              ? ModalityJoin.TimeSeries.rejectedRows(slim, knownIds, KNOWN_ID, m)
              : resolveSubjects(slim, knownIds, m, name);
      tables.add(
          new CheckedTable(
              name, m.kind().configName(), path, files, rejectable, policies, m.duplicates()));
      specs.add(prepared.spec());
    }
    return new PlannedModalities(tables, specs, joins, rowsRead);
  }

  /**
   * Marks duplicates and rows of unknown subjects of a table with one row per subject, for the
   * rejects pass. Duplicates are marked first, so the one sort by subject_id that the duplicate
   * window needs also serves the join. Rows of an unknown subject are rejected as such, duplicate
   * or not: the rule {@link ModalityJoin} counts by.
   */
  private static Dataset<Row> resolveSubjects(
      Dataset<Row> checked, Dataset<Row> knownIds, ModalityConfig m, String name) {
    Dataset<Row> deduplicated =
        CheckedTable.markDuplicates(checked, m.keyColumns(), m.duplicates(), name);
    Dataset<Row> rows =
        deduplicated.join(
            knownIds, deduplicated.col(TableValidator.ID).equalTo(knownIds.col(KNOWN_ID)), "left");
    Column unknown =
        col(KNOWN_ID)
            .isNull()
            .and(
                CheckedTable.accepted()
                    .or(col(CheckedTable.REASON).equalTo(RejectReason.DUPLICATE.name())));
    return rows.withColumn(
            CheckedTable.MESSAGE,
            when(unknown, lit(ModalityJoin.UNKNOWN_SUBJECT_MESSAGE))
                .otherwise(col(CheckedTable.MESSAGE)))
        .withColumn(
            CheckedTable.REASON,
            when(unknown, lit(RejectReason.UNKNOWN_SUBJECT.name()))
                .otherwise(col(CheckedTable.REASON)));
  }

  /** The columns rejects, duplicate order and the index-time rule need; never a payload. */
  private static Column[] bookkeepingColumns(ModalityConfig m) {
    LinkedHashSet<String> cols =
        new LinkedHashSet<>(
            List.of(
                TableValidator.ID,
                TableSource.SOURCE_FILE,
                TableSource.ROW_ORDER,
                CheckedTable.REASON,
                CheckedTable.MESSAGE));
    cols.addAll(m.keyColumns());
    if (m.kind() == ModalityKind.TIMESERIES) {
      cols.addAll(List.of("time", TimeSeriesWindow.TIME));
    }
    m.duplicates().orderColumn().ifPresent(cols::add);
    return cols.stream().map(TableValidator::column).toArray(Column[]::new);
  }

  /** Time-series times and subjects' index times must both be calendar times or both numbers. */
  private static void checkTimeUnits(String name, Dataset<Row> ts, Dataset<Row> subjects) {
    if (!TableValidator.has(subjects, Columns.INDEX_TIME) || !TableValidator.has(ts, "time")) {
      return;
    }
    boolean tsCalendar = IngestTimes.isCalendar(ts.schema().apply("time").dataType());
    boolean subjectCalendar =
        IngestTimes.isCalendar(subjects.schema().apply(Columns.INDEX_TIME).dataType());
    if (tsCalendar != subjectCalendar) {
      throw new IngestException(
          "Cannot align table '"
              + name
              + "': column 'time' is "
              + TableValidator.typeName(ts.schema().apply("time").dataType())
              + " but subjects.index_time is "
              + TableValidator.typeName(subjects.schema().apply(Columns.INDEX_TIME).dataType())
              + "; both must be timestamps/dates or both numbers in one unit");
    }
  }
}
