package org.cohortfusion.cohort.ingest;

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
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.cohortfusion.cohort.CohortManifest;
import org.cohortfusion.cohort.ModalitySpec;
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
 * subject (time series point-in-time), assigns splits and publishes the cohort directory
 * atomically (normalisation statistics are fitted by pretrain, on the train split). Nothing but aggregates reaches the driver.
 *
 * <pre>{@code
 * IngestResult result = IngestAction.of(spark, config).execute();
 * }</pre>
 */
public final class IngestAction {
  private static final Logger LOG = LoggerFactory.getLogger(IngestAction.class);
  private static final String KNOWN_ID = "_known_id";
  private static final String ACCEPTED = "ACCEPTED";
  /** Aligned-observation metrics: subjects with any modality, and those of them in train (no modality is named ""). */
  private static final String ALIGNED_METRIC = ":aligned";
  /** Aligned-observation metric: subjects per QC group (presence pattern, label, split), see {@link #qcGroup}. */
  private static final String QC_GROUPS_METRIC = ":qc-groups";
  /** Aligned-observation metric: the accepted subjects kept, one per subject_id. */
  private static final String KEPT_METRIC = ":kept";
  private static final org.apache.spark.sql.types.StructType REJECTS_SCHEMA = new org.apache.spark.sql.types.StructType()
      .add("source_table", "string", false).add("source_file", "string").add("row_key", "string")
      .add("reason", "string", false).add("message", "string");

  /** A time series with at least this share of its accepted observations after the index time looks like a unit mix-up. */
  static final double AFTER_INDEX_WARNING_SHARE = 0.99;

  private final SparkSession spark;
  private final PipelineConfig config;
  private final String outputDir;
  private final boolean allowEmpty;
  /** Per table with id-whitespace = trim: the rows whose subject_id was trimmed. */
  private final Map<String, Long> idsTrimmed = new java.util.concurrent.ConcurrentHashMap<>();

  private IngestAction(SparkSession spark, PipelineConfig config, String outputDir, boolean allowEmpty) {
    this.spark = Objects.requireNonNull(spark, "spark");
    this.config = Objects.requireNonNull(config, "config");
    this.outputDir = outputDir;
    this.allowEmpty = allowEmpty;
  }

  public static IngestAction of(SparkSession spark, PipelineConfig config) {
    return new IngestAction(spark, config, config.cohortOutputDir(), config.output().allowEmpty());
  }

  /** Publishes the cohort at {@code dir} instead of {@code <output.dir>/cohort}. */
  public IngestAction outputDir(String dir) {
    return new IngestAction(spark, config, dir, allowEmpty);
  }

  /** Publishes a cohort without any labeled subject too (output.allow-empty, ingest --allow-empty). */
  public IngestAction allowEmpty(boolean allow) {
    return new IngestAction(spark, config, outputDir, allowEmpty || allow);
  }

  /**
   * Runs ingest in one pass over the modality tables: the aligned write also counts every table's
   * rows by reason through observed metrics ({@link Observation}; see {@link ModalityJoin}), so no
   * modality table is scanned twice on a clean cohort, and nothing is cached. The subjects table is
   * read a few times (it is slim): for its counts, classes and split cuts, and in the aligned write.
   * Each modality is joined once, by a left join from the accepted subjects; time series are
   * grouped per subject before that join's shuffle. Only a table that has rejected rows is read a
   * second time, slimmed to its bookkeeping columns, to write those rows to rejects. A check with policy
   * error therefore stops the run after the aligned table was written into the temporary directory,
   * which {@link AtomicDirectory} then discards: nothing is published.
   */
  public IngestResult execute() {
    // A CSV record's field count is checked only over the columns Spark parses: with pruning, a
    // record with too few fields would pass when the missing ones are not read.
    return withSessionConf(Map.of("spark.sql.csv.parser.columnPruning.enabled", "false"), () -> {
      java.util.Set<String> corrupt = new java.util.HashSet<>();
      while (true) {
        try {
          return executeOnce(java.util.Set.copyOf(corrupt));
        } catch (RuntimeException e) {
          // A file whose footer reads but whose data pages do not fails only once Spark reads it,
          // in a job: it then falls under checks.unreadable-file, and the run starts over without it.
          java.util.Optional<String> file = corruptFile(e, corrupt);
          if (file.isEmpty()) {
            throw e;
          }
          corrupt.add(file.get());
          LOG.warn("ingest: a file of the input cannot be read past its footer; starting over with it set apart as unreadable");
        }
      }
    });
  }

  /**
   * The readable data file of some table that a failed run could not read, when the failure says
   * so (Spark names the file it was reading). Every table whose policy is error for unreadable
   * files makes it an {@link IngestException} naming the table and the file instead.
   */
  private java.util.Optional<String> corruptFile(RuntimeException failure, java.util.Set<String> known) {
    StringBuilder messages = new StringBuilder();
    for (Throwable t = failure; t != null && messages.length() < 1_000_000; t = t.getCause()) {
      messages.append(t.getMessage()).append('\n');
    }
    if (messages.indexOf("while reading file") < 0 && messages.indexOf("FAILED_READ_FILE") < 0) {
      return java.util.Optional.empty();
    }
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    Map<String, TableSource.Files> tables = new LinkedHashMap<>();
    Map<String, Map<String, CheckPolicy>> checks = new LinkedHashMap<>();
    try {
      tables.put("subjects", TableSource.list(hadoop, "subjects", config.resolve(config.subjects().path()), config.subjects().format(),
          org.cohortfusion.config.SchemaMerge.UNION, known));
      checks.put("subjects", config.subjects().checks());
      for (Map.Entry<String, ModalityConfig> e : config.modalities().entrySet()) {
        tables.put(e.getKey(), TableSource.list(hadoop, e.getKey(), config.resolve(e.getValue().path()), e.getValue().format(),
            org.cohortfusion.config.SchemaMerge.UNION, known));
        checks.put(e.getKey(), e.getValue().checks());
      }
    } catch (RuntimeException listingFails) {
      return java.util.Optional.empty();
    }
    for (Map.Entry<String, TableSource.Files> e : tables.entrySet()) {
      for (String file : e.getValue().readable()) {
        String plain = new org.apache.hadoop.fs.Path(file).toUri().getPath();
        if (messages.indexOf(plain) < 0 && messages.indexOf(new org.apache.hadoop.fs.Path(file).toUri().toString()) < 0) {
          continue;
        }
        String key = e.getKey().equals("subjects") ? "subjects" : "modalities." + e.getKey();
        if (checks.get(e.getKey()).getOrDefault(RejectReason.UNREADABLE_FILE.check(), RejectReason.UNREADABLE_FILE.defaultPolicy())
            == CheckPolicy.ERROR) {
          throw new IngestException("Cannot read table '" + e.getKey() + "': file " + file + " is unreadable (its footer reads, its data"
              + " pages do not); set " + key + ".checks.unreadable-file = reject to set it apart and go on", failure);
        }
        return java.util.Optional.of(file);
      }
    }
    return java.util.Optional.empty();
  }

  private IngestResult executeOnce(java.util.Set<String> corruptFiles) {
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    // Small jobs that mostly wait on Spark's scheduling run beside the main line of work.
    java.util.concurrent.ExecutorService background = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "ingest-side-job");
      t.setDaemon(true);
      return t;
    });
    List<Dataset<Row>> cached = new ArrayList<>();
    long start = System.nanoTime();
    Instant runStart = Instant.now();
    // Before any table is read: a run that cannot publish should not spend an hour finding out.
    checkWritable(hadoop);
    int stale = AtomicDirectory.removeStale(hadoop, outputDir, runStart);
    if (stale > 0) {
      LOG.info("ingest: removed {} stale temporary director{} of {} left by runs that did not finish", stale, stale == 1 ? "y" : "ies",
          outputDir);
    }
    try {
      // 1. Subjects: slim, counted and checked before any modality is read.
      String subjectsPath = config.resolve(config.subjects().path());
      checkCsvOnlyKeys("subjects", config.subjects().format(), config.subjects().nullValues(), config.subjects().schemaMerge());
      TableSource.Files subjectFiles = TableSource.list(hadoop, "subjects", subjectsPath, config.subjects().format(),
          config.subjects().schemaMerge(), corruptFiles);
      // Every table's files and schemas before any job: files that disagree stop the run here.
      Map<String, TableSource.Files> modalityFiles = new LinkedHashMap<>();
      for (Map.Entry<String, ModalityConfig> e : config.modalities().entrySet()) {
        checkCsvOnlyKeys("modalities." + e.getKey(), e.getValue().format(), e.getValue().nullValues(), e.getValue().schemaMerge());
        modalityFiles.put(e.getKey(), TableSource.list(hadoop, e.getKey(), config.resolve(e.getValue().path()), e.getValue().format(),
            e.getValue().schemaMerge(), corruptFiles).withIdColumn(e.getKey(), "modalities." + e.getKey() + ".id-column",
            e.getValue().idColumn()));
      }
      Map<RejectReason, CheckPolicy> subjectPolicies = policies("subjects", config.subjects().checks());
      failOnUnreadable("subjects", subjectFiles, subjectPolicies);
      Dataset<Row> subjectsRaw = SubjectsPreparer.withDerivedColumns(trimIdsByPolicy("subjects", config.subjects().idWhitespace(),
          TableSource.read(spark, "subjects", subjectFiles, config.subjects().sql(), "subjects.sql",
              new CsvTable.Rules(config.subjects().nullValues(), java.util.Set.of(), false))), subjectsPath,
          Contracts.forKind("subjects"));
      List<String> timeSeries = config.modalities().entrySet().stream().filter(e -> e.getValue().kind() == ModalityKind.TIMESERIES)
          .map(Map.Entry::getKey).toList();
      List<RowCheck> subjectChecks = new ArrayList<>(CsvTable.checks(subjectsRaw));
      subjectChecks.addAll(SubjectsPreparer.checks(config.subjects(), config.splits(), subjectsPath, subjectsRaw,
          Contracts.forKind("subjects"), timeSeries));
      Dataset<Row> checkedSubjects = TableValidator.applyChecks(subjectsRaw, subjectChecks, CheckedTable.REASON, CheckedTable.MESSAGE);
      // Duplicates are marked, for the rejects, by a window partitioned by subject_id. The aligned
      // write keeps the same row of each subject without the window, in the shuffle and sort by
      // subject_id that its joins need anyway.
      Dataset<Row> subjects = CheckedTable.markDuplicates(checkedSubjects, List.of(TableValidator.ID), config.subjects().duplicates(),
          "subjects");
      Dataset<Row> subjectsKept = CheckedTable.firstAcceptedPerSubject(checkedSubjects, config.subjects().duplicates(), "subjects");
      CheckedTable subjectTable = new CheckedTable("subjects", "subjects", subjectsPath, subjectFiles, subjects, subjectPolicies,
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
      String subjectJobs = "cohort-fusion-ingest-subjects-" + java.util.UUID.randomUUID();
      java.util.concurrent.Future<SubjectsSummary> summaryAsIs = background.submit(() -> {
        spark.sparkContext().setJobGroup(subjectJobs, "ingest: the subjects' counts, classes and split cuts", false);
        try {
          return summarizeSubjects(checkedSubjects, subjectsPath);
        } finally {
          spark.sparkContext().clearJobGroup();
        }
      });
      // Only the rejects pass joins against the known subjects; the aligned write counts them instead.
      Dataset<Row> knownIds = subjects.filter(CheckedTable.accepted()).select(col(TableValidator.ID).as(KNOWN_ID));

      // 2. Modalities: the checked rows as plans (nothing runs yet), observed for exact accounting.
      PlannedModalities firstPlan;
      try {
        firstPlan = planModalities(subjectsRaw, knownIds, modalityFiles);
      } catch (RuntimeException planningFailed) {
        spark.sparkContext().cancelJobGroup(subjectJobs);
        throw planningFailed;
      }
      SubjectsSummary summaryOfPassed = await(summaryAsIs);
      // Every reason but DUPLICATE is exact already: an error policy stops the run here.
      failOnErrorPolicies(subjectTable, summaryOfPassed.byReason());
      // Before the aligned write reads any modality: without a labeled subject there is nothing
      // to train on, and publishing would replace a good cohort with an empty one.
      long passedSubjects = summaryOfPassed.byReason().getOrDefault(ACCEPTED, 0L);
      if (passedSubjects == 0 || (config.subjects().classes().isEmpty() && summaryOfPassed.classes().isEmpty())) {
        failOnNoLabeledSubject(subjectsPath, summaryOfPassed.byReason(), passedSubjects, 0);
      }
      List<ModalitySpec> specs = firstPlan.specs();
      step("checked the subjects and planned " + specs.size() + " modalities", start);

      // 3. Align and 4. publish atomically. The aligned write is the one pass over the modality
      // tables; it also counts the QC groups.
      IngestResult result = AtomicDirectory.write(hadoop, outputDir, tmp -> {
        String alignedDir = tmp + "/" + CohortManifest.ALIGNED;
        AlignedWrite aligned = writeAligned(subjectsKept, summaryOfPassed, firstPlan, alignedDir);
        SubjectsSummary subjectsFound = summaryOfPassed;
        PlannedModalities planned = firstPlan;
        CheckedTable subjectsChecked = subjectTable;
        long passed = summaryOfPassed.byReason().getOrDefault(ACCEPTED, 0L);
        if (aligned.subjectsKept() < passed) {
          // Duplicate subject rows: the summary of the kept subjects, on a cached slim copy, which
          // the rejects and any second alignment read too.
          Dataset<Row> kept = cacheSlim(subjects);
          cached.add(kept);
          subjectsChecked = new CheckedTable("subjects", "subjects", subjectsPath, subjectFiles, kept, subjectPolicies,
              config.subjects().duplicates());
          subjectsFound = summarizeSubjects(kept, subjectsPath);
          failOnErrorPolicies(subjectsChecked, subjectsFound.byReason());
          if (!subjectsFound.sameSplitsAndClasses(summaryOfPassed)) {
            LOG.info("ingest: the subjects table has duplicate rows that change its classes or split cuts; aligning again");
            planned = planModalities(subjectsRaw,
                kept.filter(CheckedTable.accepted()).select(col(TableValidator.ID).as(KNOWN_ID)), modalityFiles);
            new org.apache.hadoop.fs.Path(alignedDir).getFileSystem(hadoop).delete(new org.apache.hadoop.fs.Path(alignedDir), true);
            aligned = writeAligned(kept, subjectsFound, planned, alignedDir);
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
        String fingerprint = Hashing.sha256(tables.stream().map(t -> t.files().fingerprint()).reduce("", String::concat));
        step("checked, aligned and wrote " + specs.size() + " modalities", start);
        for (CheckedTable t : tables.subList(1, tables.size())) {
          Map<String, Long> byReason = new LinkedHashMap<>();
          long after = 0;
          if (subjectsAccepted == 0) {
            // Published only with allow-empty. Spark may drop a join whose left side it knows to
            // be empty, and the modality's observations with it: its rows are counted by the
            // rejects pass's own plan instead, a job per table, so rows in = accepted + rejected holds.
            byReason = countByReason(t);
          } else {
            after = joins.get(t.name()).counts(byReason, alignedCounts, t::rows);
          }
          counts.put(t.name(), byReason);
          afterIndex.put(t.name(), after);
          failOnErrorPolicies(t, byReason);
        }
        long noModalityCount = subjectsAccepted - ModalityJoin.metric(alignedCounts, ALIGNED_METRIC);
        if (noModalityCount > 0) {
          counts.get("subjects").merge(RejectReason.NO_MODALITY.name(), noModalityCount, Long::sum);
          counts.get("subjects").merge(ACCEPTED, -noModalityCount, Long::sum);
          if (subjectPolicies.get(RejectReason.NO_MODALITY) == CheckPolicy.ERROR) {
            throw new IngestException("Cannot ingest table 'subjects' (" + subjectsPath + "): " + noModalityCount
                + " subjects have no accepted row in any modality (check no-modality = error)");
          }
        }
        // The written table is read back (column-pruned) only for the subjects without any modality.
        java.util.function.Supplier<Dataset<Row>> written = () -> spark.read().schema(cohort.schema()).parquet(alignedDir);
        Dataset<Row> rejects = rejects(tables, counts);
        if (noModalityCount > 0) {
          rejects = rejects.unionByName(base.join(written.get().select(TableValidator.ID), seq(TableValidator.ID), "left_anti").select(
              lit("subjects").as("source_table"), col(TableSource.SOURCE_FILE).as("source_file"), col(TableValidator.ID).as("row_key"),
              lit(RejectReason.NO_MODALITY.name()).as("reason"), lit("no accepted row in any modality (at or before index_time)").as("message")));
        }
        rejects.write().parquet(tmp + "/" + CohortManifest.REJECTS);
        step("wrote rejects", start);
        QcReport qc = qcReport(tables, counts, afterIndex, qcGroups(alignedCounts, specs), specs, classes);
        long labeled = labeledSubjects(qc);
        if (labeled == 0) {
          failOnNoLabeledSubject(subjectsPath, counts.get("subjects"), subjectsAccepted, qc.subjectsAligned());
        }
        Map<String, List<String>> schemaWarnings = new LinkedHashMap<>();
        tables.forEach(t -> schemaWarnings.put(t.name(), t.files().schemaWarnings()));
        qc = withWarnings(qc, joins, alignedCounts, labeled, schemaWarnings);
        qc.warnings().forEach(w -> LOG.warn("ingest: WARNING [{}] {}", w.code(), w.message()));
        step("built the QC report", start);
        String summary = QcSummary.render(qc);
        CohortManifest manifest = new CohortManifest(config.name(), specs, classes, qc.subjectsAligned(), fingerprint,
            BuildInfo.version(), Instant.now().toString(), configAsMap());
        Json.write(hadoop, tmp + "/" + CohortManifest.QC_JSON, qc);
        Json.writeText(hadoop, tmp + "/" + CohortManifest.QC_TEXT, summary);
        Json.write(hadoop, tmp + "/" + CohortManifest.FILE, manifest);
        step("wrote the manifest and the QC report", start);
        return new IngestResult(outputDir, manifest, qc, summary);
      });
      LOG.info("Ingested cohort '{}': {} subjects aligned, published to {} ({} s)", config.name(), result.qc().subjectsAligned(), outputDir,
          String.format("%.1f", (System.nanoTime() - start) / 1e9));
      return result;
    } finally {
      // A failed run may leave a side job running: let it end first.
      background.shutdown();
      awaitQuietly(background);
      cached.forEach(Dataset::unpersist);
    }
  }

  /**
   * Fails unless the output directory's parent can be created and written (the cohort is
   * written beside it, then renamed into place) and the output is not a file.
   */
  private void checkWritable(Configuration hadoop) {
    org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(outputDir);
    try {
      org.apache.hadoop.fs.FileSystem fs = target.getFileSystem(hadoop);
      if (fs.exists(target) && !fs.getFileStatus(target).isDirectory()) {
        throw new IngestException("Cannot write " + outputDir + ": it is a file, not a directory");
      }
      org.apache.hadoop.fs.Path parent = target.getParent();
      if (!fs.mkdirs(parent)) {
        throw new IngestException("Cannot write " + outputDir + ": cannot create its parent directory " + parent);
      }
      org.apache.hadoop.fs.Path probe = new org.apache.hadoop.fs.Path(parent,
          "." + target.getName() + ".probe-" + java.util.UUID.randomUUID().toString().substring(0, 8));
      fs.create(probe, false).close();
      fs.delete(probe, false);
    } catch (java.io.IOException | RuntimeException e) {
      if (e instanceof IngestException ie) {
        throw ie;
      }
      throw new IngestException("Cannot write " + outputDir + ": " + e.getMessage(), e);
    }
  }

  /** What one pass over the checked subjects finds: counts by reason (ACCEPTED included), the label classes, the split cuts. */
  private record SubjectsSummary(Map<String, Long> byReason, List<String> classes, java.util.Optional<SplitAssigner.StratifiedCuts> cuts) {
    /** Whether the aligned table comes out the same with either: the same class indices and the same split of every subject. */
    boolean sameSplitsAndClasses(SubjectsSummary other) {
      return classes.equals(other.classes) && cuts.isPresent() == other.cuts.isPresent()
          && (cuts.isEmpty() || cuts.get().sameAs(other.cuts.get()));
    }
  }

  /**
   * The written aligned table: {@code base}, the accepted subjects with label index and split;
   * {@code cohort}, the plan written; {@code counts}, its observed metrics; {@code subjectsKept},
   * the accepted subjects after duplicates, as the write found them.
   */
  private record AlignedWrite(Dataset<Row> base, Dataset<Row> cohort, Map<String, Object> counts, long subjectsKept) {}

  /**
   * Aligns the accepted subjects (splits assigned on this slim table, before any payload joins
   * in), one column group per modality with its presence mask, and writes them to {@code dir},
   * observing every modality's counts after its join and the QC groups on the way.
   */
  private AlignedWrite writeAligned(Dataset<Row> subjects, SubjectsSummary summary, PlannedModalities planned, String dir) {
    List<ModalitySpec> specs = planned.specs();
    Map<String, ModalityJoin> joins = planned.joins();
    Dataset<Row> base = SplitAssigner.assign(alignedBase(subjects, summary.classes()), config.splits(), summary.cuts().orElse(null));
    Dataset<Row> aligned = base;
    // Time series first: the projections that resolve them copy the row they are in (and with
    // latest:<column> the sort is a lambda, a projection Spark does not compile), and the row is
    // still slim before the wide modalities join in. The written column order is set below.
    List<ModalitySpec> joinOrder = new ArrayList<>(specs);
    joinOrder.sort(java.util.Comparator.comparing(s -> s.kind() != ModalityKind.TIMESERIES));
    for (ModalitySpec spec : joinOrder) {
      ModalityJoin join = joins.get(spec.name());
      aligned = join.resolve(aligned.join(join.right(), seq(TableValidator.ID), "left"))
          .withColumn(spec.presenceColumn(), col(spec.name()).isNotNull());
    }
    // One observation on the aligned rows, before subjects without any modality are dropped: every
    // modality's counts after its join, the QC groups, and the subjects kept (every join is by a
    // key unique on its right side).
    ObservedMetrics alignedMetrics = new ObservedMetrics();
    joins.values().forEach(j -> alignedMetrics.addAll(j.joinedMetrics()));
    Observation alignedObservation = new Observation("ingest-aligned");
    Column anyPresent = specs.stream().map(s -> col(s.presenceColumn())).reduce(Column::or).orElseThrow();
    alignedMetrics.add(ModalityJoin.countWhere(anyPresent, ALIGNED_METRIC));
    alignedMetrics.add(ValueCounts.of(alignedMetrics.input(when(anyPresent, qcGroup(specs)))).as(QC_GROUPS_METRIC));
    alignedMetrics.add(ModalityJoin.countWhere(lit(true), KEPT_METRIC));
    Dataset<Row> cohort = orderColumns(alignedMetrics.observe(aligned, alignedObservation).filter(anyPresent), specs);
    writeObserved(cohort, dir);
    Map<String, Object> counts = ModalityJoin.metrics(alignedObservation);
    return new AlignedWrite(base, cohort, counts, ModalityJoin.metric(counts, KEPT_METRIC));
  }

  /**
   * Counts the checked subjects by reason and, unless configured, finds the label classes, in one
   * job; for stratified split cuts the same job counts the accepted subjects per label and bucket
   * of u, with the u values of the buckets near the expected cuts, so the cuts mostly need no job
   * of their own (one small job otherwise). The job's rows: one per reason, one per distinct label
   * of accepted subjects (per bucket and band value, for cuts), cut at one label more than
   * allowed, which classesOf rejects before any count is used. If the band values are too many
   * the rows are counted again without them; with more labels than cuts are worth, without
   * buckets either, and the splits are ranked instead.
   */
  private SubjectsSummary summarizeSubjects(Dataset<Row> subjects, String subjectsPath) {
    boolean findClasses = config.subjects().classes().isEmpty();
    boolean cut = SplitAssigner.cutsWanted(config.splits());
    int withoutBuckets = config.subjects().maxClasses() + RejectReason.values().length + 2;
    Column accepted = CheckedTable.accepted();
    Column label = when(accepted, col(SubjectsPreparer.LABEL_TEXT));
    // Rows of (reason, label, bucket of u, u, count).
    List<Row> rows = null;
    if (cut) {
      Dataset<Row> located = SplitAssigner.withCutBucket(subjects, config.splits());
      Column bucket = when(accepted, col(SplitAssigner.CUT_BUCKET));
      // First with the u values of the buckets around the expected cuts, which spares the cuts
      // their own job; if those are too many (tens of millions of subjects), without.
      for (boolean band : new boolean[] {true, false}) {
        int limit = SplitAssigner.MAX_COUNTED_BUCKETS + withoutBuckets + (band ? SplitAssigner.MAX_BAND_VALUES : 0);
        Column value = band ? when(accepted.and(SplitAssigner.inBand(col(SplitAssigner.CUT_BUCKET), config.splits())), col(SplitAssigner.U))
            : lit(null).cast("double");
        List<Row> found = located.groupBy(col(CheckedTable.REASON), label, bucket, value).count().limit(limit).collectAsList();
        if (found.size() < limit) {
          rows = found;
          break;
        }
      }
      cut = rows != null;
    }
    if (!cut) {
      rows = subjects.groupBy(col(CheckedTable.REASON), findClasses ? label : lit(null).cast("string"), lit(null).cast("int"),
          lit(null).cast("double")).count().limit(withoutBuckets).collectAsList();
    }
    Map<String, Long> byReason = new LinkedHashMap<>(Map.of(ACCEPTED, 0L));
    java.util.Set<String> labels = new java.util.HashSet<>();
    for (Row r : rows) {
      byReason.merge(r.isNullAt(0) ? ACCEPTED : r.getString(0), r.getLong(4), Long::sum);
      if (!r.isNullAt(1)) {
        labels.add(r.getString(1));
      }
    }
    List<String> classes = findClasses ? SubjectsPreparer.classesOf(labels, subjectsPath, config.subjects().maxClasses())
        : config.subjects().classes();
    java.util.Optional<SplitAssigner.StratifiedCuts> cuts = java.util.Optional.empty();
    if (cut) {
      // Strata by class index, as alignedBase gives it: a label text outside the classes has none
      // and counts with the unlabeled subjects.
      Map<Integer, long[]> perBucket = new java.util.HashMap<>();
      Map<SplitAssigner.CutBucket, List<Double>> bandValues = new java.util.HashMap<>();
      for (Row r : rows) {
        if (!r.isNullAt(2)) {
          int index = r.isNullAt(1) ? -1 : classes.indexOf(r.getString(1));
          Integer stratum = index < 0 ? null : index;
          perBucket.computeIfAbsent(stratum, l -> new long[SplitAssigner.SPLIT_BUCKETS])[r.getInt(2)] += r.getLong(4);
          if (!r.isNullAt(3)) {
            List<Double> values = bandValues.computeIfAbsent(new SplitAssigner.CutBucket(stratum, r.getInt(2)), c -> new ArrayList<>());
            for (long i = 0; i < r.getLong(4); i++) {
              values.add(r.getDouble(3));
            }
          }
        }
      }
      Map<SplitAssigner.CutBucket, double[]> known = new java.util.HashMap<>();
      bandValues.forEach((c, us) -> known.put(c, us.stream().mapToDouble(Double::doubleValue).sorted().toArray()));
      cuts = SplitAssigner.stratifiedCuts(alignedBase(subjects, classes), config.splits(), perBucket, known);
    }
    return new SubjectsSummary(byReason, classes, cuts);
  }

  /** The modalities as plans: their checked tables (for rejects), specs and joins, in config order. */
  private record PlannedModalities(List<CheckedTable> tables, List<ModalitySpec> specs, Map<String, ModalityJoin> joins) {}

  /**
   * Plans every modality from its listed files: checks the schema against the contract and builds
   * the plans of its checked rows, its join and its rejects. Runs no job, but one per CSV table,
   * which counts the numeric cells of each column to type it ({@link CsvTable}), and one per Parquet table of
   * thousands of wide columns, which packs them ({@link WideColumns#NARROW_PLAN_FROM}).
   */
  private PlannedModalities planModalities(Dataset<Row> subjectsRaw, Dataset<Row> knownIds, Map<String, TableSource.Files> modalityFiles) {
    List<CheckedTable> tables = new ArrayList<>();
    List<ModalitySpec> specs = new ArrayList<>();
    Map<String, ModalityJoin> joins = new LinkedHashMap<>();
    for (Map.Entry<String, ModalityConfig> e : config.modalities().entrySet()) {
      String name = e.getKey();
      ModalityConfig m = e.getValue();
      String path = config.resolve(m.path());
      TableSource.Files files = modalityFiles.get(name);
      Map<RejectReason, CheckPolicy> policies = policies("modalities." + name, m.checks());
      failOnUnreadable(name, files, policies);
      boolean numbersOnly = m.kind() == ModalityKind.TIMESERIES || m.kind() == ModalityKind.VECTOR;
      // A vector CSV without a 'values' column is wide columns: packed as read, unless a sql maps them.
      boolean packWide = m.kind() == ModalityKind.VECTOR && files.format() == org.cohortfusion.config.TableFormat.CSV
          && (m.sql() == null || m.sql().isBlank()) && !List.of(files.schema().fieldNames()).contains("values");
      // A Parquet vector table of thousands of wide columns: packed in its first (and only wide) plan.
      boolean packWideParquet = m.kind() == ModalityKind.VECTOR && files.format() == org.cohortfusion.config.TableFormat.PARQUET
          && (m.sql() == null || m.sql().isBlank()) && !List.of(files.schema().fieldNames()).contains("values")
          && files.schema().size() >= WideColumns.NARROW_PLAN_FROM;
      List<String> packed = packWide ? WideColumns.ofCsvHeader(List.of(files.schema().fieldNames())) : null;
      Dataset<Row> read;
      if (packWideParquet) {
        packed = TableValidator.checkSchema(name, path, files.readParquet(spark), Contracts.forKind(m.kind().configName()));
        read = WideColumns.readPackedParquet(spark, files, packed);
      } else {
        read = TableSource.read(spark, name, files, m.sql(), "modalities." + name + ".sql",
            new CsvTable.Rules(m.nullValues(), java.util.Set.copyOf(m.categorical()), numbersOnly, packWide));
      }
      Dataset<Row> raw = trimIdsByPolicy(name, m.idWhitespace(), read);
      // What the files' schema guarantees holds for the table only as read, not after a SQL mapping.
      java.util.Set<String> nonNullElements = m.sql() == null || m.sql().isBlank() ? files.nonNullElementArrays() : java.util.Set.of();
      ModalityPreparer.Prepared prepared = ModalityPreparer.prepare(name, m, path, raw, Contracts.forKind(m.kind().configName()),
          nonNullElements, packed);
      if (m.kind() == ModalityKind.TIMESERIES) {
        checkTimeUnits(name, raw, subjectsRaw);
      }
      // A CSV verdict first: a malformed record's other cells mean nothing.
      List<RowCheck> checks = new ArrayList<>(CsvTable.checks(prepared.rows()));
      checks.addAll(prepared.checks());
      Dataset<Row> checked = TableValidator.applyChecks(prepared.rows(), checks, CheckedTable.REASON, CheckedTable.MESSAGE);
      boolean timeSeries = m.kind() == ModalityKind.TIMESERIES;
      joins.put(name, timeSeries
          ? ModalityJoin.timeSeries(name, m, prepared.spec(), checked, checks, "index_time")
          : ModalityJoin.perRow(name, m, checked, checks));
      // The same rules on the bookkeeping columns only (payloads pruned by Catalyst): what the
      // rejects pass and an error message read, without carrying arrays through the shuffles.
      Dataset<Row> slim = checked.select(bookkeepingColumns(m));
      Dataset<Row> rejectable = timeSeries
          ? ModalityJoin.TimeSeries.rejectedRows(slim, knownIds, KNOWN_ID, m)
          : resolveSubjects(slim, knownIds, m, name);
      tables.add(new CheckedTable(name, m.kind().configName(), path, files, rejectable, policies, m.duplicates()));
      specs.add(prepared.spec());
    }
    return new PlannedModalities(tables, specs, joins);
  }

  /**
   * With id-whitespace = trim, the table with its ids trimmed of leading and trailing whitespace
   * before any check, and the count of ids trimmed kept for the QC report (one job over the ids);
   * else the table as it is. A table without a string subject_id is left to the schema check.
   */
  private Dataset<Row> trimIdsByPolicy(String table, org.cohortfusion.config.IdWhitespace policy, Dataset<Row> raw) {
    if (policy != org.cohortfusion.config.IdWhitespace.TRIM || !TableValidator.has(raw, TableValidator.ID)
        || !raw.schema().apply(TableValidator.ID).dataType().equals(org.apache.spark.sql.types.DataTypes.StringType)) {
      return raw;
    }
    long trimmed = raw.filter(TableValidator.hasEdgeSpace()).count();
    idsTrimmed.put(table, trimmed);
    if (trimmed > 0) {
      LOG.info("ingest: table '{}': trimmed whitespace around {} subject_id values (id-whitespace = trim)", table, trimmed);
    }
    return TableValidator.trimIds(raw);
  }

  private static <T> T await(java.util.concurrent.Future<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IngestException("Cannot ingest: interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IngestException("Cannot ingest: " + e.getCause(), e.getCause());
    }
  }

  private static void awaitQuietly(java.util.concurrent.ExecutorService executor) {
    try {
      executor.awaitTermination(10, java.util.concurrent.TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Caches the checked subjects with only the columns later steps read (the label and index time
   * as derived, not as given).
   */
  private Dataset<Row> cacheSlim(Dataset<Row> checked) {
    List<String> keep = new ArrayList<>(List.of(TableValidator.ID, SubjectsPreparer.LABEL_TEXT, SubjectsPreparer.INDEX_TIME,
        TableSource.SOURCE_FILE, TableSource.ROW_ORDER, CheckedTable.REASON, CheckedTable.MESSAGE));
    for (String optional : List.of("split", "group", "true_probability", "observable_probability")) {
      if (TableValidator.has(checked, optional)) {
        keep.add(optional);
      }
    }
    Dataset<Row> slim = checked.select(keep.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new));
    // Uncompressed: to choose an encoding, Spark boxes every value of every column into a Scala hash
    // map per batch. At 1M subjects that took the caching stage from about 6 to under 3 CPU-s (task
    // CPU, alternating in one JVM); the slim table is small either way. The setting is read when
    // the cache is defined, so it is set for the persist call only.
    return withSessionConf(Map.of("spark.sql.inMemoryColumnarStorage.compressed", "false"),
        () -> slim.persist(StorageLevel.MEMORY_AND_DISK()));
  }

  /**
   * Writes with three session settings changed for this write only:
   * <ul>
   *   <li>adaptive execution's empty-relation propagation off: when every row of a table is
   *       rejected, that rule would drop the table's (already executed) stage from the final plan
   *       and its observed counts with it;
   *   <li>sort-based instead of object-hash aggregation for the time series grouped per subject:
   *       the hash aggregate gives up above 128 subjects per task and sorts anyway, and after the
   *       shuffle the sort by subject_id that the sort-based one needs also serves the join;
   *   <li>adaptive execution's skew-join splitting off: it may split one subject_id partition
   *       over several tasks, and the row kept of each subject is found within a task ({@link
   *       CheckedTable#firstAcceptedPerSubject}).
   * </ul>
   */
  private void writeObserved(Dataset<Row> df, String dir) {
    String excluded = "spark.sql.adaptive.optimizer.excludedRules";
    String rule = "org.apache.spark.sql.execution.adaptive.AQEPropagateEmptyRelation";
    String excludedBefore = spark.conf().getOption(excluded).getOrElse(() -> null);
    withSessionConf(Map.of(
        excluded, excludedBefore == null || excludedBefore.isEmpty() ? rule : excludedBefore + "," + rule,
        "spark.sql.execution.useObjectHashAggregateExec", "false",
        "spark.sql.adaptive.skewJoin.enabled", "false"), () -> {
          if (Boolean.getBoolean("cohortfusion.explain")) {
            df.explain("formatted");
          }
          df.write().options(noDictionaryForFloatArrays(df.schema())).parquet(dir);
          return null;
        });
  }

  /** Runs {@code job} with the given session settings, then restores them as they were. */
  private <T> T withSessionConf(Map<String, String> settings, java.util.function.Supplier<T> job) {
    Map<String, String> before = new LinkedHashMap<>();
    settings.forEach((key, value) -> {
      before.put(key, spark.conf().getOption(key).getOrElse(() -> null));
      spark.conf().set(key, value);
    });
    try {
      return job.get();
    } finally {
      before.forEach((key, value) -> {
        if (value == null) {
          spark.conf().unset(key);
        } else {
          spark.conf().set(key, value);
        }
      });
    }
  }

  /**
   * Parquet writer options that turn dictionary encoding off for every float or double array
   * (vectors, images, time-series tensors): measured values rarely repeat, so the writer would fill
   * a dictionary for each column chunk only to give it up, and pay a hash lookup per element
   * meanwhile. Other columns (split, categories) keep their dictionaries.
   */
  static Map<String, String> noDictionaryForFloatArrays(org.apache.spark.sql.types.StructType schema) {
    Map<String, String> options = new LinkedHashMap<>();
    addNoDictionary(schema, "", options);
    return options;
  }

  private static void addNoDictionary(org.apache.spark.sql.types.StructType struct, String prefix,
      Map<String, String> options) {
    for (org.apache.spark.sql.types.StructField f : struct.fields()) {
      org.apache.spark.sql.types.DataType t = f.dataType();
      if (t instanceof org.apache.spark.sql.types.StructType nested) {
        addNoDictionary(nested, prefix + f.name() + ".", options);
      } else if (t instanceof org.apache.spark.sql.types.ArrayType a && TableValidator.isFloating(a.elementType())) {
        // Spark writes arrays as standard three-level Parquet lists: <column>.list.element.
        options.put("parquet.enable.dictionary#" + prefix + f.name() + ".list.element", "false");
      }
    }
  }

  /**
   * Marks duplicates and rows of unknown subjects of a table with one row per subject, for the
   * rejects pass. Duplicates are marked first, so the one sort by subject_id that the duplicate
   * window needs also serves the join. Rows of an unknown subject are rejected as such, duplicate
   * or not: the rule {@link ModalityJoin} counts by.
   */
  private static Dataset<Row> resolveSubjects(Dataset<Row> checked, Dataset<Row> knownIds, ModalityConfig m, String name) {
    Dataset<Row> deduplicated = CheckedTable.markDuplicates(checked, m.keyColumns(), m.duplicates(), name);
    Dataset<Row> rows = deduplicated.join(knownIds, deduplicated.col(TableValidator.ID).equalTo(knownIds.col(KNOWN_ID)), "left");
    Column unknown = col(KNOWN_ID).isNull()
        .and(CheckedTable.accepted().or(col(CheckedTable.REASON).equalTo(RejectReason.DUPLICATE.name())));
    return rows
        .withColumn(CheckedTable.MESSAGE, when(unknown, lit(ModalityJoin.UNKNOWN_SUBJECT_MESSAGE)).otherwise(col(CheckedTable.MESSAGE)))
        .withColumn(CheckedTable.REASON, when(unknown, lit(RejectReason.UNKNOWN_SUBJECT.name())).otherwise(col(CheckedTable.REASON)));
  }

  /** The columns rejects, duplicate order and the index-time rule need; never a payload. */
  private static Column[] bookkeepingColumns(ModalityConfig m) {
    java.util.LinkedHashSet<String> cols = new java.util.LinkedHashSet<>(List.of(TableValidator.ID, TableSource.SOURCE_FILE,
        TableSource.ROW_ORDER, CheckedTable.REASON, CheckedTable.MESSAGE));
    cols.addAll(m.keyColumns());
    if (m.kind() == ModalityKind.TIMESERIES) {
      cols.addAll(List.of("time", TimeSeriesWindow.TIME));
    }
    m.duplicates().orderColumn().ifPresent(cols::add);
    return cols.stream().map(TableValidator::column).toArray(Column[]::new);
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

  /**
   * null-values means something for CSV only, schema-merge = union for Parquet only: set on the
   * other format, either would be ignored, and a misplaced option should not pass silently.
   */
  private static void checkCsvOnlyKeys(String key, org.cohortfusion.config.TableFormat format, List<String> nullValues,
      org.cohortfusion.config.SchemaMerge merge) {
    if (format == org.cohortfusion.config.TableFormat.PARQUET && !nullValues.equals(ModalityConfig.DEFAULT_NULL_VALUES)) {
      throw new IngestException("Cannot use config key '" + key + ".null-values': it applies to csv tables only (Parquet has nulls)");
    }
    if (format == org.cohortfusion.config.TableFormat.CSV && merge == org.cohortfusion.config.SchemaMerge.UNION) {
      throw new IngestException("Cannot use config key '" + key + ".schema-merge = union': it applies to Parquet tables only;"
          + " the csv files of a table need the same header");
    }
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
          + "' (" + reason.name() + "), first in file " + first.get(0) + (t.files().format() == org.cohortfusion.config.TableFormat.CSV ? " at line " : " at row ")
          + first.get(1) + ": " + first.get(2) + "; " + fix);
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

  private static Dataset<Row> alignedBase(Dataset<Row> subjects, List<String> classes) {
    List<Column> cols = new ArrayList<>();
    cols.add(col(TableValidator.ID));
    cols.add(SubjectsPreparer.labelIndex(classes).as("label"));
    cols.add(col(SubjectsPreparer.INDEX_TIME).as("index_time"));
    if (TableValidator.has(subjects, "split")) {
      cols.add(col("split"));
    }
    cols.add(TableValidator.has(subjects, "group") ? col("group").cast("string").as("group") : lit(null).cast("string").as("group"));
    for (String truth : List.of("true_probability", "observable_probability")) {
      if (TableValidator.has(subjects, truth)) {
        cols.add(col(truth).cast("double").as(truth));
      }
    }
    cols.add(col(TableSource.SOURCE_FILE));
    return subjects.filter(CheckedTable.accepted()).select(cols.toArray(Column[]::new));
  }

  private static Dataset<Row> orderColumns(Dataset<Row> cohort, List<ModalitySpec> specs) {
    List<String> order = new ArrayList<>(List.of(TableValidator.ID, "label", "index_time", "split", "fold", "group"));
    for (String truth : List.of("true_probability", "observable_probability")) {
      if (TableValidator.has(cohort, truth)) {
        order.add(truth);
      }
    }
    specs.forEach(s -> order.add(s.presenceColumn()));
    specs.forEach(s -> order.add(s.name()));
    return cohort.select(order.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new));
  }

  /**
   * Rejected rows of every table that has any (by the counts of the aligned pass), read again
   * through the slim plan; tables without rejects are not read at all. An empty, typed table when
   * nothing was rejected.
   */
  private Dataset<Row> rejects(List<CheckedTable> tables, Map<String, Map<String, Long>> counts) {
    Dataset<Row> all = spark.createDataFrame(List.of(), REJECTS_SCHEMA);
    for (CheckedTable t : tables) {
      boolean anyRejected = counts.get(t.name()).entrySet().stream().anyMatch(e -> !e.getKey().equals(ACCEPTED) && e.getValue() > 0);
      if (anyRejected) {
        Column key = t.kind().equals("timeseries")
            ? concat_ws("@", col(TableValidator.ID), col("time").cast("string"))
            : col(TableValidator.ID);
        all = all.unionByName(t.rows().filter(CheckedTable.accepted().unary_$bang()).select(
            lit(t.name()).as("source_table"), col(TableSource.SOURCE_FILE).as("source_file"), key.as("row_key"),
            col(CheckedTable.REASON).as("reason"), col(CheckedTable.MESSAGE).as("message")));
      }
      for (String file : t.files().unreadable()) {
        all = all.unionByName(spark.sql("SELECT 1").select(lit(t.name()).as("source_table"), lit(file).as("source_file"),
            lit(null).cast("string").as("row_key"), lit(RejectReason.UNREADABLE_FILE.name()).as("reason"),
            lit("file is not readable as " + t.files().format().configName()).as("message")));
      }
    }
    return all;
  }

  /** A subject's QC group as a string: one presence flag (0/1) per modality, then |label index (- for none)|split. */
  private static Column qcGroup(List<ModalitySpec> specs) {
    List<Column> parts = new ArrayList<>();
    specs.forEach(s -> parts.add(when(col(s.presenceColumn()), lit("1")).otherwise(lit("0"))));
    parts.add(lit("|"));
    parts.add(org.apache.spark.sql.functions.coalesce(col("label").cast("string"), lit("-")));
    parts.add(lit("|"));
    parts.add(col("split"));
    return org.apache.spark.sql.functions.concat(parts.toArray(Column[]::new));
  }

  /** The observed QC groups as rows of (presence flags..., split, label, count), as {@link #qcReport} reads them. */
  private static List<Row> qcGroups(Map<String, Object> observed, List<ModalitySpec> specs) {
    List<Row> rows = new ArrayList<>();
    ValueCounts.fromResult(observed.get(QC_GROUPS_METRIC)).forEach((group, n) -> {
      String[] parts = group.split("\\|", 3);
      Object[] values = new Object[specs.size() + 3];
      for (int i = 0; i < specs.size(); i++) {
        values[i] = parts[0].charAt(i) == '1';
      }
      values[specs.size()] = parts[2];
      values[specs.size() + 1] = parts[1].equals("-") ? null : Integer.valueOf(parts[1]);
      values[specs.size() + 2] = n;
      rows.add(org.apache.spark.sql.RowFactory.create(values));
    });
    return rows;
  }

  /** {@code groups}: rows of (presence flags..., split, label, count) of the aligned cohort. */
  private QcReport qcReport(List<CheckedTable> tables, Map<String, Map<String, Long>> counts, Map<String, Long> afterIndex,
      List<Row> groups, List<ModalitySpec> specs, List<String> classes) {
    Map<String, Long> patterns = new java.util.TreeMap<>();
    Map<String, Long> present = new LinkedHashMap<>();
    Map<String, Map<String, Long>> balance = new java.util.TreeMap<>();
    Map<String, Long> splitCounts = new java.util.TreeMap<>();
    long total = 0;
    int k = specs.size();
    for (Row r : groups) {
      long n = r.getLong(k + 2);
      List<String> names = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        if (r.getBoolean(i)) {
          names.add(specs.get(i).name());
          present.merge(specs.get(i).name(), n, Long::sum);
        }
      }
      patterns.merge(String.join("+", names), n, Long::sum);
      String label = r.isNullAt(k + 1) ? "unlabeled" : classes.get(r.getInt(k + 1));
      balance.computeIfAbsent(r.getString(k), s -> new java.util.TreeMap<>()).merge(label, n, Long::sum);
      splitCounts.merge(r.getString(k), n, Long::sum);
      total += n;
    }
    Map<String, QcReport.TableQc> tableQc = new LinkedHashMap<>();
    for (CheckedTable t : tables) {
      Map<String, Long> byReason = new java.util.TreeMap<>(counts.get(t.name()));
      long accepted = byReason.getOrDefault("ACCEPTED", 0L);
      byReason.remove("ACCEPTED");
      long rowsIn = accepted + byReason.values().stream().mapToLong(Long::longValue).sum();
      tableQc.put(t.name(), new QcReport.TableQc(t.kind(), t.files().readable().size(), t.files().unreadable().size(), rowsIn, accepted,
          byReason, afterIndex.getOrDefault(t.name(), 0L), t.name().equals("subjects") ? total : present.getOrDefault(t.name(), 0L),
          idsTrimmed.getOrDefault(t.name(), 0L)));
    }
    return new QcReport(config.name(), tableQc, total, patterns, balance, splitCounts, List.of());
  }

  /** The table's rows by reason as the rejects pass marks them (ACCEPTED for none), in one job. */
  private static Map<String, Long> countByReason(CheckedTable t) {
    Map<String, Long> byReason = new LinkedHashMap<>(Map.of(ACCEPTED, 0L));
    for (Row r : t.rows().groupBy(org.apache.spark.sql.functions.coalesce(col(CheckedTable.REASON), lit(ACCEPTED))).count().collectAsList()) {
      byReason.put(r.getString(0), r.getLong(1));
    }
    return byReason;
  }

  /** Aligned subjects with a label (any split). */
  private static long labeledSubjects(QcReport qc) {
    return qc.labelBalance().values().stream().flatMap(m -> m.entrySet().stream()).filter(e -> !e.getKey().equals("unlabeled"))
        .mapToLong(Map.Entry::getValue).sum();
  }

  /**
   * Stops the run when no accepted subject has a label, unless allowed: the previous cohort, if
   * any, stays published. {@code aligned}: subjects aligned so far (0 before the aligned write).
   */
  private void failOnNoLabeledSubject(String subjectsPath, Map<String, Long> byReason, long accepted, long aligned) {
    if (allowEmpty) {
      LOG.warn("ingest: no accepted subject has a label; publishing anyway (allow-empty)");
      return;
    }
    long rowsIn = byReason.values().stream().mapToLong(Long::longValue).sum();
    throw new IngestException("Cannot publish cohort: no accepted subject of table 'subjects' (" + subjectsPath
        + ") has a label in column 'label' (" + rowsIn + " rows in, " + accepted + " accepted, rejected by reason "
        + rejectedOnly(byReason) + ", " + aligned + " aligned); " + outputDir + " was left as it was"
        + " (pass --allow-empty or set output.allow-empty = true to publish it anyway)");
  }

  private static Map<String, Long> rejectedOnly(Map<String, Long> byReason) {
    Map<String, Long> rejected = new java.util.TreeMap<>(byReason);
    rejected.remove(ACCEPTED);
    return rejected;
  }

  /**
   * The report with what should be looked at before the cohort is used: a modality no aligned
   * subject has, a single label class, and for time series a unit mix-up of 'time' and
   * subjects.index_time (nearly every accepted observation after its subject's index time, or
   * the two time ranges far apart). All from counts the aligned write gathered.
   */
  private QcReport withWarnings(QcReport qc, Map<String, ModalityJoin> joins, Map<String, Object> alignedCounts, long labeled,
      Map<String, List<String>> schemaWarnings) {
    List<QcReport.Warning> warnings = new ArrayList<>();
    for (Map.Entry<String, QcReport.TableQc> e : qc.tables().entrySet()) {
      QcReport.TableQc t = e.getValue();
      String name = e.getKey();
      if (name.equals("subjects")) {
        continue;
      }
      if (t.subjectsPresent() == 0) {
        String why = t.rowsIn() == 0 ? "the table is empty"
            : t.accepted() == 0 ? "all " + t.rowsIn() + " rows were rejected " + t.rejected()
            : t.accepted() + " of " + t.rowsIn() + " rows were accepted but none is used"
                + (t.afterIndexTime() > 0 ? " (" + t.afterIndexTime() + " after index_time)" : "");
        warnings.add(new QcReport.Warning("EMPTY_MODALITY", name, "modality '" + name + "' (" + config.resolve(config.modalities().get(name).path())
            + "): no aligned subject has it: " + why));
      }
      if (joins.get(name) instanceof ModalityJoin.TimeSeries ts) {
        if (t.accepted() > 0 && t.afterIndexTime() >= AFTER_INDEX_WARNING_SHARE * t.accepted()) {
          warnings.add(new QcReport.Warning("TIME_AFTER_INDEX", name, String.format(java.util.Locale.ROOT,
              "time series '%s': %d of %d accepted observations (%.1f%%) fall after their subject's index_time and are not used;"
                  + " are column 'time' and subjects.index_time in one unit?", name, t.afterIndexTime(), t.accepted(),
              100.0 * t.afterIndexTime() / t.accepted())));
        }
        ts.timeRanges(alignedCounts).filter(ModalityJoin.TimeRanges::apart).ifPresent(r -> warnings.add(new QcReport.Warning(
            "TIME_RANGES_APART", name, String.format(java.util.Locale.ROOT,
                "time series '%s': the times of its %d accepted observations and the index times of their subjects do not overlap"
                    + " (gap %.3g times the wider range; magnitudes %.3g-fold apart); are column 'time' and subjects.index_time in one unit?",
                name, t.accepted(), r.wider() == 0 ? Double.POSITIVE_INFINITY : r.gap() / r.wider(), r.scaleRatio()))));
      }
    }
    for (Map.Entry<String, java.util.List<String>> e : schemaWarnings.entrySet()) {
      for (String w : e.getValue()) {
        warnings.add(new QcReport.Warning("SCHEMA_UNION", e.getKey(), "table '" + e.getKey() + "': " + w));
      }
    }
    long classesSeen = qc.labelBalance().values().stream().flatMap(m -> m.keySet().stream()).filter(k -> !k.equals("unlabeled"))
        .distinct().count();
    if (labeled > 0 && classesSeen == 1) {
      warnings.add(new QcReport.Warning("SINGLE_CLASS", "subjects", "all " + labeled
          + " labeled subjects of table 'subjects' have the same value in column 'label': one class, nothing to discriminate"
          + " (pretrain and train need two)"));
    }
    return new QcReport(qc.cohort(), qc.tables(), qc.subjectsAligned(), qc.patterns(), qc.labelBalance(), qc.splitCounts(), warnings);
  }


  @SuppressWarnings("unchecked")
  private Map<String, Object> configAsMap() {
    return Json.MAPPER.convertValue(config, Map.class);
  }

  private static scala.collection.Seq<String> seq(String... names) {
    return JavaConverters.asScalaBuffer(List.of(names)).toSeq();
  }

}
