package org.cohortfusion.retrain;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.substring;
import static org.apache.spark.sql.functions.sum;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.stage.Columns;

/**
 * Where a registered version comes from: the data (content digests, not file listings), the
 * resolved config, the code, the encoders and embeddings, the champion it was compared with, the
 * run, and its training split's profile. Written as {@code lineage.json} in the version, with
 * {@code fit-subjects.txt}: the sorted 64-bit prefixes of the SHA-256 of the ids of its training
 * and validation subjects (never an id itself), so a later retrain can refuse to score it on
 * subjects it was fitted on.
 *
 * @param runId the retrain run
 * @param comparedWith the champion version the gate compared it with (null: none)
 * @param warmStartedFrom the version whose weights its training started from (null: a fresh
 *     initialisation)
 * @param cohortContentDigest order-independent digest of the aligned cohort's rows ({@link
 *     #contentDigest})
 * @param cohortInputFingerprint ingest's fingerprint of the input file listing (path, size, time)
 * @param configSha256 SHA-256 of the resolved pipeline config
 * @param codeVersion cohort-fusion version
 * @param encoders encoder SHA-256 by modality
 * @param embeddingsSha256 the embeddings descriptor's SHA-256 (modalities, encoders, classes,
 *     cohort)
 * @param embeddingsContentDigest order-independent digest of the embeddings table's rows
 * @param split the split config (a subject's split depends on its id and these only)
 * @param trainProfile the training split's profile (patterns, labels, presence)
 * @param fitSubjects training plus validation subjects
 * @param embeddingProfile the training split's embedding dimensions as deciles ({@link
 *     EmbeddingProfile})
 * @param labelsBySplit labeled subjects per split and label index
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Lineage(
    String runId,
    Integer comparedWith,
    Integer warmStartedFrom,
    String cohortContentDigest,
    String cohortInputFingerprint,
    String configSha256,
    String codeVersion,
    Map<String, String> encoders,
    String embeddingsSha256,
    String embeddingsContentDigest,
    Map<String, Object> split,
    CohortProfile trainProfile,
    long fitSubjects,
    EmbeddingProfile embeddingProfile,
    Map<String, Map<String, Long>> labelsBySplit) {

  /** Labeled subjects per split and label index: one small aggregate. */
  public static Map<String, Map<String, Long>> labelsBySplit(Dataset<Row> table) {
    Map<String, Map<String, Long>> out = new java.util.TreeMap<>();
    for (Row r :
        table
            .where(col(Columns.LABEL).isNotNull())
            .groupBy(col(Columns.SPLIT), col(Columns.LABEL).cast("int").as(Columns.LABEL))
            .count()
            .collectAsList()) {
      out.computeIfAbsent(r.getString(0), k -> new java.util.TreeMap<>())
          .put(String.valueOf(r.getInt(1)), r.getLong(2));
    }
    return out;
  }

  public static final String FILE = "lineage.json";
  public static final String FIT_SUBJECTS = "fit-subjects.txt";

  /**
   * An order-independent digest of a table's rows: the sums (as exact decimals) of two different
   * hashes of every row (Spark's xxhash64 and murmur3 over all columns) and the row count. The same
   * rows in any order or partitioning give the same digest; one changed value changes it. Computed
   * in one aggregate on the executors.
   */
  public static String contentDigest(Dataset<Row> table) {
    Column[] all =
        Arrays.stream(table.columns())
            .map(c -> col("`" + c.replace("`", "``") + "`"))
            .toArray(Column[]::new);
    Row r =
        table
            .agg(
                sum(org.apache.spark.sql.functions.xxhash64(all).cast("decimal(38,0)")),
                sum(org.apache.spark.sql.functions.hash(all).cast("decimal(38,0)")),
                count(lit(1)))
            .first();
    BigDecimal a = r.isNullAt(0) ? BigDecimal.ZERO : r.getDecimal(0);
    BigDecimal b = r.isNullAt(1) ? BigDecimal.ZERO : r.getDecimal(1);
    return a.toBigInteger().toString(16) + "-" + b.toBigInteger().toString(16) + "-" + r.getLong(2);
  }

  /** The 64-bit SHA-256 prefixes (16 hex digits) of the ids of rows of {@code splits}, sorted. */
  public static List<String> subjectDigests(Dataset<Row> table, List<String> splits) {
    List<String> out = new ArrayList<>();
    for (Row r :
        table
            .where(col(Columns.SPLIT).isin(splits.toArray()))
            .select(substring(sha2(col(Columns.SUBJECT_ID), 256), 1, 16))
            .collectAsList()) {
      out.add(r.getString(0));
    }
    Collections.sort(out);
    return out;
  }
}
