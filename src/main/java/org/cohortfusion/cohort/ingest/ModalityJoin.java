package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.config.DuplicatePolicy;
import org.cohortfusion.config.ModalityConfig;
import org.cohortfusion.stage.ModalitySpec;

/**
 * How one modality's checked rows join the aligned cohort, and how they are counted on the way. The
 * aligned cohort is built by left joins from the accepted subjects, so a row whose subject is
 * unknown simply finds no partner. Rows are therefore counted twice, both as observed metrics of
 * the one aligned write: before the join, by check reason ({@link #right()}), and after it, those
 * that found their subject ({@link #joinedMetrics}, from per-subject columns that the right side or
 * {@link #resolve} adds). The difference is the duplicates and the rows of unknown subjects: no
 * join against the known subjects is needed, and a clean table is joined once, as in a bare join.
 *
 * <p>The joined metrics of all modalities are observed once, by the caller: every observation on
 * the aligned rows, which carry every payload, would make Spark copy them once more.
 *
 * <p>Two shapes: {@link #perRow} for tables with one row per subject, and {@link #timeSeries},
 * which groups a subject's observations into one array before the shuffle.
 */
abstract sealed class ModalityJoin permits ModalityJoin.PerRow, ModalityJoin.TimeSeries {
  static final String UNKNOWN_SUBJECT_MESSAGE = "subject_id is not among the accepted subjects";
  private static final String ACCEPTED = "ACCEPTED";

  /** The before-join count of rows that pass every check, before duplicates are told apart. */
  private static final String PASSED_CHECKS = "PASSED_CHECKS";

  final String name;
  final Observation beforeJoin;

  /** The reasons the table's checks can give: only these are counted, each costs an aggregate. */
  final Set<RejectReason> checkReasons = java.util.EnumSet.noneOf(RejectReason.class);

  private ModalityJoin(String name, List<RowCheck> checks) {
    this.name = name;
    this.beforeJoin = new Observation("ingest-" + name);
    checks.forEach(c -> checkReasons.add(c.reason()));
  }

  /** What the aligned cohort left-joins by subject_id: one or more rows per subject, observed. */
  abstract Dataset<Row> right();

  /**
   * The aligned cohort after its left join with {@link #right()}: the modality's column {@code
   * name} (null when the subject has none) and the count columns of {@link #joinedMetrics}, which
   * the caller drops once observed.
   */
  abstract Dataset<Row> resolve(Dataset<Row> joined);

  /**
   * Aggregates over the resolved rows, before any subject is dropped; named uniquely per modality.
   */
  abstract List<Column> joinedMetrics();

  /**
   * After the write that ran both observations ({@code joined}: the values of {@link
   * #joinedMetrics}): fills {@code byReason} with ACCEPTED and every reason seen, and returns the
   * accepted rows after the index time (time series). {@code rejectable}: the table's rows as the
   * rejects pass reads them (bookkeeping columns, every reason marked).
   */
  abstract long counts(
      Map<String, Long> byReason,
      Map<String, Object> joined,
      java.util.function.Supplier<Dataset<Row>> rejectable);

  /** A count column of this modality. */
  String column(String what) {
    return "_" + name + "_" + what;
  }

  /** A joined metric of this modality. */
  String metricName(String what) {
    return name + ":" + what;
  }

  /**
   * A table with one row per subject (tabular, vector, image, text): the row kept of each subject
   * ({@link CheckedTable#firstAcceptedPerSubject}, in the partitioning and order the join needs)
   * joins; duplicates and rows of unknown subjects are told apart only when there are any.
   */
  static ModalityJoin perRow(
      String name, ModalityConfig m, Dataset<Row> checked, List<RowCheck> checks) {
    return new PerRow(name, m, checked, checks);
  }

  /** A long-format time series: see {@link TimeSeries}. */
  static ModalityJoin timeSeries(
      String name,
      ModalityConfig m,
      ModalitySpec spec,
      Dataset<Row> checked,
      List<RowCheck> checks,
      String indexTime) {
    return new TimeSeries(name, m, spec, checked, checks, indexTime);
  }

  static Map<String, Object> metrics(Observation observation) {
    try {
      return observation.getAsJava();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IngestException(
          "Cannot read the metrics " + observation.name() + ": interrupted", e);
    }
  }

  static long metric(Map<String, Object> metrics, String key) {
    Object v = metrics.get(key);
    return v == null ? 0L : ((Number) v).longValue();
  }

  static Column countWhere(Column condition, String as) {
    return count(when(condition, lit(1))).as(as);
  }

  static void put(Map<String, Long> byReason, String reason, long n) {
    if (n > 0 || reason.equals(ACCEPTED)) {
      byReason.put(reason, n);
    }
  }

  /**
   * Observation times [firstTime, lastTime] and index times [firstIndex, lastIndex], as numbers.
   */
  record TimeRanges(double firstTime, double lastTime, double firstIndex, double lastIndex) {
    /** Magnitudes this many times apart, on ranges that do not overlap, look like two units. */
    static final double SCALE_APART = 20;

    /**
     * Whether the ranges do not overlap and either lie further apart than the wider is wide, or
     * differ in magnitude {@link #SCALE_APART}-fold or more: what a unit mix-up gives (factors of
     * 24 to 86 400 000). Visits that end shortly before one fixed index time (a landmark design),
     * or times counted back from an index time of 0, are neither.
     */
    boolean apart() {
      return gap() > 0 && (gap() > wider() || scaleRatio() >= SCALE_APART);
    }

    /** The gap between the ranges (negative when they overlap). */
    double gap() {
      return Math.max(firstTime - lastIndex, firstIndex - lastTime);
    }

    /** The width of the wider range. */
    double wider() {
      return Math.max(lastTime - firstTime, lastIndex - firstIndex);
    }

    /**
     * How many times larger the larger range's largest magnitude is than the other's; 0 when either
     * is 0.
     */
    double scaleRatio() {
      double time = Math.max(Math.abs(firstTime), Math.abs(lastTime));
      double index = Math.max(Math.abs(firstIndex), Math.abs(lastIndex));
      return time == 0 || index == 0 ? 0 : Math.max(time, index) / Math.min(time, index);
    }
  }

  static final class PerRow extends ModalityJoin {
    private final Dataset<Row> right;

    private PerRow(String name, ModalityConfig m, Dataset<Row> checked, List<RowCheck> checks) {
      super(name, checks);
      // Counted by check reason before the shuffle, where the rows are built anyway: counting
      // after the duplicate window would make Spark copy every row once more, and the rows that
      // pass the checks (PASSED_CHECKS) are all the join-side counts need.
      List<Column> counts = new ArrayList<>();
      counts.add(count(col(CheckedTable.PASSED)).as(PASSED_CHECKS));
      for (RejectReason r : checkReasons) {
        counts.add(countWhere(col(CheckedTable.REASON).equalTo(r.name()), r.name()));
      }
      Dataset<Row> observed =
          CheckedTable.withPassedFlag(checked)
              .observe(
                  beforeJoin,
                  counts.get(0),
                  counts.subList(1, counts.size()).toArray(Column[]::new));
      // One row per subject joins; a marker counts those that found their subject.
      this.right =
          CheckedTable.firstAcceptedPerSubject(observed, m.duplicates(), name)
              .select(
                  col(TableValidator.ID),
                  col(ModalityPreparer.PAYLOAD).as(name),
                  lit(true).as(column("matched")));
    }

    @Override
    Dataset<Row> right() {
      return right;
    }

    @Override
    Dataset<Row> resolve(Dataset<Row> joined) {
      return joined;
    }

    @Override
    List<Column> joinedMetrics() {
      return List.of(countWhere(col(column("matched")).isNotNull(), metricName(ACCEPTED)));
    }

    /**
     * The rows that passed the checks but did not join are duplicates of known subjects or rows of
     * unknown subjects. Most tables have neither; when a table has some, they are told apart by the
     * rejects' own rules ({@code rejectable}), in a job of their own: it reads the columns the
     * checks need once more, payload included, before the rejects pass reads them again. Counting
     * them in the rejects write instead would spare that read.
     */
    @Override
    long counts(
        Map<String, Long> byReason,
        Map<String, Object> joined,
        java.util.function.Supplier<Dataset<Row>> rejectable) {
      Map<String, Object> before = metrics(beforeJoin);
      long accepted = metric(joined, metricName(ACCEPTED));
      long leftOut = metric(before, PASSED_CHECKS) - accepted;
      long duplicates =
          leftOut == 0
              ? 0
              : rejectable
                  .get()
                  .filter(col(CheckedTable.REASON).equalTo(RejectReason.DUPLICATE.name()))
                  .count();
      put(byReason, ACCEPTED, accepted);
      put(byReason, RejectReason.DUPLICATE.name(), duplicates);
      put(byReason, RejectReason.UNKNOWN_SUBJECT.name(), leftOut - duplicates);
      for (RejectReason r : checkReasons) {
        put(byReason, r.name(), metric(before, r.name()));
      }
      return 0;
    }
  }

  /**
   * A long-format time series, grouped to one row per subject before the shuffle: each subject's
   * check-accepted observations as one array, its rejected rows counted per reason. Spark
   * aggregates map side, so the shuffle carries about one row per subject, as a bare collect_list
   * would, not one per observation. After the join, the duplicate and point-in-time rules work on
   * that array, sorted by time: an observation is a duplicate when the one before it has the same
   * time, and is used when it is no duplicate and at or before the subject's index time.
   *
   * <p>{@link #rejectedRows} applies the very same array rules to find the duplicates and rows of
   * unknown subjects that the rejects table lists, so counts and rejects agree by construction.
   */
  static final class TimeSeries extends ModalityJoin {
    private static final String OBSERVATIONS = "_observations";
    private static final String SORTED = "_sorted";
    private static final String RESOLVED = "_resolved";
    private static final String AFTER = "_after_index";
    private static final String REJECTED = "_rejected_reasons";

    private final ModalityConfig m;
    private final ModalitySpec spec;
    private final String indexTime;
    private final Dataset<Row> right;

    private TimeSeries(
        String name,
        ModalityConfig m,
        ModalitySpec spec,
        Dataset<Row> checked,
        List<RowCheck> checks,
        String indexTime) {
      super(name, checks);
      this.m = m;
      this.spec = spec;
      this.indexTime = indexTime;
      // Spark evaluates the inputs of collect_list row by row, uncompiled: so the element struct is
      // built in a compiled projection before, and the (rare) rejected rows are counted per reason
      // from a second list, of their reasons, after the shuffle.
      Column element =
          TimeSeriesWindow.element(
              m.duplicates().orderColumn(), TimeSeriesWindow.channelFields(spec.channels()));
      Dataset<Row> grouped =
          checked
              .select(
                  col(TableValidator.ID),
                  when(CheckedTable.accepted(), element).as(OBSERVATIONS),
                  col(CheckedTable.REASON))
              .groupBy(col(TableValidator.ID))
              .agg(
                  collect_list(col(OBSERVATIONS)).as(OBSERVATIONS),
                  collect_list(col(CheckedTable.REASON)).as(REJECTED));
      List<Column> observed = new ArrayList<>();
      observed.add(sum(size(col(OBSERVATIONS))).as(PASSED_CHECKS));
      for (RejectReason r : checkReasons) {
        observed.add(
            sum(size(col(REJECTED))
                    .minus(
                        size(org.apache.spark.sql.functions.array_remove(col(REJECTED), r.name()))))
                .as(r.name()));
      }
      this.right =
          grouped
              .observe(
                  beforeJoin,
                  observed.get(0),
                  observed.subList(1, observed.size()).toArray(Column[]::new))
              .select(TableValidator.ID, OBSERVATIONS);
    }

    @Override
    Dataset<Row> right() {
      return right;
    }

    @Override
    Dataset<Row> resolve(Dataset<Row> joined) {
      // One compiled call per subject (TimeSeriesTensor): sorting, duplicates, the point-in-time
      // rule and the tensor. Only latest:<column> needs Spark to sort first (any order column
      // type).
      boolean latest = m.duplicates().mode() == DuplicatePolicy.Mode.LATEST;
      Column observations = latest ? sorted(m.duplicates()) : col(OBSERVATIONS);
      Column resolved =
          TimeSeriesTensor.of(
              observations,
              latest,
              col(indexTime),
              spec.channels().size(),
              m.steps(),
              m.binWidth());
      return joined
          .withColumn(RESOLVED, resolved)
          .withColumn(column("matched"), coalesce(col(RESOLVED + ".matched"), lit(0)))
          .withColumn(column("duplicates"), coalesce(col(RESOLVED + ".duplicates"), lit(0)))
          .withColumn(column("after"), coalesce(col(RESOLVED + ".after"), lit(0)))
          .withColumn(column("first"), col(RESOLVED + ".first_time"))
          .withColumn(column("last"), col(RESOLVED + ".last_time"))
          .withColumn(
              column("index"), when(col(RESOLVED + ".first_time").isNotNull(), col(indexTime)))
          .withColumn(name, col(RESOLVED + ".tensor"))
          .drop(OBSERVATIONS, RESOLVED);
    }

    @Override
    List<Column> joinedMetrics() {
      // The time ranges cost four aggregates in the pass that runs anyway; they tell a unit mix-up
      // (times in ms, index times in days) that the after-index count alone can miss.
      return List.of(
          sum(col(column("matched"))).as(metricName("matched")),
          sum(col(column("duplicates"))).as(metricName(RejectReason.DUPLICATE.name())),
          sum(col(column("after"))).as(metricName(AFTER)),
          org.apache.spark.sql.functions.min(col(column("first"))).as(metricName("first")),
          org.apache.spark.sql.functions.max(col(column("last"))).as(metricName("last")),
          org.apache.spark.sql.functions.min(col(column("index"))).as(metricName("index-min")),
          org.apache.spark.sql.functions.max(col(column("index"))).as(metricName("index-max")));
    }

    /**
     * The range of the accepted observation times of subjects in the cohort, and the range of those
     * subjects' index times, after the write; empty when no subject has an observation.
     */
    java.util.Optional<TimeRanges> timeRanges(Map<String, Object> joined) {
      Object first = joined.get(metricName("first"));
      Object indexMin = joined.get(metricName("index-min"));
      if (first == null || indexMin == null) {
        return java.util.Optional.empty();
      }
      return java.util.Optional.of(
          new TimeRanges(
              ((Number) first).doubleValue(),
              ((Number) joined.get(metricName("last"))).doubleValue(),
              ((Number) indexMin).doubleValue(),
              ((Number) joined.get(metricName("index-max"))).doubleValue()));
    }

    @Override
    long counts(
        Map<String, Long> byReason,
        Map<String, Object> joined,
        java.util.function.Supplier<Dataset<Row>> rejectable) {
      Map<String, Object> before = metrics(beforeJoin);
      long matched = metric(joined, metricName("matched"));
      long duplicates = metric(joined, metricName(RejectReason.DUPLICATE.name()));
      put(byReason, ACCEPTED, matched - duplicates);
      put(byReason, RejectReason.DUPLICATE.name(), duplicates);
      put(byReason, RejectReason.UNKNOWN_SUBJECT.name(), metric(before, PASSED_CHECKS) - matched);
      for (RejectReason r : checkReasons) {
        put(byReason, r.name(), metric(before, r.name()));
      }
      return metric(joined, metricName(AFTER));
    }

    /**
     * The duplicates and rows of unknown subjects of a time-series table, as rows with {@link
     * CheckedTable#REASON} and {@link CheckedTable#MESSAGE} (plus the rows its checks rejected):
     * the same grouping and array rules as the aligned write, on the bookkeeping columns only.
     * {@code knownIds}: the accepted subjects' ids, in column {@code knownId}.
     */
    static Dataset<Row> rejectedRows(
        Dataset<Row> checked, Dataset<Row> knownIds, String knownId, ModalityConfig m) {
      Dataset<Row> byChecks =
          checked
              .filter(CheckedTable.accepted().unary_$bang())
              .select(
                  TableValidator.ID,
                  "time",
                  TableSource.SOURCE_FILE,
                  TableSource.ROW_ORDER,
                  CheckedTable.REASON,
                  CheckedTable.MESSAGE);
      Dataset<Row> grouped =
          checked
              .groupBy(col(TableValidator.ID))
              .agg(
                  collect_list(
                          when(
                              CheckedTable.accepted(),
                              TimeSeriesWindow.element(
                                  m.duplicates().orderColumn(), List.of(col("time").as("time")))))
                      .as(OBSERVATIONS));
      Dataset<Row> joined =
          grouped.join(
              knownIds, grouped.col(TableValidator.ID).equalTo(knownIds.col(knownId)), "left");
      String reason =
          "CASE WHEN "
              + knownId
              + " IS NULL THEN '"
              + RejectReason.UNKNOWN_SUBJECT.name()
              + "'"
              + " WHEN i > 0 AND "
              + SORTED
              + "[i - 1].t = x.t THEN '"
              + RejectReason.DUPLICATE.name()
              + "' END";
      Column rejected =
          expr(
              "filter(transform("
                  + SORTED
                  + ", (x, i) -> named_struct('time', x.time, 'file', x.f, 'row', x.r, 'reason', "
                  + reason
                  + ")), y -> y.reason IS NOT NULL)");
      String duplicateMessage = CheckedTable.duplicateMessage(m.keyColumns(), m.duplicates());
      Dataset<Row> exploded =
          joined
              .withColumn(SORTED, sorted(m.duplicates()))
              .select(
                  col(TableValidator.ID), org.apache.spark.sql.functions.explode(rejected).as("y"))
              .select(
                  col(TableValidator.ID),
                  col("y.time").as("time"),
                  col("y.file").as(TableSource.SOURCE_FILE),
                  col("y.row").as(TableSource.ROW_ORDER),
                  col("y.reason").as(CheckedTable.REASON),
                  when(
                          col("y.reason").equalTo(RejectReason.UNKNOWN_SUBJECT.name()),
                          lit(UNKNOWN_SUBJECT_MESSAGE))
                      .otherwise(lit(duplicateMessage))
                      .as(CheckedTable.MESSAGE));
      return byChecks.unionByName(exploded);
    }

    /**
     * The observations sorted by time, and within a time in the order that keeps the right one
     * first: file and row (first), or the order column descending, nulls last
     * (latest:&lt;column&gt;), as {@link CheckedTable#markDuplicates} orders rows. The element's
     * leading fields (t, f, r) make the first a plain compiled sort; the latest order needs a
     * comparator.
     */
    private static Column sorted(DuplicatePolicy policy) {
      if (policy.mode() != DuplicatePolicy.Mode.LATEST) {
        return org.apache.spark.sql.functions.sort_array(col(OBSERVATIONS));
      }
      return expr(
          "array_sort("
              + OBSERVATIONS
              + ", (a, b) -> CASE"
              + " WHEN a.t < b.t THEN -1 WHEN a.t > b.t THEN 1"
              + " WHEN a.k IS NULL AND b.k IS NOT NULL THEN 1 WHEN a.k IS NOT NULL AND b.k IS NULL THEN -1"
              + " WHEN a.k > b.k THEN -1 WHEN a.k < b.k THEN 1"
              + " WHEN a.f < b.f THEN -1 WHEN a.f > b.f THEN 1"
              + " WHEN a.r < b.r THEN -1 WHEN a.r > b.r THEN 1 ELSE 0 END)");
    }
  }
}
