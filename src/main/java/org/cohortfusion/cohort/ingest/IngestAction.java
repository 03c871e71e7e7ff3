package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.cohortfusion.cohort.CohortManifest;
import org.cohortfusion.cohort.ModalitySpec;
import org.cohortfusion.cohort.NormalizationStats;
import org.cohortfusion.cohort.QcReport;
import org.cohortfusion.cohort.contract.Contracts;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.config.CheckPolicy;
import org.cohortfusion.config.DuplicatePolicy;
import org.cohortfusion.config.ModalityConfig;
import org.cohortfusion.config.ModalityKind;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.BuildInfo;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.io.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.JavaConverters;

/**
 * The ingest stage as a Spark action: validates every table against its contract, aligns them by
 * subject (time series point-in-time), assigns splits, fits normalisation statistics on the train
 * split and publishes the cohort directory atomically. Nothing but aggregates reaches the driver.
 *
 * <pre>{@code
 * IngestResult result = IngestAction.of(spark, config).execute();
 * }</pre>
 */
public final class IngestAction {
  private static final Logger LOG = LoggerFactory.getLogger(IngestAction.class);
  private static final String AFTER = "_after_index";
  private static final String KNOWN_ID = "_known_id";

  private final SparkSession spark;
  private final PipelineConfig config;
  private final String outputDir;

  private IngestAction(SparkSession spark, PipelineConfig config, String outputDir) {
    this.spark = Objects.requireNonNull(spark, "spark");
    this.config = Objects.requireNonNull(config, "config");
    this.outputDir = outputDir;
  }

  public static IngestAction of(SparkSession spark, PipelineConfig config) {
    return new IngestAction(spark, config, config.cohortOutputDir());
  }

  /** Publishes the cohort at {@code dir} instead of {@code <output.dir>/cohort}. */
  public IngestAction outputDir(String dir) {
    return new IngestAction(spark, config, dir);
  }

  public IngestResult execute() {
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    List<CheckedTable> tables = new ArrayList<>();
    List<Dataset<Row>> persisted = new ArrayList<>();
    long start = System.nanoTime();
    try {
      // 1. Subjects.
      String subjectsPath = config.resolve(config.subjects().path());
      TableSource.Files subjectFiles = TableSource.list(hadoop, "subjects", subjectsPath, config.subjects().format());
      Map<RejectReason, CheckPolicy> subjectPolicies = policies("subjects", config.subjects().checks());
      failOnUnreadable("subjects", subjectFiles, subjectPolicies);
      Dataset<Row> subjectsRaw = SubjectsPreparer.withDerivedColumns(
          TableSource.read(spark, "subjects", subjectFiles, config.subjects().format(), config.subjects().sql()));
      List<RowCheck> subjectChecks = SubjectsPreparer.checks(config.subjects(), config.splits(), subjectsPath, subjectsRaw,
          Contracts.forKind("subjects"));
      Dataset<Row> subjects = CheckedTable.markDuplicates(
          TableValidator.applyChecks(subjectsRaw, subjectChecks, CheckedTable.REASON, CheckedTable.MESSAGE),
          List.of(TableValidator.ID), config.subjects().duplicates(), "subjects")
          .withColumn(AFTER, lit(false))
          .persist(StorageLevel.MEMORY_AND_DISK());
      persisted.add(subjects);
      CheckedTable subjectTable = new CheckedTable("subjects", "subjects", subjectsPath, subjectFiles, subjects, subjectPolicies,
          config.subjects().duplicates());
      tables.add(subjectTable);
      Dataset<Row> knownIds = subjects.filter(CheckedTable.accepted())
          .select(col(TableValidator.ID).as(KNOWN_ID), col(SubjectsPreparer.INDEX_TIME).as(TimeSeriesWindow.INDEX_TIME));

      // 2. Modalities: checks, unknown subjects, duplicates; then the per-subject payload.
      List<ModalitySpec> specs = new ArrayList<>();
      Map<String, Dataset<Row>> payloads = new LinkedHashMap<>();
      for (Map.Entry<String, ModalityConfig> e : config.modalities().entrySet()) {
        String name = e.getKey();
        ModalityConfig m = e.getValue();
        String path = config.resolve(m.path());
        TableSource.Files files = TableSource.list(hadoop, name, path, m.format());
        Map<RejectReason, CheckPolicy> policies = policies("modalities." + name, m.checks());
        failOnUnreadable(name, files, policies);
        Dataset<Row> raw = TableSource.read(spark, name, files, m.format(), m.sql());
        ModalityPreparer.Prepared prepared = ModalityPreparer.prepare(name, m, path, raw, Contracts.forKind(m.kind().configName()));
        if (m.kind() == ModalityKind.TIMESERIES) {
          checkTimeUnits(name, raw, subjectsRaw);
        }
        Dataset<Row> checked = TableValidator.applyChecks(prepared.rows(), prepared.checks(), CheckedTable.REASON, CheckedTable.MESSAGE);
        checked = checked.join(knownIds, checked.col(TableValidator.ID).equalTo(knownIds.col(KNOWN_ID)), "left");
        Column unknown = CheckedTable.accepted().and(col(KNOWN_ID).isNull());
        checked = checked
            .withColumn(CheckedTable.MESSAGE, when(unknown, lit("subject_id is not among the accepted subjects")).otherwise(col(CheckedTable.MESSAGE)))
            .withColumn(CheckedTable.REASON, when(unknown, lit(RejectReason.UNKNOWN_SUBJECT.name())).otherwise(col(CheckedTable.REASON)));
        checked = CheckedTable.markDuplicates(checked, m.keyColumns(), m.duplicates(), name);
        Column after = m.kind() == ModalityKind.TIMESERIES
            ? CheckedTable.accepted().and(col(TimeSeriesWindow.INDEX_TIME).isNotNull()).and(col(TimeSeriesWindow.TIME).gt(col(TimeSeriesWindow.INDEX_TIME)))
            : lit(false);
        // Persisted once, partitioned by subject_id by the duplicate window: counts, rejects and
        // the alignment join all read the cache (measured: re-reading cost 1.5x more at 100k subjects).
        checked = checked.withColumn(AFTER, coalesce(after, lit(false)));
        // Cache only what later steps read: the raw columns the payload was built from would double it.
        checked = checked.select(cachedColumns(m.kind(), prepared.spec()).stream().map(c -> col(c)).toArray(Column[]::new))
            .persist(StorageLevel.MEMORY_AND_DISK());
        persisted.add(checked);
        tables.add(new CheckedTable(name, m.kind().configName(), path, files, checked, policies, m.duplicates()));
        specs.add(prepared.spec());
        payloads.put(name, payload(name, m, prepared.spec(), checked));
      }

      step("read and checked " + tables.size() + " tables", start);
      // 3. Exact accounting, then stop on any check whose policy is error.
      Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
      Map<String, Long> afterIndex = new LinkedHashMap<>();
      for (CheckedTable t : tables) {
        Map<String, Long> byReason = new LinkedHashMap<>();
        long after = 0;
        for (Row r : t.rows().groupBy(col(CheckedTable.REASON), col(AFTER)).count().collectAsList()) {
          String reason = r.isNullAt(0) ? "ACCEPTED" : r.getString(0);
          byReason.merge(reason, r.getLong(2), Long::sum);
          if (r.isNullAt(0) && r.getBoolean(1)) {
            after += r.getLong(2);
          }
        }
        counts.put(t.name(), byReason);
        afterIndex.put(t.name(), after);
        failOnErrorPolicies(t, byReason);
      }

      step("counted rows by reason", start);
      // 4. Align: accepted subjects (splits assigned on this slim table, before any payload joins
      // in), one column group per modality, presence mask.
      List<String> classes = SubjectsPreparer.classes(config.subjects(), subjects, subjectsPath);
      Dataset<Row> base = SplitAssigner.assign(alignedBase(subjects, classes), config.splits());
      Dataset<Row> aligned = base;
      for (ModalitySpec spec : specs) {
        aligned = aligned.join(payloads.get(spec.name()), seq(TableValidator.ID), "left")
            .withColumn(spec.presenceColumn(), col(spec.name()).isNotNull());
      }
      Column anyPresent = specs.stream().map(s -> col(s.presenceColumn())).reduce(Column::or).orElseThrow();
      Dataset<Row> cohort = orderColumns(aligned.filter(anyPresent), specs);
      String fingerprint = Hashing.sha256(tables.stream().map(t -> t.files().fingerprint()).reduce("", String::concat));

      // 5. Publish atomically. The aligned table is written first and then read back (column-pruned)
      // for everything that summarises it: the output itself is the cache.
      IngestResult result = AtomicDirectory.write(hadoop, outputDir, tmp -> {
        String alignedDir = tmp + "/" + CohortManifest.ALIGNED;
        cohort.write().parquet(alignedDir);
        step("aligned " + specs.size() + " modalities and wrote the cohort", start);
        Dataset<Row> written = spark.read().parquet(alignedDir);
        Dataset<Row> noModality = base.join(written.select(TableValidator.ID), seq(TableValidator.ID), "left_anti");
        long noModalityCount = noModality.count();
        if (noModalityCount > 0) {
          counts.get("subjects").merge(RejectReason.NO_MODALITY.name(), noModalityCount, Long::sum);
          counts.get("subjects").merge("ACCEPTED", -noModalityCount, Long::sum);
          if (subjectPolicies.get(RejectReason.NO_MODALITY) == CheckPolicy.ERROR) {
            throw new IngestException("Cannot ingest table 'subjects' (" + subjectsPath + "): " + noModalityCount
                + " subjects have no accepted row in any modality (check no-modality = error)");
          }
        }
        Dataset<Row> noModalityRejects = noModality.select(
            lit("subjects").as("source_table"), col(TableSource.SOURCE_FILE).as("source_file"), col(TableValidator.ID).as("row_key"),
            lit(RejectReason.NO_MODALITY.name()).as("reason"), lit("no accepted row in any modality (at or before index_time)").as("message"));
        rejects(tables).unionByName(noModalityRejects).write().parquet(tmp + "/" + CohortManifest.REJECTS);
        NormalizationStats stats = NormalizationStatistics.fit(written.filter(col("split").equalTo("train")), specs, config.modalities());
        QcReport qc = qcReport(tables, counts, afterIndex, written, specs, classes);
        step("fitted train-split statistics and QC", start);
        String summary = QcSummary.render(qc);
        CohortManifest manifest = new CohortManifest(config.name(), specs, classes, qc.subjectsAligned(), fingerprint,
            BuildInfo.version(), Instant.now().toString(), configAsMap());
        Json.write(hadoop, tmp + "/" + CohortManifest.STATS, stats);
        Json.write(hadoop, tmp + "/" + CohortManifest.QC_JSON, qc);
        Json.writeText(hadoop, tmp + "/" + CohortManifest.QC_TEXT, summary);
        Json.write(hadoop, tmp + "/" + CohortManifest.FILE, manifest);
        return new IngestResult(outputDir, manifest, qc, summary);
      });
      LOG.info("Ingested cohort '{}': {} subjects aligned, written to {}", config.name(), result.qc().subjectsAligned(), outputDir);
      return result;
    } finally {
      persisted.forEach(Dataset::unpersist);
    }
  }

  private static void step(String what, long start) {
    LOG.info("ingest: {} ({} s)", what, String.format("%.1f", (System.nanoTime() - start) / 1e9));
  }

  private Map<RejectReason, CheckPolicy> policies(String key, Map<String, CheckPolicy> overrides) {
    Map<RejectReason, CheckPolicy> p = new EnumMap<>(RejectReason.class);
    for (RejectReason r : RejectReason.values()) {
      p.put(r, r.defaultPolicy());
    }
    for (Map.Entry<String, CheckPolicy> o : overrides.entrySet()) {
      RejectReason r = RejectReason.forCheck(o.getKey());
      if (r == null || r == RejectReason.DUPLICATE) {
        throw new IngestException("Cannot use config key '" + key + ".checks." + o.getKey() + "': unknown check; expected one of "
            + java.util.Arrays.stream(RejectReason.values()).filter(x -> x != RejectReason.DUPLICATE).map(RejectReason::check).toList()
            + " (duplicates have their own key, " + key + ".duplicates)");
      }
      p.put(r, o.getValue());
    }
    return p;
  }

  private static void failOnUnreadable(String table, TableSource.Files files, Map<RejectReason, CheckPolicy> policies) {
    if (!files.unreadable().isEmpty() && policies.get(RejectReason.UNREADABLE_FILE) == CheckPolicy.ERROR) {
      throw new IngestException("Cannot read table '" + table + "': " + files.unreadable().size() + " unreadable file(s), first "
          + files.unreadable().get(0) + " (set checks.unreadable-file = reject to set them apart and go on)");
    }
  }

  private static void failOnErrorPolicies(CheckedTable t, Map<String, Long> byReason) {
    for (Map.Entry<String, Long> e : byReason.entrySet()) {
      if (e.getKey().equals("ACCEPTED")) {
        continue;
      }
      RejectReason reason = RejectReason.valueOf(e.getKey());
      boolean error = reason == RejectReason.DUPLICATE
          ? t.duplicates().mode() == DuplicatePolicy.Mode.ERROR
          : t.policies().get(reason) == CheckPolicy.ERROR;
      if (!error) {
        continue;
      }
      Row first = t.rows().filter(col(CheckedTable.REASON).equalTo(reason.name()))
          .select(TableSource.SOURCE_FILE, TableSource.ROW_ORDER, CheckedTable.MESSAGE)
          .orderBy(TableSource.SOURCE_FILE, TableSource.ROW_ORDER).first();
      String key = t.name().equals("subjects") ? "subjects" : "modalities." + t.name();
      String fix = reason == RejectReason.DUPLICATE
          ? "set " + key + ".duplicates = first or latest:<column> to keep one row per key"
          : "set " + key + ".checks." + reason.check() + " = reject to write such rows to rejects";
      throw new IngestException("Cannot ingest table '" + t.name() + "': " + e.getValue() + " row(s) fail check '" + reason.check()
          + "' (" + reason.name() + "), first in file " + first.get(0) + " at row " + first.get(1) + ": " + first.get(2) + "; " + fix);
    }
  }

  /** Time-series times and subjects' index times must both be calendar times or both numbers. */
  private static void checkTimeUnits(String name, Dataset<Row> ts, Dataset<Row> subjects) {
    if (!TableValidator.has(subjects, "index_time") || !TableValidator.has(ts, "time")) {
      return;
    }
    boolean tsCalendar = IngestTimes.isCalendar(ts.schema().apply("time").dataType());
    boolean subjectCalendar = IngestTimes.isCalendar(subjects.schema().apply("index_time").dataType());
    if (tsCalendar != subjectCalendar) {
      throw new IngestException("Cannot align table '" + name + "': column 'time' is " + TableValidator.typeName(ts.schema().apply("time").dataType())
          + " but subjects.index_time is " + TableValidator.typeName(subjects.schema().apply("index_time").dataType())
          + "; both must be timestamps/dates or both numbers in one unit");
    }
  }

  private static List<String> cachedColumns(ModalityKind kind, ModalitySpec spec) {
    List<String> cols = new ArrayList<>(List.of(TableValidator.ID, TableSource.SOURCE_FILE, TableSource.ROW_ORDER,
        CheckedTable.REASON, CheckedTable.MESSAGE, AFTER));
    if (kind == ModalityKind.TIMESERIES) {
      cols.addAll(List.of("time", TimeSeriesWindow.TIME, TimeSeriesWindow.INDEX_TIME));
      cols.addAll(spec.channels());
    } else {
      cols.add(ModalityPreparer.PAYLOAD);
    }
    return cols;
  }

  private static Dataset<Row> payload(String name, ModalityConfig m, ModalitySpec spec, Dataset<Row> checked) {
    Dataset<Row> used = checked.filter(CheckedTable.accepted().and(col(AFTER).unary_$bang()));
    if (m.kind() != ModalityKind.TIMESERIES) {
      return used.select(col(TableValidator.ID), col(ModalityPreparer.PAYLOAD).as(name));
    }
    List<String> channels = spec.channels();
    return m.binWidth() == null
        ? TimeSeriesWindow.lastSteps(used, channels, m.steps(), name)
        : TimeSeriesWindow.timeBins(used, channels, m.steps(), m.binWidth(), name);
  }

  private static Dataset<Row> alignedBase(Dataset<Row> subjects, List<String> classes) {
    List<Column> cols = new ArrayList<>();
    cols.add(col(TableValidator.ID));
    cols.add(SubjectsPreparer.labelIndex(classes).as("label"));
    cols.add(col(SubjectsPreparer.INDEX_TIME).as("index_time"));
    if (TableValidator.has(subjects, "split")) {
      cols.add(col("split"));
    }
    cols.add(TableValidator.has(subjects, "group") ? col("group").cast("string").as("group") : lit(null).cast("string").as("group"));
    if (TableValidator.has(subjects, "true_probability")) {
      cols.add(col("true_probability").cast("double").as("true_probability"));
    }
    cols.add(col(TableSource.SOURCE_FILE));
    return subjects.filter(CheckedTable.accepted()).select(cols.toArray(Column[]::new));
  }

  private static Dataset<Row> orderColumns(Dataset<Row> cohort, List<ModalitySpec> specs) {
    List<String> order = new ArrayList<>(List.of(TableValidator.ID, "label", "index_time", "split", "fold", "group"));
    if (TableValidator.has(cohort, "true_probability")) {
      order.add("true_probability");
    }
    specs.forEach(s -> order.add(s.presenceColumn()));
    specs.forEach(s -> order.add(s.name()));
    return cohort.select(order.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new));
  }

  private static Dataset<Row> rejects(List<CheckedTable> tables) {
    Dataset<Row> all = null;
    for (CheckedTable t : tables) {
      Column key = t.kind().equals("timeseries")
          ? concat_ws("@", col(TableValidator.ID), col("time").cast("string"))
          : col(TableValidator.ID);
      Dataset<Row> r = t.rows().filter(CheckedTable.accepted().unary_$bang()).select(
          lit(t.name()).as("source_table"), col(TableSource.SOURCE_FILE).as("source_file"), key.as("row_key"),
          col(CheckedTable.REASON).as("reason"), col(CheckedTable.MESSAGE).as("message"));
      for (String file : t.files().unreadable()) {
        r = r.unionByName(t.rows().sparkSession().sql("SELECT 1").select(lit(t.name()).as("source_table"), lit(file).as("source_file"),
            lit(null).cast("string").as("row_key"), lit(RejectReason.UNREADABLE_FILE.name()).as("reason"),
            lit("file is not readable as " + (t.path().endsWith(".csv") ? "csv" : "the declared format")).as("message")));
      }
      all = all == null ? r : all.unionByName(r);
    }
    return all;
  }

  private QcReport qcReport(List<CheckedTable> tables, Map<String, Map<String, Long>> counts, Map<String, Long> afterIndex,
      Dataset<Row> cohort, List<ModalitySpec> specs, List<String> classes) {
    Map<String, Long> patterns = new java.util.TreeMap<>();
    Map<String, Long> present = new LinkedHashMap<>();
    Column[] has = specs.stream().map(s -> col(s.presenceColumn())).toArray(Column[]::new);
    long total = 0;
    for (Row r : cohort.groupBy(has).count().collectAsList()) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < specs.size(); i++) {
        if (r.getBoolean(i)) {
          names.add(specs.get(i).name());
          present.merge(specs.get(i).name(), r.getLong(specs.size()), Long::sum);
        }
      }
      patterns.put(String.join("+", names), r.getLong(specs.size()));
      total += r.getLong(specs.size());
    }
    Map<String, Map<String, Long>> balance = new java.util.TreeMap<>();
    Map<String, Long> splitCounts = new java.util.TreeMap<>();
    for (Row r : cohort.groupBy("split", "label").count().collectAsList()) {
      String label = r.isNullAt(1) ? "unlabeled" : classes.get(r.getInt(1));
      balance.computeIfAbsent(r.getString(0), k -> new java.util.TreeMap<>()).put(label, r.getLong(2));
      splitCounts.merge(r.getString(0), r.getLong(2), Long::sum);
    }
    Map<String, QcReport.TableQc> tableQc = new LinkedHashMap<>();
    for (CheckedTable t : tables) {
      Map<String, Long> byReason = new java.util.TreeMap<>(counts.get(t.name()));
      long accepted = byReason.getOrDefault("ACCEPTED", 0L);
      byReason.remove("ACCEPTED");
      long rowsIn = accepted + byReason.values().stream().mapToLong(Long::longValue).sum();
      tableQc.put(t.name(), new QcReport.TableQc(t.kind(), t.files().readable().size(), t.files().unreadable().size(), rowsIn, accepted,
          byReason, afterIndex.getOrDefault(t.name(), 0L), t.name().equals("subjects") ? total : present.getOrDefault(t.name(), 0L)));
    }
    return new QcReport(config.name(), tableQc, total, patterns, balance, splitCounts);
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> configAsMap() {
    return Json.MAPPER.convertValue(config, Map.class);
  }

  private static scala.collection.Seq<String> seq(String... names) {
    return JavaConverters.asScalaBuffer(List.of(names)).toSeq();
  }

}
