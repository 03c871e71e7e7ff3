package org.cohortfusion.cohort;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.Json;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.Columns;

/**
 * One fold of k-fold cross-validation seen as a cohort directory, so that every later stage runs on
 * it unchanged: {@code <output.dir>/folds/<f>/cohort/} holds ingest's {@code cohort.json} and
 * {@code qc.json} and this {@code fold.json}, but no copy of the aligned table. {@link #aligned} —
 * the one place every stage reads the aligned cohort through — reads the base cohort's table and
 * replaces its {@code split} column by the fold's assignment: {@code test} for the subjects of fold
 * {@code fold} (the held-out part), {@code validation} for those of fold {@code validationFold} =
 * (fold + 1) mod k (early stopping), {@code train} for the other k - 2 folds. Preprocessing
 * statistics (fitted on split = train) and encoders therefore never see a subject of the held-out
 * fold.
 *
 * @param baseCohortDir the cohort ingest published (with its {@code fold} column)
 * @param fold the held-out fold, 0..folds-1
 * @param folds k
 * @param validationFold the fold whose subjects are the validation split
 * @param assignment null: the base table's fold column; else a Parquet table (subject_id, fold) of
 *     every subject of the base table that replaces it (the folds of another repeat of repeated
 *     k-fold, {@link #writeAssignment})
 */
public record FoldView(
    String baseCohortDir, int fold, int folds, int validationFold, String assignment) {
  public static final String FILE = "fold.json";

  public FoldView {
    if (folds < 2
        || fold < 0
        || fold >= folds
        || validationFold < 0
        || validationFold >= folds
        || validationFold == fold) {
      throw new IllegalArgumentException(
          "Cannot define fold "
              + fold
              + " of "
              + folds
              + " with validation fold "
              + validationFold
              + ": expected distinct folds in 0.."
              + (folds - 1));
    }
  }

  /** Fold {@code fold} of {@code folds} held out, validation on the next fold (mod k). */
  public static FoldView of(String baseCohortDir, int fold, int folds) {
    return of(baseCohortDir, fold, folds, null);
  }

  /**
   * As {@link #of(String, int, int)}, with the folds of {@code assignment} (null: the base
   * table's).
   */
  public static FoldView of(String baseCohortDir, int fold, int folds, String assignment) {
    return new FoldView(baseCohortDir, fold, folds, (fold + 1) % folds, assignment);
  }

  /**
   * Writes to {@code path} the folds of every subject of the base cohort as ingest would assign
   * them under {@code splits} (another seed: another repeat of repeated k-fold). Parquet
   * (subject_id, fold), written by the executors.
   */
  public static void writeAssignment(
      SparkSession spark,
      String baseCohortDir,
      org.cohortfusion.config.SplitConfig splits,
      String path) {
    Dataset<Row> subjects = spark.read().parquet(baseCohortDir + "/" + CohortManifest.ALIGNED);
    org.cohortfusion.cohort.ingest.SplitAssigner.folds(subjects, splits)
        .write()
        .mode("overwrite")
        .parquet(path);
  }

  /** The split of a subject of fold {@code f} in this view. */
  public String splitOf(int f) {
    return f == fold
        ? Columns.Splits.TEST
        : f == validationFold ? Columns.Splits.VALIDATION : Columns.Splits.TRAIN;
  }

  /** The split column of this view, from the base table's fold column. */
  Column split() {
    return when(col(Columns.FOLD).equalTo(lit(fold)), lit(Columns.Splits.TEST))
        .when(col(Columns.FOLD).equalTo(lit(validationFold)), lit(Columns.Splits.VALIDATION))
        .otherwise(lit(Columns.Splits.TRAIN));
  }

  /**
   * Publishes the fold's cohort directory {@code dir} atomically: the base's manifest and QC files
   * (what the stages and the report read beside the aligned table) and fold.json. Cheap: no table
   * is copied.
   */
  public void write(Configuration hconf, String dir) {
    // The resolved config ingest recorded, read as a tree (nested maps of the record may bind as
    // Scala maps).
    com.fasterxml.jackson.databind.JsonNode ingested;
    try {
      ingested =
          Json.MAPPER
              .readTree(Json.readText(hconf, baseCohortDir + "/" + CohortManifest.FILE))
              .path("config")
              .path("splits")
              .path("folds");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(
          "Cannot read " + baseCohortDir + "/" + CohortManifest.FILE, e);
    }
    if (assignment == null && !(ingested.isInt() && ingested.asInt() == folds)) {
      throw new IllegalStateException(
          "Cannot cross-validate "
              + folds
              + " folds of the cohort in "
              + baseCohortDir
              + ": it was ingested with splits.folds = "
              + (ingested.isMissingNode() ? "unset" : ingested.toString())
              + " (run ingest again with splits.folds = "
              + folds
              + ")");
    }
    AtomicDirectory.write(
        hconf,
        dir,
        tmp -> {
          // Byte for byte: the fold's stages read (and hash) the cohort's own manifest.
          for (String f :
              List.of(CohortManifest.FILE, CohortManifest.QC_JSON, CohortManifest.QC_TEXT)) {
            String from = baseCohortDir + "/" + f;
            if (exists(hconf, from)) {
              Json.writeText(hconf, tmp + "/" + f, Json.readText(hconf, from));
            }
          }
          Json.write(hconf, tmp + "/" + FILE, this);
          return null;
        });
  }

  /**
   * The fold view of cohort directory {@code dir}, or null when it is a cohort ingest published.
   */
  public static FoldView read(Configuration hconf, String dir) {
    String file = dir + "/" + FILE;
    return exists(hconf, file) ? Json.read(hconf, file, FoldView.class) : null;
  }

  /**
   * The aligned cohort of {@code cohortDir}: ingest's table, or for a fold view the base table with
   * the fold's split. Columns keep their names and order.
   */
  public static Dataset<Row> aligned(SparkSession spark, String cohortDir) {
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    FoldView view = read(hconf, cohortDir);
    if (view == null) {
      return spark.read().parquet(cohortDir + "/" + CohortManifest.ALIGNED);
    }
    Dataset<Row> base = spark.read().parquet(view.baseCohortDir() + "/" + CohortManifest.ALIGNED);
    String[] columns = base.columns();
    if (view.assignment() != null) {
      // Every subject of the base table is in the assignment (drawn from that table): an inner join
      // keeps them all.
      // No broadcast hint: Spark broadcasts the (subject_id, fold) table only while it is small.
      base =
          base.drop(Columns.FOLD).join(spark.read().parquet(view.assignment()), Columns.SUBJECT_ID);
    }
    if (!java.util.Arrays.asList(base.columns()).contains(Columns.FOLD)) {
      throw new IllegalStateException(
          "Cannot read fold "
              + view.fold()
              + " of "
              + cohortDir
              + ": the aligned cohort of "
              + view.baseCohortDir()
              + " has no fold column (ingest it with splits.folds = "
              + view.folds()
              + ")");
    }
    List<Column> cols = new ArrayList<>();
    for (String c : columns) {
      cols.add(c.equals(Columns.SPLIT) ? view.split().as(Columns.SPLIT) : col(c));
    }
    return base.select(cols.toArray(new Column[0]));
  }

  private static boolean exists(Configuration hconf, String path) {
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(hconf);
      return fs.exists(p);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("Cannot check " + path + ": " + e.getMessage(), e);
    }
  }
}
