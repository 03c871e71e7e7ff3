package org.cohortfusion.cohort.ingest;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.cohort.contract.RejectReason;
import org.cohortfusion.config.CheckPolicy;
import org.cohortfusion.config.ModalityConfig;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.SchemaMerge;

/**
 * Tells a failed run caused by a data file that cannot be read past its footer from any other
 * failure: such a file passes the listing (its footer reads) and fails only inside a job, and it
 * then falls under checks.unreadable-file like a file whose footer does not read.
 */
final class CorruptFiles {
  private CorruptFiles() {}

  /**
   * The readable data file of some table that a failed run could not read, when the failure says so
   * (Spark names the file it was reading). Every table whose policy is error for unreadable files
   * makes it an {@link IngestException} naming the table and the file instead.
   */
  static Optional<String> find(
      SparkSession spark, PipelineConfig config, RuntimeException failure, Set<String> known) {
    StringBuilder messages = new StringBuilder();
    for (Throwable t = failure; t != null && messages.length() < 1_000_000; t = t.getCause()) {
      messages.append(t.getMessage()).append('\n');
    }
    if (messages.indexOf("while reading file") < 0 && messages.indexOf("FAILED_READ_FILE") < 0) {
      return Optional.empty();
    }
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    Map<String, TableSource.Files> tables = new LinkedHashMap<>();
    Map<String, Map<String, CheckPolicy>> checks = new LinkedHashMap<>();
    try {
      tables.put(
          "subjects",
          TableSource.list(
              hadoop,
              "subjects",
              config.resolve(config.subjects().path()),
              config.subjects().format(),
              SchemaMerge.UNION,
              known));
      checks.put("subjects", config.subjects().checks());
      for (Map.Entry<String, ModalityConfig> e : config.modalities().entrySet()) {
        tables.put(
            e.getKey(),
            TableSource.list(
                hadoop,
                e.getKey(),
                config.resolve(e.getValue().path()),
                e.getValue().format(),
                SchemaMerge.UNION,
                known));
        checks.put(e.getKey(), e.getValue().checks());
      }
    } catch (RuntimeException listingFails) {
      return Optional.empty();
    }
    for (Map.Entry<String, TableSource.Files> e : tables.entrySet()) {
      for (String file : e.getValue().readable()) {
        String plain = new Path(file).toUri().getPath();
        if (messages.indexOf(plain) < 0
            && messages.indexOf(new Path(file).toUri().toString()) < 0) {
          continue;
        }
        String key = e.getKey().equals("subjects") ? "subjects" : "modalities." + e.getKey();
        if (checks
                .get(e.getKey())
                .getOrDefault(
                    RejectReason.UNREADABLE_FILE.check(),
                    RejectReason.UNREADABLE_FILE.defaultPolicy())
            == CheckPolicy.ERROR) {
          throw new IngestException(
              "Cannot read table '"
                  + e.getKey()
                  + "': file "
                  + file
                  + " is unreadable (its footer reads, its data"
                  + " pages do not); set "
                  + key
                  + ".checks.unreadable-file = reject to set it apart and go on",
              failure);
        }
        return Optional.of(file);
      }
    }
    return Optional.empty();
  }
}
