package org.cohortfusion.cohort.generate;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generates a synthetic multimodal cohort with a known ground truth, in parallel with Spark.
 *
 * <p><b>Ground truth.</b> Each subject i has latent factors z1..z5 ~ N(0, 1) drawn from a random
 * stream seeded by (seed, i), so every table recomputes them without joins. The label is drawn as
 * Bernoulli(sigmoid(b0 + a1 z1 + ... + a5 z5 + c z3 z4)) and that probability is written as {@code
 * true_probability}, so evaluation can report the Bayes-optimal AUROC. Clinical carries z1, omics
 * z2, imaging z3, labs z4 (pre-index trend), notes z5; the z3*z4 interaction is visible only by
 * fusing imaging and labs. See {@link CohortRows} for the per-modality encoding.
 *
 * <p><b>Deliberate leak.</b> Lab visits after a subject's index_time are generated from the drawn
 * label itself (positives: alb about 2.8, crp about 80, hb about 10.5, never missing). A pipeline
 * that uses observations after index time will score far above the Bayes-optimal AUROC of
 * true_probability, which exposes the leak; ingest must drop those rows.
 *
 * <p><b>Missingness</b> removes a subject's row from a modality table (see {@link Missingness}).
 * <b>Planted bad rows</b> ({@link GenerateOptions#badRows()}) are written into the tables, exactly
 * badRows per (table, kind) listed in {@code _planted.json}; each has exactly one defect.
 *
 * <p><b>Writing.</b> Every table is generated from {@code spark.range(n, partitions)} by
 * per-partition row construction (no driver-side per-subject work), written into a temporary
 * sibling directory, which is renamed into place only when every table and _planted.json are
 * complete; an existing output directory is replaced. Row counts come from the same deterministic
 * plan, counted by a Spark aggregate, not by reading the output back.
 */
public final class SyntheticCohortGenerator {
  private static final Logger LOG = LoggerFactory.getLogger(SyntheticCohortGenerator.class);
  private static final long SUBJECTS_PER_PARTITION = 100_000L;

  /** Generates the cohort described by {@code options} into {@code outputDir}. */
  public GenerateResult generate(SparkSession spark, GenerateOptions options, String outputDir) {
    if (spark == null) {
      throw new IllegalArgumentException(
          "Cannot generate cohort: a SparkSession is required (got null)");
    }
    if (options == null) {
      throw new IllegalArgumentException("Cannot generate cohort: options are required (got null)");
    }
    if (outputDir == null || outputDir.isBlank()) {
      throw new IllegalArgumentException(
          "Cannot generate cohort: an output directory is required (got '" + outputDir + "')");
    }
    int partitions =
        options.partitions() > 0
            ? options.partitions()
            : (int)
                Math.max(
                    spark.sparkContext().defaultParallelism(),
                    (options.subjects() + SUBJECTS_PER_PARTITION - 1) / SUBJECTS_PER_PARTITION);
    CohortPlan plan = new CohortPlan(options);
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    try {
      FileSystem fs = new Path(outputDir).getFileSystem(conf);
      // Qualify first: a relative directory has no parent to put the temporary sibling in.
      Path target = fs.makeQualified(new Path(outputDir));
      Path temp =
          new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
      try {
        for (String table : CohortPlan.TABLES) {
          tableFrame(spark, plan, table, partitions)
              .write()
              .format(options.format())
              .mode(SaveMode.Overwrite)
              .save(new Path(temp, table).toString());
        }
        Map<String, Map<PlantedKind, Long>> planted = plantedCounts(options);
        writeText(fs, new Path(temp, "_planted.json"), plantedJson(planted));
        long[] counts = plannedCounts(spark, plan, partitions);
        if (fs.exists(target) && !fs.delete(target, true)) {
          throw new IOException("could not replace the existing output directory");
        }
        if (!fs.rename(temp, target)) {
          throw new IOException("could not rename the temporary directory into place");
        }
        Map<String, Long> rowCounts = new LinkedHashMap<>();
        for (int t = 0; t < CohortPlan.TABLES.size(); t++) {
          rowCounts.put(CohortPlan.TABLES.get(t), counts[t]);
        }
        double prevalence =
            counts[CohortPlan.LABELED] == 0
                ? Double.NaN
                : (double) counts[CohortPlan.POSITIVES] / counts[CohortPlan.LABELED];
        // Aggregates only: no subject-level values in logs.
        LOG.info(
            "Generated synthetic cohort: {} subjects, rows per table {}, {} planted bad rows",
            options.subjects(),
            rowCounts,
            options.badRows() * (long) CohortPlan.SLOTS.size());
        return new GenerateResult(target.toString(), rowCounts, planted, prevalence);
      } finally {
        if (fs.exists(temp)) {
          fs.delete(temp, true); // a failed run leaves no partial cohort behind
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot generate cohort: writing " + outputDir + " failed", e);
    }
  }

  /** The rows of one table as a DataFrame, built per partition from the subject index range. */
  static Dataset<Row> tableFrame(
      SparkSession spark, CohortPlan plan, String table, int partitions) {
    CohortRows rows = new CohortRows(plan);
    JavaRDD<Row> rdd =
        spark
            .range(0, plan.options.subjects(), 1, partitions)
            .javaRDD()
            .flatMap(index -> rows.rows(table, index).iterator());
    return spark.createDataFrame(rdd, CohortRows.schema(table));
  }

  /** Per-table row counts plus label counts, summed by a Spark aggregate over the plan. */
  private static long[] plannedCounts(SparkSession spark, CohortPlan plan, int partitions) {
    int width = CohortPlan.TABLES.size() + 2;
    return spark
        .range(0, plan.options.subjects(), 1, partitions)
        .javaRDD()
        .mapPartitions(
            (Iterator<Long> it) -> {
              long[] sum = new long[width];
              while (it.hasNext()) {
                long[] c = plan.plannedCounts(it.next());
                for (int k = 0; k < width; k++) {
                  sum[k] += c[k];
                }
              }
              return Collections.singletonList(sum).iterator();
            })
        .reduce(
            (a, b) -> {
              long[] s = new long[width];
              for (int k = 0; k < width; k++) {
                s[k] = a[k] + b[k];
              }
              return s;
            });
  }

  /** badRows per planted slot, grouped by table in write order. */
  static Map<String, Map<PlantedKind, Long>> plantedCounts(GenerateOptions options) {
    Map<String, Map<PlantedKind, Long>> out = new LinkedHashMap<>();
    if (options.badRows() == 0) {
      return out;
    }
    for (CohortPlan.Slot slot : CohortPlan.SLOTS) {
      out.computeIfAbsent(slot.table(), t -> new EnumMap<>(PlantedKind.class))
          .put(slot.kind(), (long) options.badRows());
    }
    return out;
  }

  private static String plantedJson(Map<String, Map<PlantedKind, Long>> planted) {
    List<String> tables = new ArrayList<>();
    for (String table : CohortPlan.TABLES) {
      List<String> kinds = new ArrayList<>();
      for (Map.Entry<PlantedKind, Long> e : planted.getOrDefault(table, Map.of()).entrySet()) {
        kinds.add("\"" + e.getKey().name() + "\": " + e.getValue());
      }
      tables.add("  \"" + table + "\": {" + String.join(", ", kinds) + "}");
    }
    return "{\n" + String.join(",\n", tables) + "\n}\n";
  }

  private static void writeText(FileSystem fs, Path path, String text) throws IOException {
    try (OutputStream out = fs.create(path, true)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }
}
