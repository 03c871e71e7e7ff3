package org.cohortfusion.cohort.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.cohortfusion.cohort.ModalitySpec;
import org.cohortfusion.cohort.NormalizationStats;
import org.cohortfusion.cohort.NormalizationStats.ColumnMoments;
import org.cohortfusion.cohort.NormalizationStats.ModalityStats;
import org.cohortfusion.config.ModalityConfig;
import org.cohortfusion.config.ModalityKind;

/** Fits {@link NormalizationStats} on the train split: aggregates only, never rows. */
final class NormalizationStatistics {
  private NormalizationStatistics() {}

  /**
   * The metrics observed on the aligned rows while they are written, so no pass over the written
   * table is needed for them, each a {@link TrainSplitMoments} over the train split: per tabular
   * modality, the moments of its numeric features (named {@code <modality>:numeric}: one position
   * per feature, nulls skipped); per array modality (named after it), its element-wise moments.
   * Buckets: per position (vector), per channel (image: H*W positions; time series: T steps,
   * observed steps only). One aggregate per modality: as three of Spark's aggregates per feature
   * (mean, standard deviation, count), the numeric features cost more than every array together.
   * Per categorical feature, the counts of its values ({@link ValueCounts}, named {@code
   * <modality>:categories:<feature index>}). Added to {@code metrics}, their inputs computed before
   * the observation (see {@link ObservedMetrics}).
   */
  static void trainSplitMetrics(List<ModalitySpec> specs, ObservedMetrics metrics) {
    Column train = metrics.input(col("split").equalTo("train"));
    for (ModalitySpec spec : specs) {
      if (spec.kind() != ModalityKind.TABULAR) {
        continue;
      }
      for (int i = 0; i < spec.categoricalFeatures().size(); i++) {
        Column value = col(spec.name() + "." + quote(spec.categoricalFeatures().get(i)));
        metrics.add(ValueCounts.of(metrics.input(when(train.and(col(spec.presenceColumn())), value.cast("string"))), MAX_COUNTED_CATEGORIES)
            .as(categoriesMetric(spec, i)));
      }
    }
    for (ModalitySpec spec : specs) {
      if (spec.kind() != ModalityKind.TABULAR || spec.numericFeatures().isEmpty()) {
        continue;
      }
      Column features = array(spec.numericFeatures().stream().map(f -> col(spec.name() + "." + quote(f)).cast("double"))
          .toArray(Column[]::new));
      // Null outside the train split: the moments skip a null array.
      metrics.add(TrainSplitMoments.of(lit(true), metrics.input(when(train.and(col(spec.presenceColumn())), features)), null,
          spec.numericFeatures().size(), 1).as(numericMetric(spec)));
    }
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
  }

  /**
   * The statistics of every modality, from {@code observed} (the values of {@link
   * #trainSplitMetrics}). Only when a categorical feature has more than {@value
   * #MAX_COUNTED_CATEGORIES} values do the vocabularies come from a job over {@code train} (the
   * written train split, read column-pruned). {@code trainCount}: subjects in the train split.
   */
  static NormalizationStats fit(java.util.function.Supplier<Dataset<Row>> train, long trainCount, List<ModalitySpec> specs,
      Map<String, ModalityConfig> configs, Map<String, Object> observed) {
    Map<String, Map<String, List<String>>> vocabularies = observedVocabularies(specs, configs, observed)
        .orElseGet(() -> vocabularies(train.get(), specs, configs));
    Map<String, ModalityStats> out = new LinkedHashMap<>();
    for (ModalitySpec spec : specs) {
      out.put(spec.name(), switch (spec.kind()) {
        case TABULAR -> new ModalityStats(numeric(spec, observed), vocabularies.getOrDefault(spec.name(), Map.of()), null, null);
        case VECTOR, IMAGE, TIMESERIES -> {
          ElementwiseMoments m = TrainSplitMoments.fromResult(observed.get(spec.name()));
          yield new ModalityStats(null, null, m.means(), m.stds());
        }
        case TEXT -> new ModalityStats(null, null, null, null);
      });
    }
    return new NormalizationStats(trainCount, out);
  }

  /** Distinct values of a categorical feature counted while the aligned cohort is written; with more, a job counts them. */
  static final int MAX_COUNTED_CATEGORIES = 100_000;

  private static String categoriesMetric(ModalitySpec spec, int feature) {
    return spec.name() + ":categories:" + feature;
  }

  /**
   * The vocabularies from the observed value counts: most frequent first, ties by value in Spark's
   * string order, at most the modality's max-categories. Empty when a feature had too many values.
   */
  private static java.util.Optional<Map<String, Map<String, List<String>>>> observedVocabularies(List<ModalitySpec> specs,
      Map<String, ModalityConfig> configs, Map<String, Object> observed) {
    Map<String, Map<String, List<String>>> out = new LinkedHashMap<>();
    for (ModalitySpec spec : specs) {
      if (spec.kind() != ModalityKind.TABULAR || spec.categoricalFeatures().isEmpty()) {
        continue;
      }
      Map<String, List<String>> byFeature = new LinkedHashMap<>();
      for (int i = 0; i < spec.categoricalFeatures().size(); i++) {
        Map<String, Long> counts = ValueCounts.fromResult(observed.get(categoriesMetric(spec, i)));
        if (counts == null) {
          return java.util.Optional.empty();
        }
        byFeature.put(spec.categoricalFeatures().get(i), counts.entrySet().stream()
            .sorted(java.util.Comparator.<Map.Entry<String, Long>>comparingLong(Map.Entry::getValue).reversed()
                .thenComparing(e -> org.apache.spark.unsafe.types.UTF8String.fromString(e.getKey())))
            .limit(configs.get(spec.name()).maxCategories()).map(Map.Entry::getKey).toList());
      }
      out.put(spec.name(), byFeature);
    }
    return java.util.Optional.of(out);
  }

  private static String numericMetric(ModalitySpec spec) {
    return spec.name() + ":numeric";
  }

  private static Map<String, ColumnMoments> numeric(ModalitySpec spec, Map<String, Object> observed) {
    Map<String, ColumnMoments> numeric = new LinkedHashMap<>();
    if (spec.numericFeatures().isEmpty()) {
      return numeric;
    }
    ElementwiseMoments m = TrainSplitMoments.fromResult(observed.get(numericMetric(spec)));
    double[] means = m.means();
    double[] stds = m.stds();
    for (int i = 0; i < spec.numericFeatures().size(); i++) {
      numeric.put(spec.numericFeatures().get(i), new ColumnMoments(means[i], stds[i], (long) m.count[i]));
    }
    return numeric;
  }

  /**
   * The category vocabularies of every categorical feature of every tabular modality, in one job
   * over the train split: the values present, most frequent first (ties by value), at most the
   * modality's max-categories each. Only the vocabularies reach the driver.
   */
  private static Map<String, Map<String, List<String>>> vocabularies(Dataset<Row> train, List<ModalitySpec> specs,
      Map<String, ModalityConfig> configs) {
    List<Column> entries = new ArrayList<>();
    List<String[]> keys = new ArrayList<>();
    Column limit = null;
    for (ModalitySpec spec : specs) {
      if (spec.kind() != ModalityKind.TABULAR) {
        continue;
      }
      for (String f : spec.categoricalFeatures()) {
        int key = keys.size();
        keys.add(new String[] {spec.name(), f});
        entries.add(when(col(spec.presenceColumn()), struct(lit(key).as("k"), col(spec.name() + "." + quote(f)).cast("string").as("v"))));
        int max = configs.get(spec.name()).maxCategories();
        limit = limit == null ? when(col("k").equalTo(key), lit(max)) : limit.when(col("k").equalTo(key), lit(max));
      }
    }
    Map<String, Map<String, List<String>>> out = new LinkedHashMap<>();
    if (entries.isEmpty()) {
      return out;
    }
    keys.forEach(k -> out.computeIfAbsent(k[0], x -> new LinkedHashMap<>()).put(k[1], new ArrayList<>()));
    Dataset<Row> counts = train.select(explode(array(entries.toArray(Column[]::new))).as("e"))
        .filter(col("e.v").isNotNull()).select(col("e.k").as("k"), col("e.v").as("v"))
        .groupBy(col("k"), col("v")).count();
    WindowSpec byCount = Window.partitionBy(col("k")).orderBy(desc("count"), col("v"));
    for (Row r : counts.withColumn("rank", row_number().over(byCount)).filter(col("rank").leq(limit))
        .orderBy(col("k"), col("rank")).collectAsList()) {
      String[] key = keys.get(r.getInt(0));
      out.get(key[0]).get(key[1]).add(r.getString(1));
    }
    return out;
  }

  private static String quote(String field) {
    return "`" + field.replace("`", "``") + "`";
  }
}
