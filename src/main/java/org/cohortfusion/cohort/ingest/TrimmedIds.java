package org.cohortfusion.cohort.ingest;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.cohortfusion.config.IdWhitespace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The id-whitespace = trim rule, and per table how many subject_id values it trimmed, which the QC
 * report shows: ids that differ only by surrounding whitespace would otherwise not match across
 * tables.
 */
final class TrimmedIds {
  private static final Logger LOG = LoggerFactory.getLogger(TrimmedIds.class);

  private final Map<String, Long> trimmed = new ConcurrentHashMap<>();

  /**
   * With id-whitespace = trim, the table with its ids trimmed of leading and trailing whitespace
   * before any check, and the count of ids trimmed kept for the QC report (one job over the ids);
   * else the table as it is. A table without a string subject_id is left to the schema check.
   */
  Dataset<Row> apply(String table, IdWhitespace policy, Dataset<Row> raw) {
    if (policy != IdWhitespace.TRIM
        || !TableValidator.has(raw, TableValidator.ID)
        || !raw.schema().apply(TableValidator.ID).dataType().equals(DataTypes.StringType)) {
      return raw;
    }
    long trimmed = raw.filter(TableValidator.hasEdgeSpace()).count();
    this.trimmed.put(table, trimmed);
    if (trimmed > 0) {
      LOG.info(
          "ingest: table '{}': trimmed whitespace around {} subject_id values (id-whitespace = trim)",
          table,
          trimmed);
    }
    return TableValidator.trimIds(raw);
  }

  /** The subject_id values trimmed in {@code table}; 0 when none or the rule is off. */
  long of(String table) {
    return trimmed.getOrDefault(table, 0L);
  }
}
