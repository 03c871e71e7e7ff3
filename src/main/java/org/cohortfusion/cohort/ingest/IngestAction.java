package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.cohort.contract.Contracts;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.config.CheckPolicy;
import org.cohortfusion.config.ModalityConfig;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.BuildInfo;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.io.Json;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.ModalityKind;
import org.cohortfusion.stage.ModalitySpec;
import org.cohortfusion.stage.QcReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest stage as a Spark action: validates every table against its contract, aligns them by
 * subject (time series point-in-time), assigns splits and publishes the cohort directory atomically
 * (normalisation statistics are fitted by pretrain, on the train split). Nothing but aggregates
 * reaches the driver.
 *
 * <pre>{@code
 * IngestResult result = IngestAction.of(spark, config).execute();
 * }</pre>
 */
public final class IngestAction {
  private static final Logger LOG = LoggerFactory.getLogger(IngestAction.class);
  private static final String ACCEPTED = "ACCEPTED";

  private final SparkSession spark;
  private final PipelineConfig config;
  private final String outputDir;
  private final boolean allowEmpty;
  private final long inputBytesPerShufflePartition;

  private IngestAction(
      SparkSession spark,
      PipelineConfig config,
      String outputDir,
      boolean allowEmpty,
      long inputBytesPerShufflePartition) {
    this.spark = Objects.requireNonNull(spark, "spark");
    this.config = Objects.requireNonNull(config, "config");
    this.outputDir = outputDir;
    this.allowEmpty = allowEmpty;
    this.inputBytesPerShufflePartition = inputBytesPerShufflePartition;
  }

  public static IngestAction of(SparkSession spark, PipelineConfig config) {
    return new IngestAction(
        spark,
        config,
        config.cohortOutputDir(),
        config.output().allowEmpty(),
        AlignedWriter.INPUT_BYTES_PER_SHUFFLE_PARTITION);
  }

  /** Publishes the cohort at {@code dir} instead of {@code <output.dir>/cohort}. */
  public IngestAction outputDir(String dir) {
    return new IngestAction(spark, config, dir, allowEmpty, inputBytesPerShufflePartition);
  }

  /**
   * Publishes a cohort without any labeled subject too (output.allow-empty, ingest --allow-empty).
   */
  public IngestAction allowEmpty(boolean allow) {
    return new IngestAction(
        spark, config, outputDir, allowEmpty || allow, inputBytesPerShufflePartition);
  }

  /**
   * Input bytes per shuffle partition of the aligned write ({@link
   * AlignedWriter#INPUT_BYTES_PER_SHUFFLE_PARTITION} by default), so that a test's small cohort can
   * need more partitions than its session has.
   */
  IngestAction inputBytesPerShufflePartition(long bytes) {
    return new IngestAction(spark, config, outputDir, allowEmpty, bytes);
  }

  /**
   * Runs ingest in one pass over the modality tables: the aligned write also counts every table's
   * rows by reason through observed metrics ({@link Observation}; see {@link ModalityJoin}), so no
   * modality table is scanned twice on a clean cohort, and nothing is cached. The subjects table is
   * read a few times (it is slim): for its counts, classes and split cuts, and in the aligned
   * write. Each modality is joined once, by a left join from the accepted subjects; time series are
   * grouped per subject before that join's shuffle. Only a table that has rejected rows is read a
   * second time, slimmed to its bookkeeping columns, to write those rows to rejects. A check with
   * policy error therefore stops the run after the aligned table was written into the temporary
   * directory, which {@link AtomicDirectory} then discards: nothing is published.
   */
  public IngestResult execute() {
    // A CSV record's field count is checked only over the columns Spark parses: with pruning, a
    // record with too few fields would pass when the missing ones are not read.
    return SessionConf.with(
        spark,
        Map.of("spark.sql.csv.parser.columnPruning.enabled", "false"),
        () -> {
          Set<String> corrupt = new HashSet<>();
          while (true) {
            try {
              return executeOnce(Set.copyOf(corrupt));
            } catch (RuntimeException e) {
              // A file whose footer reads but whose data pages do not fails only once Spark reads
              // it,
              // in a job: it then falls under checks.unreadable-file, and the run starts over
              // without it.
              Optional<String> file = CorruptFiles.find(spark, config, e, corrupt);
              if (file.isEmpty()) {
                throw e;
              }
              corrupt.add(file.get());
              LOG.warn(
                  "ingest: a file of the input cannot be read past its footer; starting over with it set apart as unreadable");
            }
          }
        });
  }

  private IngestResult executeOnce(Set<String> corruptFiles) {
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    // Small jobs that mostly wait on Spark's scheduling run beside the main line of work.
    SideJobs background = new SideJobs(spark);
    TrimmedIds trimmedIds = new TrimmedIds();
    ModalityPlanner planner = new ModalityPlanner(spark, config, trimmedIds);
    AlignedWriter writer = new AlignedWriter(spark, config.splits(), inputBytesPerShufflePartition);
    List<Dataset<Row>> cached = new ArrayList<>();
    long start = System.nanoTime();
    Instant runStart = Instant.now();
    // Before any table is read: a run that cannot publish should not spend an hour finding out.
    WritableOutput.check(hadoop, outputDir);
    int stale = AtomicDirectory.removeStale(hadoop, outputDir, runStart);
    if (stale > 0) {
      LOG.info(
          "ingest: removed {} stale temporary director{} of {} left by runs that did not finish",
          stale,
          stale == 1 ? "y" : "ies",
          outputDir);
    }
    try {
      // 1. Subjects: slim, counted and checked before any modality is read.
      String subjectsPath = config.resolve(config.subjects().path());
      IngestPolicy.checkCsvOnlyKeys(
          "subjects",
          config.subjects().format(),
          config.subjects().nullValues(),
          config.subjects().schemaMerge());
      TableSource.Files subjectFiles =
          TableSource.list(
              hadoop,
              "subjects",
              subjectsPath,
              config.subjects().format(),
              config.subjects().schemaMerge(),
              corruptFiles);
      // Every table's files and schemas before any job: files that disagree stop the run here.
      Map<String, TableSource.Files> modalityFiles = new LinkedHashMap<>();
      for (Map.Entry<String, ModalityConfig> e : config.modalities().entrySet()) {
        IngestPolicy.checkCsvOnlyKeys(
            "modalities." + e.getKey(),
            e.getValue().format(),
            e.getValue().nullValues(),
            e.getValue().schemaMerge());
        modalityFiles.put(
            e.getKey(),
            TableSource.list(
                    hadoop,
                    e.getKey(),
                    config.resolve(e.getValue().path()),
                    e.getValue().format(),
                    e.getValue().schemaMerge(),
                    corruptFiles)
                .withIdColumn(
                    e.getKey(),
                    "modalities." + e.getKey() + ".id-column",
                    e.getValue().idColumn()));
      }
      long inputBytes =
          subjectFiles.totalBytes()
              + modalityFiles.values().stream().mapToLong(TableSource.Files::totalBytes).sum();
      Map<RejectReason, CheckPolicy> subjectPolicies =
          IngestPolicy.policies("subjects", config.subjects().checks());
      IngestPolicy.failOnUnreadable("subjects", subjectFiles, subjectPolicies);
      RowsRead subjectsRead =
          RowsRead.of(
              "subjects",
              TableSource.read(
                  spark,
                  "subjects",
                  subjectFiles,
                  config.subjects().sql(),
                  "subjects.sql",
                  new CsvTable.Rules(config.subjects().nullValues(), Set.of(), false)));
      Dataset<Row> subjectsRaw =
          SubjectsPreparer.withDerivedColumns(
              trimmedIds.apply("subjects", config.subjects().idWhitespace(), subjectsRead.rows()),
              subjectsPath,
              Contracts.forKind("subjects"));
      List<String> timeSeries =
          config.modalities().entrySet().stream()
              .filter(e -> e.getValue().kind() == ModalityKind.TIMESERIES)
              .map(Map.Entry::getKey)
              .toList();
      List<RowCheck> subjectChecks = new ArrayList<>(CsvTable.checks(subjectsRaw));
      subjectChecks.addAll(
          SubjectsPreparer.checks(
              config.subjects(),
              config.splits(),
              subjectsPath,
              subjectsRaw,
              Contracts.forKind("subjects"),
              timeSeries));
      Dataset<Row> checkedSubjects =
          TableValidator.applyChecks(
              subjectsRaw, subjectChecks, CheckedTable.REASON, CheckedTable.MESSAGE);
      // Duplicates are marked, for the rejects, by a window partitioned by subject_id. The aligned
      // write keeps the same row of each subject without the window, in the shuffle and sort by
      // subject_id that its joins need anyway.
      Dataset<Row> subjects =
          CheckedTable.markDuplicates(
              checkedSubjects,
              List.of(TableValidator.ID),
              config.subjects().duplicates(),
              "subjects");
      Dataset<Row> subjectsKept =
          CheckedTable.firstAcceptedPerSubject(
              checkedSubjects, config.subjects().duplicates(), "subjects");
      CheckedTable subjectTable =
          new CheckedTable(
              "subjects",
              "subjects",
              subjectsPath,
              subjectFiles,
              subjects,
              subjectPolicies,
              config.subjects().duplicates());
      Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
      Map<String, Long> afterIndex = new LinkedHashMap<>();
      // The label classes and split cuts must be known before the aligned write is planned, and
      // they are properties of the subjects kept, one per subject_id. Finding the kept ones takes
      // a shuffle of every subject; most subjects tables have one row per subject, so the counts,
      // classes and cuts are found on the rows that pass the checks as they are: one small job
      // (two when a label is too small for its cuts to lie near the expected ones), run on a side
      // thread while this one plans the modalities (listing files, reading footers, building
      // plans: driver work that needs no subject). The aligned write then counts the subjects it
      // kept: if that is fewer than passed, the table had duplicate rows, and the summary is
      // found again on the kept subjects (step 3 below).
      String subjectJobs = "cohort-fusion-ingest-subjects-" + UUID.randomUUID();
      Future<SubjectsSummary> summaryAsIs =
          background.submit(
              subjectJobs,
              "ingest: the subjects' counts, classes and split cuts",
              () -> SubjectsSummary.of(checkedSubjects, subjectsPath, config));
      // Only the rejects pass joins against the known subjects; the aligned write counts them
      // instead.
      Dataset<Row> knownIds =
          subjects
              .filter(CheckedTable.accepted())
              .select(col(TableValidator.ID).as(ModalityPlanner.KNOWN_ID));

      // 2. Modalities: the checked rows as plans (nothing runs yet), observed for exact accounting.
      ModalityPlanner.PlannedModalities firstPlan;
      try {
        firstPlan = planner.plan(subjectsRaw, knownIds, modalityFiles);
      } catch (RuntimeException planningFailed) {
        background.cancel(subjectJobs);
        throw planningFailed;
      }
      SubjectsSummary summaryOfPassed = SideJobs.await(summaryAsIs);
      // Every reason but DUPLICATE is exact already: an error policy stops the run here.
      IngestPolicy.failOnErrorPolicies(subjectTable, summaryOfPassed.byReason());
      // Before the aligned write reads any modality: without a labeled subject there is nothing
      // to train on, and publishing would replace a good cohort with an empty one.
      long passedSubjects = summaryOfPassed.byReason().getOrDefault(ACCEPTED, 0L);
      if (passedSubjects == 0
          || (config.subjects().classes().isEmpty() && summaryOfPassed.classes().isEmpty())) {
        failOnNoLabeledSubject(
            subjectsPath, subjectsRead.count(), summaryOfPassed.byReason(), passedSubjects, 0);
      }
      List<ModalitySpec> specs = firstPlan.specs();
      step("checked the subjects and planned " + specs.size() + " modalities", start);

      // 3. Align and 4. publish atomically. The aligned write is the one pass over the modality
      // tables; it also counts the QC groups.
      IngestResult result =
          AtomicDirectory.write(
              hadoop,
              outputDir,
              tmp -> {
                String alignedDir = tmp + "/" + CohortManifest.ALIGNED;
                AlignedWriter.AlignedWrite aligned =
                    writer.write(subjectsKept, summaryOfPassed, firstPlan, inputBytes, alignedDir);
                SubjectsSummary subjectsFound = summaryOfPassed;
                ModalityPlanner.PlannedModalities planned = firstPlan;
                CheckedTable subjectsChecked = subjectTable;
                long passed = summaryOfPassed.byReason().getOrDefault(ACCEPTED, 0L);
                if (aligned.subjectsKept() < passed) {
                  // Duplicate subject rows: the summary of the kept subjects, on a cached slim
                  // copy, which
                  // the rejects and any second alignment read too.
                  Dataset<Row> kept = SubjectsSummary.cacheSlim(spark, subjects);
                  cached.add(kept);
                  subjectsChecked =
                      new CheckedTable(
                          "subjects",
                          "subjects",
                          subjectsPath,
                          subjectFiles,
                          kept,
                          subjectPolicies,
                          config.subjects().duplicates());
                  subjectsFound = SubjectsSummary.of(kept, subjectsPath, config);
                  IngestPolicy.failOnErrorPolicies(subjectsChecked, subjectsFound.byReason());
                  if (!subjectsFound.sameSplitsAndClasses(summaryOfPassed)) {
                    LOG.info(
                        "ingest: the subjects table has duplicate rows that change its classes or split cuts; aligning again");
                    planned =
                        planner.plan(
                            subjectsRaw,
                            kept.filter(CheckedTable.accepted())
                                .select(col(TableValidator.ID).as(ModalityPlanner.KNOWN_ID)),
                            modalityFiles);
                    new Path(alignedDir).getFileSystem(hadoop).delete(new Path(alignedDir), true);
                    aligned = writer.write(kept, subjectsFound, planned, inputBytes, alignedDir);
                  }
                }
                Map<String, Object> alignedCounts = aligned.counts();
                Dataset<Row> base = aligned.base();
                Dataset<Row> cohort = aligned.cohort();
                Map<String, ModalityJoin> joins = planned.joins();
                List<CheckedTable> tables = new ArrayList<>(List.of(subjectsChecked));
                tables.addAll(planned.tables());
                List<String> classes = subjectsFound.classes();
                counts.put("subjects", subjectsFound.byReason());
                afterIndex.put("subjects", 0L);
                long subjectsAccepted = subjectsFound.byReason().getOrDefault(ACCEPTED, 0L);
                String fingerprint =
                    Hashing.sha256(
                        tables.stream()
                            .map(t -> t.files().fingerprint())
                            .reduce("", String::concat));
                step("checked, aligned and wrote " + specs.size() + " modalities", start);
                for (CheckedTable t : tables.subList(1, tables.size())) {
                  Map<String, Long> byReason = new LinkedHashMap<>();
                  long after = 0;
                  if (subjectsAccepted == 0) {
                    // Published only with allow-empty. Spark may drop a join whose left side it
                    // knows to
                    // be empty, and the modality's observations with it: its rows are counted by
                    // the
                    // rejects pass's own plan instead, a job per table, so rows in = accepted +
                    // rejected holds.
                    byReason = t.countByReason();
                  } else {
                    after = joins.get(t.name()).counts(byReason, alignedCounts, t::rows);
                  }
                  counts.put(t.name(), byReason);
                  afterIndex.put(t.name(), after);
                  IngestPolicy.failOnErrorPolicies(t, byReason);
                }
                long noModalityCount =
                    subjectsAccepted
                        - ModalityJoin.metric(alignedCounts, AlignedWriter.ALIGNED_METRIC);
                if (noModalityCount > 0) {
                  counts
                      .get("subjects")
                      .merge(RejectReason.NO_MODALITY.name(), noModalityCount, Long::sum);
                  counts.get("subjects").merge(ACCEPTED, -noModalityCount, Long::sum);
                  if (subjectPolicies.get(RejectReason.NO_MODALITY) == CheckPolicy.ERROR) {
                    throw new IngestException(
                        "Cannot ingest table 'subjects' ("
                            + subjectsPath
                            + "): "
                            + noModalityCount
                            + " subjects have no accepted row in any modality (check no-modality = error)");
                  }
                }
                Map<String, Long> rowsIn = rowsIn(subjectsRead, planned);
                rowsIn.forEach((table, n) -> RowsRead.check(table, n, counts.get(table)));
                // The written table is read back (column-pruned) only for the subjects without any
                // modality.
                Dataset<Row> written =
                    noModalityCount > 0
                        ? spark.read().schema(cohort.schema()).parquet(alignedDir)
                        : null;
                new RejectsWriter(spark)
                    .write(tables, counts, base, written, tmp + "/" + CohortManifest.REJECTS);
                step("wrote rejects", start);
                QcReportBuilder qcBuilder = new QcReportBuilder(config, trimmedIds);
                QcReport qc =
                    qcBuilder.report(
                        tables,
                        rowsIn,
                        counts,
                        afterIndex,
                        QcReportBuilder.qcGroups(alignedCounts, specs),
                        specs,
                        classes);
                long labeled = QcReportBuilder.labeledSubjects(qc);
                if (labeled == 0) {
                  failOnNoLabeledSubject(
                      subjectsPath,
                      rowsIn.get("subjects"),
                      counts.get("subjects"),
                      subjectsAccepted,
                      qc.subjectsAligned());
                }
                Map<String, List<String>> schemaWarnings = new LinkedHashMap<>();
                tables.forEach(t -> schemaWarnings.put(t.name(), t.files().schemaWarnings()));
                qc = qcBuilder.withWarnings(qc, joins, alignedCounts, labeled, schemaWarnings);
                qc.warnings()
                    .forEach(w -> LOG.warn("ingest: WARNING [{}] {}", w.code(), w.message()));
                step("built the QC report", start);
                String summary = QcSummary.render(qc);
                CohortManifest manifest =
                    new CohortManifest(
                        config.name(),
                        specs,
                        classes,
                        qc.subjectsAligned(),
                        fingerprint,
                        BuildInfo.version(),
                        Instant.now().toString(),
                        configAsMap());
                Json.write(hadoop, tmp + "/" + CohortManifest.QC_JSON, qc);
                Json.writeText(hadoop, tmp + "/" + CohortManifest.QC_TEXT, summary);
                Json.write(hadoop, tmp + "/" + CohortManifest.FILE, manifest);
                step("wrote the manifest and the QC report", start);
                return new IngestResult(outputDir, manifest, qc, summary);
              });
      LOG.info(
          "Ingested cohort '{}': {} subjects aligned, published to {} ({} s)",
          config.name(),
          result.qc().subjectsAligned(),
          outputDir,
          String.format("%.1f", (System.nanoTime() - start) / 1e9));
      return result;
    } finally {
      // A failed run may leave a side job running: let it end first.
      background.close();
      cached.forEach(Dataset::unpersist);
    }
  }

  /** Every table's rows as read ({@link RowsRead}), a small job per table. */
  private static Map<String, Long> rowsIn(
      RowsRead subjects, ModalityPlanner.PlannedModalities planned) {
    Map<String, Long> rowsIn = new LinkedHashMap<>();
    rowsIn.put(subjects.table(), subjects.count());
    planned.rowsRead().forEach((table, read) -> rowsIn.put(table, read.count()));
    return rowsIn;
  }

  /**
   * Stops the run when no accepted subject has a label, unless allowed: the previous cohort, if
   * any, stays published. {@code rowsIn}: the subjects' rows as read; {@code aligned}: subjects
   * aligned so far (0 before the aligned write).
   */
  private void failOnNoLabeledSubject(
      String subjectsPath, long rowsIn, Map<String, Long> byReason, long accepted, long aligned) {
    if (allowEmpty) {
      LOG.warn("ingest: no accepted subject has a label; publishing anyway (allow-empty)");
      return;
    }
    throw new IngestException(
        "Cannot publish cohort: no accepted subject of table 'subjects' ("
            + subjectsPath
            + ") has a label in column 'label' ("
            + rowsIn
            + " rows in, "
            + accepted
            + " accepted, rejected by reason "
            + rejectedOnly(byReason)
            + ", "
            + aligned
            + " aligned); "
            + outputDir
            + " was left as it was"
            + " (pass --allow-empty or set output.allow-empty = true to publish it anyway)");
  }

  private static Map<String, Long> rejectedOnly(Map<String, Long> byReason) {
    Map<String, Long> rejected = new TreeMap<>(byReason);
    rejected.remove(ACCEPTED);
    return rejected;
  }

  private static void step(String what, long start) {
    LOG.info("ingest: {} ({} s)", what, String.format("%.1f", (System.nanoTime() - start) / 1e9));
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> configAsMap() {
    return Json.MAPPER.convertValue(config, Map.class);
  }
}
