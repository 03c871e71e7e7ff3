package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.stage.Columns;

/**
 * What one pass over the checked subjects finds: counts by reason (ACCEPTED included), the label
 * classes, the split cuts. The aligned write needs the classes and cuts before it is planned, so
 * they are found on the subjects alone, apart from any modality.
 */
record SubjectsSummary(
    Map<String, Long> byReason, List<String> classes, Optional<SplitAssigner.StratifiedCuts> cuts) {
  private static final String ACCEPTED = "ACCEPTED";

  /**
   * Whether the aligned table comes out the same with either: the same class indices and the same
   * split of every subject.
   */
  boolean sameSplitsAndClasses(SubjectsSummary other) {
    return classes.equals(other.classes)
        && cuts.isPresent() == other.cuts.isPresent()
        && (cuts.isEmpty() || cuts.get().sameAs(other.cuts.get()));
  }

  /**
   * Counts the checked subjects by reason and, unless configured, finds the label classes, in one
   * job; for stratified split cuts the same job counts the accepted subjects per label and bucket
   * of u, with the u values of the buckets near the expected cuts, so the cuts mostly need no job
   * of their own (one small job otherwise). The job's rows: one per reason, one per distinct label
   * of accepted subjects (per bucket and band value, for cuts), cut at one label more than allowed,
   * which classesOf rejects before any count is used. If the band values are too many the rows are
   * counted again without them; with more labels than cuts are worth, without buckets either, and
   * the splits are ranked instead.
   */
  static SubjectsSummary of(Dataset<Row> subjects, String subjectsPath, PipelineConfig config) {
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
        int limit =
            SplitAssigner.MAX_COUNTED_BUCKETS
                + withoutBuckets
                + (band ? SplitAssigner.MAX_BAND_VALUES : 0);
        Column value =
            band
                ? when(
                    accepted.and(
                        SplitAssigner.inBand(col(SplitAssigner.CUT_BUCKET), config.splits())),
                    col(SplitAssigner.U))
                : lit(null).cast("double");
        List<Row> found =
            located
                .groupBy(col(CheckedTable.REASON), label, bucket, value)
                .count()
                .limit(limit)
                .collectAsList();
        if (found.size() < limit) {
          rows = found;
          break;
        }
      }
      cut = rows != null;
    }
    if (!cut) {
      rows =
          subjects
              .groupBy(
                  col(CheckedTable.REASON),
                  findClasses ? label : lit(null).cast("string"),
                  lit(null).cast("int"),
                  lit(null).cast("double"))
              .count()
              .limit(withoutBuckets)
              .collectAsList();
    }
    Map<String, Long> byReason = new LinkedHashMap<>(Map.of(ACCEPTED, 0L));
    Set<String> labels = new HashSet<>();
    for (Row r : rows) {
      byReason.merge(r.isNullAt(0) ? ACCEPTED : r.getString(0), r.getLong(4), Long::sum);
      if (!r.isNullAt(1)) {
        labels.add(r.getString(1));
      }
    }
    List<String> classes =
        findClasses
            ? SubjectsPreparer.classesOf(labels, subjectsPath, config.subjects().maxClasses())
            : config.subjects().classes();
    Optional<SplitAssigner.StratifiedCuts> cuts = Optional.empty();
    if (cut) {
      // Strata by class index, as alignedBase gives it: a label text outside the classes has none
      // and counts with the unlabeled subjects.
      Map<Integer, long[]> perBucket = new HashMap<>();
      Map<SplitAssigner.CutBucket, List<Double>> bandValues = new HashMap<>();
      for (Row r : rows) {
        if (!r.isNullAt(2)) {
          int index = r.isNullAt(1) ? -1 : classes.indexOf(r.getString(1));
          Integer stratum = index < 0 ? null : index;
          perBucket
                  .computeIfAbsent(stratum, l -> new long[SplitAssigner.SPLIT_BUCKETS])[
                  r.getInt(2)] +=
              r.getLong(4);
          if (!r.isNullAt(3)) {
            List<Double> values =
                bandValues.computeIfAbsent(
                    new SplitAssigner.CutBucket(stratum, r.getInt(2)), c -> new ArrayList<>());
            for (long i = 0; i < r.getLong(4); i++) {
              values.add(r.getDouble(3));
            }
          }
        }
      }
      Map<SplitAssigner.CutBucket, double[]> known = new HashMap<>();
      bandValues.forEach(
          (c, us) -> known.put(c, us.stream().mapToDouble(Double::doubleValue).sorted().toArray()));
      cuts =
          SplitAssigner.stratifiedCuts(
              AlignedWriter.base(subjects, classes), config.splits(), perBucket, known);
    }
    return new SubjectsSummary(byReason, classes, cuts);
  }

  /**
   * Caches the checked subjects with only the columns later steps read (the label and index time as
   * derived, not as given).
   */
  static Dataset<Row> cacheSlim(SparkSession spark, Dataset<Row> checked) {
    List<String> keep =
        new ArrayList<>(
            List.of(
                TableValidator.ID,
                SubjectsPreparer.LABEL_TEXT,
                SubjectsPreparer.INDEX_TIME,
                TableSource.SOURCE_FILE,
                TableSource.ROW_ORDER,
                CheckedTable.REASON,
                CheckedTable.MESSAGE));
    for (String optional :
        List.of(
            Columns.SPLIT,
            Columns.GROUP,
            "true_probability",
            "observable_probability",
            SubjectsPreparer.DURATION)) {
      if (TableValidator.has(checked, optional)) {
        keep.add(optional);
      }
    }
    Dataset<Row> slim = checked.select(keep.stream().map(functions::col).toArray(Column[]::new));
    // Uncompressed: to choose an encoding, Spark boxes every value of every column into a Scala
    // hash
    // map per batch. At 1M subjects that took the caching stage from about 6 to under 3 CPU-s (task
    // CPU, alternating in one JVM); the slim table is small either way. The setting is read when
    // the cache is defined, so it is set for the persist call only.
    return SessionConf.with(
        spark,
        Map.of("spark.sql.inMemoryColumnarStorage.compressed", "false"),
        () -> slim.persist(StorageLevel.MEMORY_AND_DISK()));
  }
}
