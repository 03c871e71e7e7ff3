package org.cohortfusion.retrain;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.stage.Columns;

/**
 * What a split of a cohort looks like, in counts only (no subject-level value): subjects,
 * missingness patterns, label classes, modality presence rates. A registered version keeps its
 * training split's profile so a later snapshot's drift can be measured against it.
 *
 * @param subjects labeled subjects of the split
 * @param patterns subjects per missingness pattern (present modalities joined by '+', "none" for
 *     none)
 * @param labels subjects per label index
 * @param presence share of subjects with each modality
 */
public record CohortProfile(
    long subjects,
    Map<String, Long> patterns,
    Map<String, Long> labels,
    Map<String, Double> presence) {
  /**
   * Floor of a bin's share in the population stability index, so an empty bin does not make it
   * infinite.
   */
  static final double PSI_FLOOR = 1e-4;

  public CohortProfile {
    patterns = Map.copyOf(new TreeMap<>(patterns));
    labels = Map.copyOf(new TreeMap<>(labels));
    presence = Map.copyOf(new TreeMap<>(presence));
  }

  /**
   * The profile of the labeled rows of {@code split} in an embeddings (or aligned cohort) table
   * with columns label, split and has_&lt;m&gt; for each of {@code modalities}: one small
   * aggregate, nothing per subject on the driver.
   */
  public static CohortProfile of(Dataset<Row> table, List<String> modalities, String split) {
    List<Column> present = new ArrayList<>();
    for (String m : modalities) {
      present.add(when(col(Columns.presence(m)), lit(m)));
    }
    Column pattern = concat_ws("+", present.toArray(new Column[0]));
    Dataset<Row> counts =
        table
            .where(col(Columns.SPLIT).equalTo(split).and(col(Columns.LABEL).isNotNull()))
            .select(
                when(pattern.equalTo(""), lit("none")).otherwise(pattern).as("pattern"),
                col(Columns.LABEL).cast("int").as(Columns.LABEL))
            .groupBy("pattern", Columns.LABEL)
            .count();
    Map<String, Long> patterns = new TreeMap<>();
    Map<String, Long> labels = new TreeMap<>();
    Map<String, Long> presentCounts = new TreeMap<>();
    long total = 0;
    for (Row r : counts.collectAsList()) {
      long c = r.getLong(2);
      String p = r.getString(0);
      patterns.merge(p, c, Long::sum);
      labels.merge(String.valueOf(r.getInt(1)), c, Long::sum);
      if (!p.equals("none")) {
        for (String m : p.split("\\+")) {
          presentCounts.merge(m, c, Long::sum);
        }
      }
      total += c;
    }
    Map<String, Double> presence = new TreeMap<>();
    for (String m : modalities) {
      presence.put(m, total == 0 ? 0.0 : presentCounts.getOrDefault(m, 0L) / (double) total);
    }
    return new CohortProfile(total, patterns, labels, presence);
  }

  /**
   * Population stability index of two distributions over the same bins: sum of (q - p) ln(q / p)
   * over bins, shares floored at 1e-4. Below 0.1 is usually read as no shift, 0.1-0.25 moderate,
   * above 0.25 major.
   */
  static double psi(Map<String, Long> before, Map<String, Long> after) {
    Set<String> bins = new TreeSet<>(before.keySet());
    bins.addAll(after.keySet());
    double nb = before.values().stream().mapToLong(Long::longValue).sum();
    double na = after.values().stream().mapToLong(Long::longValue).sum();
    if (nb == 0 || na == 0) {
      return Double.NaN;
    }
    double psi = 0;
    for (String b : bins) {
      double p = Math.max(PSI_FLOOR, before.getOrDefault(b, 0L) / nb);
      double q = Math.max(PSI_FLOOR, after.getOrDefault(b, 0L) / na);
      psi += (q - p) * Math.log(q / p);
    }
    return psi;
  }

  /** The drift from {@code before} (a champion's training split) to this profile. */
  public Drift driftFrom(CohortProfile before) {
    Map<String, double[]> presenceChange = new TreeMap<>();
    Set<String> modalities = new TreeSet<>(before.presence.keySet());
    modalities.addAll(presence.keySet());
    for (String m : modalities) {
      presenceChange.put(
          m, new double[] {before.presence.getOrDefault(m, 0.0), presence.getOrDefault(m, 0.0)});
    }
    return new Drift(
        before.subjects,
        subjects,
        psi(before.patterns, patterns),
        psi(before.labels, labels),
        presenceChange,
        null);
  }

  /**
   * Drift between two cohorts' training splits.
   *
   * @param subjectsBefore labeled subjects of the earlier training split
   * @param subjectsAfter labeled subjects of the new one
   * @param patternPsi population stability index of the missingness patterns
   * @param labelPsi population stability index of the label
   * @param presence per modality, the share of subjects with it before and after
   * @param embeddingPsi per modality, the population stability index of each embedding dimension
   *     (null when the encoders differ, so the dimensions do not correspond)
   */
  public record Drift(
      long subjectsBefore,
      long subjectsAfter,
      double patternPsi,
      double labelPsi,
      Map<String, double[]> presence,
      Map<String, double[]> embeddingPsi) {
    /** The largest of the pattern, label and embedding-dimension indexes. */
    public double worst() {
      double w =
          Math.max(
              Double.isNaN(patternPsi) ? 0 : patternPsi, Double.isNaN(labelPsi) ? 0 : labelPsi);
      return Math.max(w, worstEmbedding());
    }

    /** The largest index of any embedding dimension (0 without them). */
    public double worstEmbedding() {
      return embeddingPsi == null
          ? 0
          : embeddingPsi.values().stream()
              .flatMapToDouble(java.util.Arrays::stream)
              .filter(d -> !Double.isNaN(d))
              .max()
              .orElse(0);
    }

    public Drift withEmbeddingPsi(Map<String, double[]> psi) {
      return new Drift(subjectsBefore, subjectsAfter, patternPsi, labelPsi, presence, psi);
    }
  }
}
