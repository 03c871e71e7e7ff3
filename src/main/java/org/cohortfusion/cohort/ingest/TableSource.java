package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.monotonically_increasing_id;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.cohortfusion.config.TableFormat;

/**
 * One input table as Spark reads it: the files found under its path (unreadable ones set apart),
 * the optional SQL mapping onto the contract, and two bookkeeping columns that later steps use
 * for rejects and for duplicate order: {@value #SOURCE_FILE} and {@value #ROW_ORDER}.
 */
final class TableSource {
  static final String SOURCE_FILE = "_source_file";
  static final String ROW_ORDER = "_row_order";

  /**
   * What was found under a table path. {@code nonNullElementArrays}: the top-level array columns
   * whose elements every readable Parquet file declares {@code required}, so they cannot hold a
   * null element (Spark reads every column as nullable, so only the footers tell). {@code
   * firstFooter}: of the first readable Parquet file (by path), whose schema Spark would infer;
   * null for other formats.
   */
  record Files(List<String> readable, List<String> unreadable, long totalBytes, String fingerprint,
      java.util.Set<String> nonNullElementArrays, org.apache.parquet.hadoop.Footer firstFooter) {}

  private TableSource() {}

  static Files list(Configuration conf, String tableName, String path, TableFormat format) {
    Path root = new Path(path);
    List<String> readable = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    StringBuilder fingerprint = new StringBuilder();
    long bytes = 0;
    java.util.Set<String> nonNullElements = null;
    org.apache.parquet.hadoop.Footer firstFooter = null;
    try {
      FileSystem fs = root.getFileSystem(conf);
      FileStatus rootStatus;
      try {
        rootStatus = fs.getFileStatus(root);
      } catch (java.io.FileNotFoundException e) {
        throw new IngestException("Cannot read table '" + tableName + "': no file or directory at " + path);
      }
      List<FileStatus> files = new ArrayList<>();
      if (rootStatus.isDirectory()) {
        for (FileStatus child : fs.listStatus(root)) {
          addVisibleFiles(fs, child, files);
        }
      } else {
        files.add(rootStatus);
      }
      files.sort((a, b) -> a.getPath().toString().compareTo(b.getPath().toString()));
      for (FileStatus s : files) {
        String file = s.getPath().toString();
        fingerprint.append(file).append('|').append(s.getLen()).append('|').append(s.getModificationTime()).append('\n');
        bytes += s.getLen();
        if (format != TableFormat.PARQUET) {
          readable.add(file); // as far as a listing can tell
          continue;
        }
        java.util.Optional<org.apache.parquet.hadoop.metadata.ParquetMetadata> footer = readFooter(conf, s);
        if (footer.isEmpty()) {
          unreadable.add(file);
          continue;
        }
        readable.add(file);
        java.util.Set<String> nonNull = nonNullElementArrays(footer.get().getFileMetaData().getSchema());
        if (firstFooter == null) {
          firstFooter = new org.apache.parquet.hadoop.Footer(s.getPath(), footer.get());
          nonNullElements = new java.util.HashSet<>(nonNull);
        } else {
          nonNullElements.retainAll(nonNull);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list table '" + tableName + "' at " + path, e);
    }
    if (readable.isEmpty() && unreadable.isEmpty()) {
      throw new IngestException("Cannot read table '" + tableName + "': no data files under " + path);
    }
    return new Files(List.copyOf(readable), List.copyOf(unreadable), bytes, fingerprint.toString(),
        nonNullElements == null ? java.util.Set.of() : java.util.Set.copyOf(nonNullElements), firstFooter);
  }

  /**
   * Adds the data files at or under {@code status}, below a table's root, skipping hidden names
   * (_SUCCESS, _temporary, .crc files) at every level. Listed with listStatus, not listFiles: on a
   * local file system listFiles builds a LocatedFileStatus per file, whose permission Hadoop reads
   * by running a process (ls) unless its native library is installed, which cost 5-15 ms per
   * file, .crc files included. Spark's own listing avoids it the same way.
   */
  private static void addVisibleFiles(FileSystem fs, FileStatus status, List<FileStatus> files) throws IOException {
    String name = status.getPath().getName();
    if (name.startsWith("_") || name.startsWith(".")) {
      return;
    }
    if (!status.isDirectory()) {
      files.add(status);
      return;
    }
    for (FileStatus child : fs.listStatus(status.getPath())) {
      addVisibleFiles(fs, child, files);
    }
  }

  /**
   * Reads only the Parquet footer: cheap, and enough to catch truncated or foreign files. Empty
   * when the file is unreadable.
   */
  private static java.util.Optional<org.apache.parquet.hadoop.metadata.ParquetMetadata> readFooter(Configuration conf, FileStatus status) {
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromStatus(status, conf))) {
      return java.util.Optional.of(reader.getFooter());
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }

  private static org.apache.spark.sql.types.StructType sparkSchema(SparkSession spark, org.apache.parquet.hadoop.Footer footer) {
    return org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat$.MODULE$.readSchemaFromFooter(footer,
        new org.apache.spark.sql.execution.datasources.parquet.ParquetToSparkSchemaConverter(spark.sessionState().conf()));
  }

  /** Top-level lists whose element is a required primitive: three-level lists, and legacy two-level ones. */
  static java.util.Set<String> nonNullElementArrays(org.apache.parquet.schema.MessageType schema) {
    java.util.Set<String> out = new java.util.HashSet<>();
    for (org.apache.parquet.schema.Type field : schema.getFields()) {
      if (field.isPrimitive()
          || !(field.getLogicalTypeAnnotation() instanceof org.apache.parquet.schema.LogicalTypeAnnotation.ListLogicalTypeAnnotation)
          || field.asGroupType().getFieldCount() != 1) {
        continue;
      }
      org.apache.parquet.schema.Type repeated = field.asGroupType().getType(0);
      if (repeated.isPrimitive()) {
        out.add(field.getName()); // two-level list: the repeated primitive is the element, never null
      } else if (repeated.asGroupType().getFieldCount() == 1) {
        org.apache.parquet.schema.Type element = repeated.asGroupType().getType(0);
        if (element.isPrimitive() && element.isRepetition(org.apache.parquet.schema.Type.Repetition.REQUIRED)) {
          out.add(field.getName());
        }
      }
    }
    return out;
  }

  /**
   * Fails on two columns whose names differ only by case: Spark resolves names without case, so
   * one would silently stand for the other (or the read fails with an analysis error).
   */
  static void checkNamesDifferBeyondCase(String tableName, String file, List<String> names) {
    java.util.Map<String, String> seen = new java.util.HashMap<>();
    for (String name : names) {
      String other = seen.putIfAbsent(name.toLowerCase(java.util.Locale.ROOT), name);
      if (other != null) {
        throw new IngestException("Cannot ingest table '" + tableName + "' (" + file + "): columns '" + other + "' and '" + name
            + "' differ only by case, which Spark does not tell apart; rename one (e.g. with the table's sql)");
      }
    }
  }

  /** Reads the readable files, applies the optional SQL mapping and adds the bookkeeping columns. */
  static Dataset<Row> read(SparkSession spark, String tableName, Files files, TableFormat format, String sql) {
    if (files.readable().isEmpty()) {
      throw new IngestException("Cannot read table '" + tableName + "': every file is unreadable, e.g. " + files.unreadable().get(0));
    }
    String[] paths = files.readable().toArray(String[]::new);
    Dataset<Row> raw;
    try {
      // The schema as Spark would infer it from the first file's footer, read while listing: Spark
      // would otherwise run a job per table to read it once more.
      if (format == TableFormat.PARQUET) {
        // Before Spark reads it: Spark resolves names without case and fails on such a pair.
        checkNamesDifferBeyondCase(tableName, files.firstFooter().getFile().toString(),
            List.of(sparkSchema(spark, files.firstFooter()).fieldNames()));
      }
      raw = format == TableFormat.PARQUET
          ? spark.read().schema(sparkSchema(spark, files.firstFooter())).parquet(paths)
              .withColumn(SOURCE_FILE, col("_metadata.file_path"))
              .withColumn(ROW_ORDER, col("_metadata.row_index"))
          : spark.read().option("header", "true").option("inferSchema", "true").option("mode", "PERMISSIVE").csv(paths)
              .withColumn(SOURCE_FILE, col("_metadata.file_path"))
              .withColumn(ROW_ORDER, monotonically_increasing_id());
    } catch (IngestException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IngestException("Cannot read table '" + tableName + "' (" + paths[0] + (paths.length > 1 ? ", ..." : "") + "): " + e.getMessage(), e);
    }
    if (format != TableFormat.PARQUET) {
      checkNamesDifferBeyondCase(tableName, paths[0], List.of(raw.columns()));
    }
    if (sql == null || sql.isBlank()) {
      return raw;
    }
    String view = "source_" + tableName;
    raw.createOrReplaceTempView(view);
    Dataset<Row> mapped;
    try {
      mapped = spark.sql(sql.replaceAll("\\bsource\\b", view));
    } catch (RuntimeException e) {
      throw new IngestException("Cannot apply the sql of table '" + tableName + "': " + e.getMessage(), e);
    }
    // A mapping that does not carry the bookkeeping columns through still gets them.
    List<String> cols = List.of(mapped.columns());
    checkNamesDifferBeyondCase(tableName, "the sql of table '" + tableName + "'", cols);
    if (!cols.contains(SOURCE_FILE)) {
      mapped = mapped.withColumn(SOURCE_FILE, lit(paths.length == 1 ? paths[0] : files.readable().toString()));
    }
    if (!cols.contains(ROW_ORDER)) {
      mapped = mapped.withColumn(ROW_ORDER, monotonically_increasing_id().cast(DataTypes.LongType));
    }
    return mapped;
  }
}
