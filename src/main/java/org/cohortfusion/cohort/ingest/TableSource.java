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
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.config.SchemaMerge;
import org.cohortfusion.config.TableFormat;

/**
 * One input table as Spark reads it: the files found under its path (unreadable ones set apart),
 * the optional SQL mapping onto the contract, and two bookkeeping columns that later steps use for
 * rejects and for duplicate order: {@value #SOURCE_FILE} and {@value #ROW_ORDER}.
 */
final class TableSource {
  static final String SOURCE_FILE = "_source_file";
  static final String ROW_ORDER = "_row_order";

  /**
   * What was found under a table path. {@code nonNullElementArrays}: the top-level array columns
   * whose elements every readable Parquet file declares {@code required}, so they cannot hold a
   * null element (Spark reads every column as nullable, so only the footers tell). {@code schema}:
   * the table's columns as every readable file's footer (Parquet) or header line (CSV, every column
   * a string) declares them, merged by the table's schema-merge rule; {@code schemaWarnings}: what
   * the union rule filled with nulls, for the QC report.
   */
  record Files(
      List<String> readable,
      List<String> unreadable,
      long totalBytes,
      String fingerprint,
      java.util.Set<String> nonNullElementArrays,
      TableFormat format,
      StructType schema,
      List<String> schemaWarnings,
      String idColumn) {

    /**
     * These files with their column {@code idColumn} read as {@code subject_id} ({@code schema}
     * says subject_id; null: no renaming); {@code key} is the config key, for messages.
     */
    Files withIdColumn(String tableName, String key, String idColumn) {
      if (idColumn == null || idColumn.isBlank()) {
        return this;
      }
      List<String> names = List.of(schema.fieldNames());
      if (!names.contains(idColumn)) {
        throw new IngestException(
            "Cannot read table '"
                + tableName
                + "' ("
                + readable.get(0)
                + "): "
                + key
                + " = '"
                + idColumn
                + "', but the table has no column '"
                + idColumn
                + "'");
      }
      if (names.contains(TableValidator.ID)) {
        throw new IngestException(
            "Cannot read table '"
                + tableName
                + "' ("
                + readable.get(0)
                + "): "
                + key
                + " = '"
                + idColumn
                + "', but the table also has a column '"
                + TableValidator.ID
                + "'; remove one or the other");
      }
      StructType renamed = new StructType();
      for (org.apache.spark.sql.types.StructField f : schema.fields()) {
        renamed =
            renamed.add(
                f.name().equals(idColumn)
                    ? f.copy(TableValidator.ID, f.dataType(), f.nullable(), f.metadata())
                    : f);
      }
      return new Files(
          readable,
          unreadable,
          totalBytes,
          fingerprint,
          nonNullElementArrays,
          format,
          renamed,
          schemaWarnings,
          idColumn);
    }

    /**
     * The files read with their own column names, the id column renamed to subject_id: a Parquet
     * scan resolves columns by name, so it is given the files' names ({@code schema} with the id
     * column's own name) and renamed after.
     */
    Dataset<Row> readParquet(SparkSession spark) {
      if (idColumn == null) {
        return spark.read().schema(schema).parquet(readable.toArray(String[]::new));
      }
      StructType own = new StructType();
      for (org.apache.spark.sql.types.StructField f : schema.fields()) {
        own =
            own.add(
                f.name().equals(TableValidator.ID)
                    ? f.copy(idColumn, f.dataType(), f.nullable(), f.metadata())
                    : f);
      }
      return spark
          .read()
          .schema(own)
          .parquet(readable.toArray(String[]::new))
          .withColumnRenamed(idColumn, TableValidator.ID);
    }
  }

  /**
   * Footers (or header lines) read at once: the listing of a table of thousands of files waits on
   * storage latency, not CPU.
   */
  private static final int SCHEMA_READERS = 16;

  private TableSource() {}

  static Files list(Configuration conf, String tableName, String path, TableFormat format) {
    return list(conf, tableName, path, format, SchemaMerge.STRICT, java.util.Set.of());
  }

  /**
   * Lists the table's files and reads every file's schema (footer or header line). {@code
   * setApart}: files already found unreadable (corrupt data pages behind a readable footer), listed
   * as such.
   */
  static Files list(
      Configuration conf,
      String tableName,
      String path,
      TableFormat format,
      SchemaMerge merge,
      java.util.Set<String> setApart) {
    Path root = new Path(path);
    List<String> readable = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    StringBuilder fingerprint = new StringBuilder();
    long bytes = 0;
    java.util.Set<String> nonNullElements = null;
    List<FileSchema> schemas = new ArrayList<>();
    try {
      FileSystem fs = root.getFileSystem(conf);
      FileStatus rootStatus;
      try {
        rootStatus = fs.getFileStatus(root);
      } catch (java.io.FileNotFoundException e) {
        throw new IngestException(
            "Cannot read table '" + tableName + "': no file or directory at " + path);
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
      List<java.util.Optional<FileSchema>> found = readSchemas(conf, files, format);
      for (int i = 0; i < files.size(); i++) {
        FileStatus s = files.get(i);
        String file = s.getPath().toString();
        fingerprint
            .append(file)
            .append('|')
            .append(s.getLen())
            .append('|')
            .append(s.getModificationTime())
            .append('\n');
        bytes += s.getLen();
        if (found.get(i).isEmpty() || setApart.contains(file)) {
          unreadable.add(file);
          continue;
        }
        readable.add(file);
        FileSchema schema = found.get(i).get();
        if (schema.columns() != null) {
          schemas.add(schema);
        }
        if (format == TableFormat.PARQUET) {
          if (nonNullElements == null) {
            nonNullElements = new java.util.HashSet<>(schema.nonNullElementArrays());
          } else {
            nonNullElements.retainAll(schema.nonNullElementArrays());
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list table '" + tableName + "' at " + path, e);
    }
    if (readable.isEmpty() && unreadable.isEmpty()) {
      throw new IngestException(
          "Cannot read table '" + tableName + "': no data files under " + path);
    }
    List<String> warnings = new ArrayList<>();
    StructType schema =
        schemas.isEmpty()
            ? new StructType()
            : mergeSchemas(tableName, schemas, format, merge, warnings);
    return new Files(
        List.copyOf(readable),
        List.copyOf(unreadable),
        bytes,
        fingerprint.toString(),
        nonNullElements == null ? java.util.Set.of() : java.util.Set.copyOf(nonNullElements),
        format,
        schema,
        List.copyOf(warnings),
        null);
  }

  /**
   * One file's columns as Spark reads them (all strings for CSV); {@code columns} null for a CSV
   * file without even a header line, which holds no row and so cannot disagree.
   */
  record FileSchema(String file, StructType columns, java.util.Set<String> nonNullElementArrays) {}

  /**
   * Every file's schema, in the files' order, read by a small pool of threads; empty for an
   * unreadable file.
   */
  private static List<java.util.Optional<FileSchema>> readSchemas(
      Configuration conf, List<FileStatus> files, TableFormat format) {
    if (files.size() <= 1) {
      return files.stream().map(s -> readSchema(conf, s, format)).toList();
    }
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(
            Math.min(SCHEMA_READERS, files.size()),
            r -> {
              Thread t = new Thread(r, "ingest-footer-reader");
              t.setDaemon(true);
              return t;
            });
    // The session's settings, read by the schema converter, live in a thread-local of the calling
    // thread.
    org.apache.spark.sql.internal.SQLConf sqlConf = org.apache.spark.sql.internal.SQLConf.get();
    try {
      List<java.util.concurrent.Future<java.util.Optional<FileSchema>>> futures = new ArrayList<>();
      for (FileStatus s : files) {
        futures.add(pool.submit(() -> readSchema(conf, s, format, sqlConf)));
      }
      List<java.util.Optional<FileSchema>> out = new ArrayList<>();
      for (java.util.concurrent.Future<java.util.Optional<FileSchema>> f : futures) {
        out.add(f.get());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IngestException("Cannot list table files: interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r
          ? r
          : new IngestException("Cannot read a footer: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  private static java.util.Optional<FileSchema> readSchema(
      Configuration conf, FileStatus status, TableFormat format) {
    return readSchema(conf, status, format, org.apache.spark.sql.internal.SQLConf.get());
  }

  private static java.util.Optional<FileSchema> readSchema(
      Configuration conf,
      FileStatus status,
      TableFormat format,
      org.apache.spark.sql.internal.SQLConf sqlConf) {
    String file = status.getPath().toString();
    if (format == TableFormat.CSV) {
      return java.util.Optional.of(
          new FileSchema(file, CsvTable.header(conf, status), java.util.Set.of()));
    }
    java.util.Optional<org.apache.parquet.hadoop.metadata.ParquetMetadata> footer =
        readFooter(conf, status);
    if (footer.isEmpty()) {
      return java.util.Optional.empty();
    }
    StructType columns =
        org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat$.MODULE$
            .readSchemaFromFooter(
                new org.apache.parquet.hadoop.Footer(status.getPath(), footer.get()),
                new org.apache.spark.sql.execution.datasources.parquet
                    .ParquetToSparkSchemaConverter(sqlConf));
    return java.util.Optional.of(
        new FileSchema(
            file, columns, nonNullElementArrays(footer.get().getFileMetaData().getSchema())));
  }

  /**
   * The table's columns from every file's: a type that differs between files is an error; so is a
   * column that some files lack, unless {@code merge} is union (Parquet only), which reads it as
   * null in their rows and notes it in {@code warnings}. Types are compared without nullability,
   * which Spark ignores when it reads files.
   */
  static StructType mergeSchemas(
      String table,
      List<FileSchema> files,
      TableFormat format,
      SchemaMerge merge,
      List<String> warnings) {
    java.util.Map<String, StructField> columns = new java.util.LinkedHashMap<>();
    java.util.Map<String, String> firstFileOf = new java.util.HashMap<>();
    for (FileSchema f : files) {
      checkNamesDifferBeyondCase(table, f.file(), List.of(f.columns().fieldNames()));
      for (StructField field : f.columns().fields()) {
        StructField seen = columns.putIfAbsent(field.name(), field);
        firstFileOf.putIfAbsent(field.name(), f.file());
        if (seen != null
            && !TableValidator.typeName(seen.dataType())
                .equals(TableValidator.typeName(field.dataType()))) {
          throw new IngestException(
              "Cannot read table '"
                  + table
                  + "': file "
                  + f.file()
                  + " has column '"
                  + field.name()
                  + "' of type "
                  + TableValidator.typeName(field.dataType())
                  + ", file "
                  + firstFileOf.get(field.name())
                  + " has "
                  + TableValidator.typeName(seen.dataType())
                  + "; make the files agree (schema-merge = union does not change types)");
        }
      }
    }
    checkNamesDifferBeyondCase(
        table, files.get(0).file() + " and the other files", List.copyOf(columns.keySet()));
    boolean union = merge == SchemaMerge.UNION && format == TableFormat.PARQUET;
    // A set per file: an omics table has tens of thousands of columns, and a list scan per column
    // is quadratic in them.
    java.util.Map<FileSchema, java.util.Set<String>> namesOf = new java.util.IdentityHashMap<>();
    files.forEach(f -> namesOf.put(f, new java.util.HashSet<>(List.of(f.columns().fieldNames()))));
    for (String name : columns.keySet()) {
      List<FileSchema> lacking =
          files.stream().filter(f -> !namesOf.get(f).contains(name)).toList();
      if (lacking.isEmpty()) {
        continue;
      }
      if (!union) {
        throw new IngestException(
            "Cannot read table '"
                + table
                + "': file "
                + lacking.get(0).file()
                + " lacks column '"
                + name
                + "' of type "
                + TableValidator.typeName(columns.get(name).dataType())
                + ", which file "
                + firstFileOf.get(name)
                + " has ("
                + lacking.size()
                + " of "
                + files.size()
                + " files lack it); "
                + (format == TableFormat.PARQUET
                    ? "set schema-merge = union to read it as null in the files that lack it"
                    : "every csv file of a table needs the same header"));
      }
      warnings.add(
          "column '"
              + name
              + "' is missing from "
              + lacking.size()
              + " of "
              + files.size()
              + " files (first "
              + lacking.get(0).file()
              + "): null in their rows (schema-merge = union)");
    }
    if (format == TableFormat.CSV) {
      // Spark maps CSV cells to columns by position: the same names in another order would mix
      // columns.
      List<String> order = List.of(files.get(0).columns().fieldNames());
      for (FileSchema f : files) {
        List<String> names = List.of(f.columns().fieldNames());
        for (int i = 0; i < names.size(); i++) {
          if (!names.get(i).equals(order.get(i))) {
            throw new IngestException(
                "Cannot read table '"
                    + table
                    + "': file "
                    + f.file()
                    + " has column '"
                    + names.get(i)
                    + "' at position "
                    + (i + 1)
                    + ", file "
                    + files.get(0).file()
                    + " has '"
                    + order.get(i)
                    + "' there; every csv file of a table needs the same header");
          }
        }
      }
    }
    return new StructType(columns.values().toArray(StructField[]::new));
  }

  /**
   * Adds the data files at or under {@code status}, below a table's root, skipping hidden names
   * (_SUCCESS, _temporary, .crc files) at every level. Listed with listStatus, not listFiles: on a
   * local file system listFiles builds a LocatedFileStatus per file, whose permission Hadoop reads
   * by running a process (ls) unless its native library is installed, which cost 5-15 ms per file,
   * .crc files included. Spark's own listing avoids it the same way.
   */
  private static void addVisibleFiles(FileSystem fs, FileStatus status, List<FileStatus> files)
      throws IOException {
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
  private static java.util.Optional<org.apache.parquet.hadoop.metadata.ParquetMetadata> readFooter(
      Configuration conf, FileStatus status) {
    try (ParquetFileReader reader =
        ParquetFileReader.open(HadoopInputFile.fromStatus(status, conf))) {
      return java.util.Optional.of(reader.getFooter());
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }

  /**
   * Top-level lists whose element is a required primitive: three-level lists, and legacy two-level
   * ones.
   */
  static java.util.Set<String> nonNullElementArrays(org.apache.parquet.schema.MessageType schema) {
    java.util.Set<String> out = new java.util.HashSet<>();
    for (org.apache.parquet.schema.Type field : schema.getFields()) {
      if (field.isPrimitive()
          || !(field.getLogicalTypeAnnotation()
              instanceof org.apache.parquet.schema.LogicalTypeAnnotation.ListLogicalTypeAnnotation)
          || field.asGroupType().getFieldCount() != 1) {
        continue;
      }
      org.apache.parquet.schema.Type repeated = field.asGroupType().getType(0);
      if (repeated.isPrimitive()) {
        out.add(
            field.getName()); // two-level list: the repeated primitive is the element, never null
      } else if (repeated.asGroupType().getFieldCount() == 1) {
        org.apache.parquet.schema.Type element = repeated.asGroupType().getType(0);
        if (element.isPrimitive()
            && element.isRepetition(org.apache.parquet.schema.Type.Repetition.REQUIRED)) {
          out.add(field.getName());
        }
      }
    }
    return out;
  }

  /**
   * Fails on two columns whose names differ only by case: Spark resolves names without case, so one
   * would silently stand for the other (or the read fails with an analysis error).
   */
  static void checkNamesDifferBeyondCase(String tableName, String file, List<String> names) {
    java.util.Map<String, String> seen = new java.util.HashMap<>();
    for (String name : names) {
      String other = seen.putIfAbsent(name.toLowerCase(java.util.Locale.ROOT), name);
      if (other != null) {
        throw new IngestException(
            "Cannot ingest table '"
                + tableName
                + "' ("
                + file
                + "): columns '"
                + other
                + "' and '"
                + name
                + "' differ only by case, which Spark does not tell apart; rename one (e.g. with the table's sql)");
      }
    }
  }

  /** Reads the readable files with the default CSV rules, as table {@code tableName}'s sql key. */
  static Dataset<Row> read(
      SparkSession spark, String tableName, Files files, TableFormat format, String sql) {
    return read(spark, tableName, files, sql, tableName + ".sql", CsvTable.Rules.DEFAULT);
  }

  /**
   * Reads the readable files, applies the optional SQL mapping ({@code sqlKey} names it in errors)
   * and adds the bookkeeping columns; a CSV table is typed by {@code csv} ({@link CsvTable}).
   */
  static Dataset<Row> read(
      SparkSession spark,
      String tableName,
      Files files,
      String sql,
      String sqlKey,
      CsvTable.Rules csv) {
    if (files.readable().isEmpty()) {
      throw new IngestException(
          "Cannot read table '"
              + tableName
              + "': every file is unreadable, e.g. "
              + files.unreadable().get(0));
    }
    String[] paths = files.readable().toArray(String[]::new);
    Dataset<Row> raw;
    try {
      // The schema from the footers (or header lines) read while listing: Spark would otherwise
      // run a job per table to read it once more, and from one file only.
      raw =
          files.format() == TableFormat.PARQUET
              ? files
                  .readParquet(spark)
                  .withColumn(SOURCE_FILE, col("_metadata.file_path"))
                  .withColumn(ROW_ORDER, col("_metadata.row_index"))
              : CsvTable.read(spark, tableName, files, csv);
    } catch (IngestException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IngestException(
          "Cannot read table '"
              + tableName
              + "' ("
              + paths[0]
              + (paths.length > 1 ? ", ..." : "")
              + "): "
              + e.getMessage(),
          e);
    }
    if (sql == null || sql.isBlank()) {
      return raw;
    }
    String view = "source_" + tableName;
    raw.createOrReplaceTempView(view);
    Dataset<Row> mapped;
    try {
      mapped = spark.sql(sql.replaceAll("\\bsource\\b", view));
    } catch (Exception e) {
      // Spark's ParseException and AnalysisException are checked exceptions to Java, thrown anyway.
      // Its first line says what is wrong; the rest repeats the sql.
      String why =
          e.getMessage() == null
              ? e.toString()
              : e.getMessage()
                  .strip()
                  .lines()
                  .findFirst()
                  .orElse("")
                  .replace("source_" + tableName, "source");
      throw new IngestException(
          "Cannot apply the sql of table '" + tableName + "' (config key " + sqlKey + "): " + why,
          e);
    }
    if (files.format() == TableFormat.CSV) {
      mapped = CsvTable.carryVerdict(tableName, sqlKey, raw, mapped);
    }
    // A mapping that does not carry the bookkeeping columns through still gets them.
    List<String> cols = List.of(mapped.columns());
    checkNamesDifferBeyondCase(tableName, "the sql of table '" + tableName + "'", cols);
    if (!cols.contains(SOURCE_FILE)) {
      mapped =
          mapped.withColumn(
              SOURCE_FILE, lit(paths.length == 1 ? paths[0] : files.readable().toString()));
    }
    if (!cols.contains(ROW_ORDER)) {
      mapped = mapped.withColumn(ROW_ORDER, monotonically_increasing_id().cast(DataTypes.LongType));
    }
    return mapped;
  }
}
