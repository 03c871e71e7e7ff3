package org.cohortfusion.features.batch;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.exists;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.config.ConfigException;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.ModalityKind;

/**
 * The subjects whose vector values a fitted {@code log1p} cannot take: pretrain checks the train
 * split when it fits the statistics ({@link PreprocessingFitter}), but a value at or below -1 in
 * another split, or in a later snapshot encoded with the same encoder, would become an infinite or
 * NaN feature and, through the encoder, a NaN embedding and probability naming nothing. Counted
 * before anything is encoded, per split, and refused.
 */
public final class Log1pDomain {
  private Log1pDomain() {}

  /**
   * Fails with the modality, the option and the number of subjects per split when any present
   * vector of a modality whose preprocessing applies log1p holds a value at or below -1; one Spark
   * job over {@code aligned} when any does.
   */
  public static void check(Dataset<Row> aligned, List<ModalityPreprocessing> preps, String stage) {
    List<ModalityPreprocessing> logged =
        preps.stream().filter(p -> p.kind() == ModalityKind.VECTOR && p.log1p()).toList();
    if (logged.isEmpty()) {
      return;
    }
    boolean hasSplit = List.of(aligned.columns()).contains(Columns.SPLIT);
    List<Column> counts = new ArrayList<>();
    for (ModalityPreprocessing p : logged) {
      Column outside =
          col(Columns.presence(p.modality())).and(exists(col(p.modality()), x -> x.leq(-1)));
      counts.add(count(when(outside, lit(1))).as(p.modality()));
    }
    Column split = hasSplit ? col(Columns.SPLIT) : lit("all");
    List<Row> rows =
        aligned
            .groupBy(split.as(Columns.SPLIT))
            .agg(counts.get(0), counts.subList(1, counts.size()).toArray(Column[]::new))
            .collectAsList();
    for (ModalityPreprocessing p : logged) {
      Map<String, Long> bySplit = new TreeMap<>();
      for (Row r : rows) {
        long n = r.getAs(p.modality());
        if (n > 0) {
          bySplit.put(r.isNullAt(0) ? "none" : r.getString(0), n);
        }
      }
      if (!bySplit.isEmpty()) {
        long total = bySplit.values().stream().mapToLong(Long::longValue).sum();
        throw new ConfigException(
            "Cannot "
                + stage
                + " modality '"
                + p.modality()
                + "' with pretrain.encoders."
                + p.modality()
                + ".log1p = true (table '"
                + p.modality()
                + "', column 'values'): "
                + total
                + " subjects have values <= -1, where log1p"
                + " is not finite (by split: "
                + bySplit
                + "; the encoder was fitted on values above -1); set log1p = false and pretrain"
                + " again, or shift the values in modalities."
                + p.modality()
                + ".sql");
      }
    }
  }
}
