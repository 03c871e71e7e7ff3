package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.stddev_samp;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.cohort.ModalitySpec;
import org.cohortfusion.cohort.NormalizationStats;
import org.cohortfusion.cohort.NormalizationStats.ColumnMoments;
import org.cohortfusion.cohort.NormalizationStats.ModalityStats;
import org.cohortfusion.config.ModalityConfig;

/** Fits {@link NormalizationStats} on the train split: aggregates only, never rows. */
final class NormalizationStatistics {
  private NormalizationStatistics() {}

  /**
   * One observed metric per array modality (named after it): its element-wise moments over the
   * train split, gathered while the aligned cohort is written ({@link TrainSplitMoments}).
   * Buckets: per position (vector), per channel (image: H*W positions; time series: T steps,
   * observed steps only).
   */
  static List<Column> arrayMoments(List<ModalitySpec> specs) {
    Column train = col("split").equalTo("train");
    List<Column> metrics = new ArrayList<>();
    for (ModalitySpec spec : specs) {
      Column m = switch (spec.kind()) {
        case VECTOR -> TrainSplitMoments.of(train, col(spec.name()), null, spec.length(), 1);
        case IMAGE -> TrainSplitMoments.of(train, col(spec.name()), null, spec.shape().get(0), spec.length() / spec.shape().get(0));
        case TIMESERIES -> TrainSplitMoments.of(train, col(spec.name() + ".values"), col(spec.name() + ".observed"),
            spec.channels().size(), spec.steps());
        default -> null;
      };
      if (m != null) {
        metrics.add(m.as(spec.name()));
      }
    }
    return metrics;
  }

  /**
   * The statistics of every modality: array modalities from {@code observed} (the values of {@link
   * #arrayMoments}), tabular ones from {@code train}, read column-pruned. {@code trainCount}: rows
   * of {@code train}, known to the caller.
   */
  static NormalizationStats fit(Dataset<Row> train, long trainCount, List<ModalitySpec> specs, Map<String, ModalityConfig> configs,
      Map<String, Object> observed) {
    Map<String, ModalityStats> out = new LinkedHashMap<>();
    for (ModalitySpec spec : specs) {
      out.put(spec.name(), switch (spec.kind()) {
        case TABULAR -> tabular(train.filter(col(spec.presenceColumn())), spec, configs.get(spec.name()).maxCategories());
        case VECTOR, IMAGE, TIMESERIES -> {
          ElementwiseMoments m = TrainSplitMoments.fromResult(observed.get(spec.name()));
          yield new ModalityStats(null, null, m.means(), m.stds());
        }
        case TEXT -> new ModalityStats(null, null, null, null);
      });
    }
    return new NormalizationStats(trainCount, out);
  }

  private static ModalityStats tabular(Dataset<Row> present, ModalitySpec spec, int maxCategories) {
    Map<String, ColumnMoments> numeric = new LinkedHashMap<>();
    if (!spec.numericFeatures().isEmpty()) {
      List<Column> aggs = new ArrayList<>();
      for (String f : spec.numericFeatures()) {
        Column c = col(spec.name() + "." + quote(f));
        aggs.add(avg(c));
        aggs.add(stddev_samp(c));
        aggs.add(count(c));
      }
      Row r = present.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new)).first();
      for (int i = 0; i < spec.numericFeatures().size(); i++) {
        double mean = r.isNullAt(3 * i) ? 0.0 : r.getDouble(3 * i);
        double std = r.isNullAt(3 * i + 1) || r.getDouble(3 * i + 1) <= 1e-12 ? 1.0 : r.getDouble(3 * i + 1);
        numeric.put(spec.numericFeatures().get(i), new ColumnMoments(mean, std, r.getLong(3 * i + 2)));
      }
    }
    Map<String, List<String>> vocabularies = new LinkedHashMap<>();
    for (String f : spec.categoricalFeatures()) {
      Column c = col(spec.name() + "." + quote(f));
      List<String> vocab = present.filter(c.isNotNull()).groupBy(c.as("v")).count()
          .orderBy(desc("count"), col("v")).limit(maxCategories).collectAsList()
          .stream().map(row -> row.getString(0)).toList();
      vocabularies.put(f, vocab);
    }
    return new ModalityStats(numeric, vocabularies, null, null);
  }

  private static String quote(String field) {
    return "`" + field.replace("`", "``") + "`";
  }
}
