package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.cohortfusion.config.SplitConfig;
import org.cohortfusion.spark.internal.ValueCounts;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.ModalityKind;
import org.cohortfusion.stage.ModalitySpec;
import scala.collection.JavaConverters;

/**
 * Writes the aligned cohort table: the accepted subjects with their splits, one column group per
 * modality with its presence mask, in the one pass over the modality tables that also observes
 * every count the QC report needs. The write changes a few session settings for itself only ({@link
 * #writeObserved}) and turns Parquet dictionaries off where they cannot pay ({@link
 * ParquetWriterOptions}).
 */
final class AlignedWriter {
  /**
   * Aligned-observation metrics: subjects with any modality, and those of them in train (no
   * modality is named "").
   */
  static final String ALIGNED_METRIC = ":aligned";

  /**
   * Aligned-observation metric: subjects per QC group (presence pattern, label, split), see {@link
   * #qcGroup}.
   */
  static final String QC_GROUPS_METRIC = ":qc-groups";

  /** Aligned-observation metric: the accepted subjects kept, one per subject_id. */
  static final String KEPT_METRIC = ":kept";

  /**
   * Input bytes (as stored) per shuffle partition of the aligned write. A task of the write sorts
   * its whole partition in Spark's memory pages, so with a fixed partition count every task's share
   * grows with the cohort: at 8 partitions a million subjects were 125,000 per task. Sized by the
   * input, a partition holds about as much at any cohort size; adaptive execution then coalesces
   * partitions smaller than its advisory size (64 MB by default), so a small cohort keeps few
   * tasks. At a million subjects in local mode this took the write's peak heap from about 1.5 to
   * 0.95 GB; most of the rest is the sorts of its joins, bounded by Spark's execution memory.
   */
  static final long INPUT_BYTES_PER_SHUFFLE_PARTITION = 16L << 20;

  private final SparkSession spark;
  private final SplitConfig splits;
  private final long inputBytesPerPartition;

  AlignedWriter(SparkSession spark, SplitConfig splits, long inputBytesPerPartition) {
    this.spark = spark;
    this.splits = splits;
    this.inputBytesPerPartition = inputBytesPerPartition;
  }

  /**
   * The aligned write's shuffle partitions: the session's {@code spark.sql.shuffle.partitions}, or
   * more when the input needs them, one per {@code bytesPerPartition} of input.
   */
  static int shufflePartitions(int configured, long inputBytes, long bytesPerPartition) {
    long byInput = (inputBytes + bytesPerPartition - 1) / bytesPerPartition;
    return (int) Math.min(Integer.MAX_VALUE, Math.max(configured, byInput));
  }

  /**
   * The written aligned table: {@code base}, the accepted subjects with label index and split;
   * {@code cohort}, the plan written; {@code counts}, its observed metrics; {@code subjectsKept},
   * the accepted subjects after duplicates, as the write found them.
   */
  record AlignedWrite(
      Dataset<Row> base, Dataset<Row> cohort, Map<String, Object> counts, long subjectsKept) {}

  /**
   * Aligns the accepted subjects (splits assigned on this slim table, before any payload joins in),
   * one column group per modality with its presence mask, and writes them to {@code dir}, observing
   * every modality's counts after its join and the QC groups on the way.
   */
  AlignedWrite write(
      Dataset<Row> subjects,
      SubjectsSummary summary,
      ModalityPlanner.PlannedModalities planned,
      long inputBytes,
      String dir) {
    List<ModalitySpec> specs = planned.specs();
    Map<String, ModalityJoin> joins = planned.joins();
    Dataset<Row> base =
        SplitAssigner.assign(
            base(subjects, summary.classes()), splits, summary.cuts().orElse(null));
    Dataset<Row> aligned = base;
    // Time series first: the projections that resolve them copy the row they are in (and with
    // latest:<column> the sort is a lambda, a projection Spark does not compile), and the row is
    // still slim before the wide modalities join in. The written column order is set below.
    List<ModalitySpec> joinOrder = new ArrayList<>(specs);
    joinOrder.sort(Comparator.comparing(s -> s.kind() != ModalityKind.TIMESERIES));
    for (ModalitySpec spec : joinOrder) {
      ModalityJoin join = joins.get(spec.name());
      aligned =
          join.resolve(aligned.join(join.right(), seq(TableValidator.ID), "left"))
              .withColumn(spec.presenceColumn(), col(spec.name()).isNotNull());
    }
    // One observation on the aligned rows, before subjects without any modality are dropped: every
    // modality's counts after its join, the QC groups, and the subjects kept (every join is by a
    // key unique on its right side).
    ObservedMetrics alignedMetrics = new ObservedMetrics();
    joins.values().forEach(j -> alignedMetrics.addAll(j.joinedMetrics()));
    Observation alignedObservation = new Observation("ingest-aligned");
    Column anyPresent =
        specs.stream().map(s -> col(s.presenceColumn())).reduce(Column::or).orElseThrow();
    alignedMetrics.add(ModalityJoin.countWhere(anyPresent, ALIGNED_METRIC));
    alignedMetrics.add(
        ValueCounts.of(alignedMetrics.input(when(anyPresent, qcGroup(specs))))
            .as(QC_GROUPS_METRIC));
    alignedMetrics.add(ModalityJoin.countWhere(lit(true), KEPT_METRIC));
    Dataset<Row> cohort =
        orderColumns(alignedMetrics.observe(aligned, alignedObservation).filter(anyPresent), specs);
    writeObserved(cohort, inputBytes, dir);
    Map<String, Object> counts = ModalityJoin.metrics(alignedObservation);
    return new AlignedWrite(base, cohort, counts, ModalityJoin.metric(counts, KEPT_METRIC));
  }

  /**
   * Writes with four session settings changed for this write only:
   *
   * <ul>
   *   <li>the shuffle partitions sized by the input ({@link #shufflePartitions});
   *   <li>adaptive execution's empty-relation propagation off: when every row of a table is
   *       rejected, that rule would drop the table's (already executed) stage from the final plan
   *       and its observed counts with it;
   *   <li>sort-based instead of object-hash aggregation for the time series grouped per subject:
   *       the hash aggregate gives up above 128 subjects per task and sorts anyway, and after the
   *       shuffle the sort by subject_id that the sort-based one needs also serves the join;
   *   <li>adaptive execution's skew-join splitting off: it may split one subject_id partition over
   *       several tasks, and the row kept of each subject is found within a task ({@link
   *       CheckedTable#firstAcceptedPerSubject}).
   * </ul>
   */
  private void writeObserved(Dataset<Row> df, long inputBytes, String dir) {
    String excluded = "spark.sql.adaptive.optimizer.excludedRules";
    String rule = "org.apache.spark.sql.execution.adaptive.AQEPropagateEmptyRelation";
    String excludedBefore = spark.conf().getOption(excluded).getOrElse(() -> null);
    String partitions = "spark.sql.shuffle.partitions";
    SessionConf.with(
        spark,
        Map.of(
            partitions,
            Integer.toString(
                shufflePartitions(
                    Integer.parseInt(spark.conf().get(partitions)),
                    inputBytes,
                    inputBytesPerPartition)),
            excluded,
            excludedBefore == null || excludedBefore.isEmpty() ? rule : excludedBefore + "," + rule,
            "spark.sql.execution.useObjectHashAggregateExec",
            "false",
            "spark.sql.adaptive.skewJoin.enabled",
            "false"),
        () -> {
          if (Boolean.getBoolean("cohortfusion.explain")) {
            df.explain("formatted");
          }
          df.write()
              .options(ParquetWriterOptions.noDictionaryForFloatArrays(df.schema()))
              .parquet(dir);
          return null;
        });
  }

  /**
   * The accepted subjects as the aligned table starts: subject_id, label index, index time, the
   * given split if any, group, the known truths and the source file (for rejects).
   */
  static Dataset<Row> base(Dataset<Row> subjects, List<String> classes) {
    List<Column> cols = new ArrayList<>();
    cols.add(col(TableValidator.ID));
    cols.add(SubjectsPreparer.labelIndex(classes).as(Columns.LABEL));
    cols.add(col(SubjectsPreparer.INDEX_TIME).as(Columns.INDEX_TIME));
    if (TableValidator.has(subjects, SubjectsPreparer.DURATION)) {
      cols.add(col(SubjectsPreparer.DURATION).as(Columns.DURATION));
    }
    if (TableValidator.has(subjects, Columns.SPLIT)) {
      cols.add(col(Columns.SPLIT));
    }
    cols.add(
        TableValidator.has(subjects, Columns.GROUP)
            ? col(Columns.GROUP).cast("string").as(Columns.GROUP)
            : lit(null).cast("string").as(Columns.GROUP));
    for (String truth : List.of("true_probability", "observable_probability")) {
      if (TableValidator.has(subjects, truth)) {
        cols.add(col(truth).cast("double").as(truth));
      }
    }
    cols.add(col(TableSource.SOURCE_FILE));
    return subjects.filter(CheckedTable.accepted()).select(cols.toArray(Column[]::new));
  }

  private static Dataset<Row> orderColumns(Dataset<Row> cohort, List<ModalitySpec> specs) {
    List<String> order =
        new ArrayList<>(List.of(TableValidator.ID, Columns.LABEL, Columns.INDEX_TIME));
    if (TableValidator.has(cohort, Columns.DURATION)) {
      order.add(Columns.DURATION);
    }
    order.addAll(List.of(Columns.SPLIT, Columns.FOLD, Columns.GROUP));
    for (String truth : List.of("true_probability", "observable_probability")) {
      if (TableValidator.has(cohort, truth)) {
        order.add(truth);
      }
    }
    specs.forEach(s -> order.add(s.presenceColumn()));
    specs.forEach(s -> order.add(s.name()));
    return cohort.select(order.stream().map(functions::col).toArray(Column[]::new));
  }

  /**
   * A subject's QC group as a string: one presence flag (0/1) per modality, then |label index (-
   * for none)|split.
   */
  static Column qcGroup(List<ModalitySpec> specs) {
    List<Column> parts = new ArrayList<>();
    specs.forEach(s -> parts.add(when(col(s.presenceColumn()), lit("1")).otherwise(lit("0"))));
    parts.add(lit("|"));
    parts.add(functions.coalesce(col(Columns.LABEL).cast("string"), lit("-")));
    parts.add(lit("|"));
    parts.add(col(Columns.SPLIT));
    return functions.concat(parts.toArray(Column[]::new));
  }

  private static scala.collection.Seq<String> seq(String... names) {
    return JavaConverters.asScalaBuffer(List.of(names)).toSeq();
  }
}
