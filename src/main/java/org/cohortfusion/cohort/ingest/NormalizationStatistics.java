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

  /** {@code trainCount}: rows of {@code train}, known to the caller. */
  static NormalizationStats fit(Dataset<Row> train, long trainCount, List<ModalitySpec> specs, Map<String, ModalityConfig> configs) {
    Map<String, ModalityStats> out = new LinkedHashMap<>();
    // Every array modality in one pass over the train split (an absent modality's array is null).
    List<Column> arrays = new ArrayList<>();
    List<ElementwiseMoments.Target> targets = new ArrayList<>();
    List<String> arrayModalities = new ArrayList<>();
    for (ModalitySpec spec : specs) {
      int at = arrays.size();
      switch (spec.kind()) {
        case VECTOR -> {
          arrays.add(col(spec.name()));
          targets.add(new ElementwiseMoments.Target(at, -1, spec.length(), 1));
        }
        case IMAGE -> {
          arrays.add(col(spec.name()));
          targets.add(new ElementwiseMoments.Target(at, -1, spec.length(), spec.length() / spec.shape().get(0)));
        }
        case TIMESERIES -> {
          arrays.add(col(spec.name() + ".values"));
          arrays.add(col(spec.name() + ".observed"));
          targets.add(new ElementwiseMoments.Target(at, at + 1, spec.length(), spec.steps()));
        }
        default -> {
          continue;
        }
      }
      arrayModalities.add(spec.name());
    }
    Map<String, ElementwiseMoments> moments = new LinkedHashMap<>();
    if (!arrays.isEmpty()) {
      List<ElementwiseMoments> m = ElementwiseMoments.computeAll(train.select(arrays.toArray(Column[]::new)), targets);
      for (int i = 0; i < m.size(); i++) {
        moments.put(arrayModalities.get(i), m.get(i));
      }
    }
    for (ModalitySpec spec : specs) {
      ElementwiseMoments m = moments.get(spec.name());
      out.put(spec.name(), switch (spec.kind()) {
        case TABULAR -> tabular(train.filter(col(spec.presenceColumn())), spec, configs.get(spec.name()).maxCategories());
        case VECTOR, IMAGE, TIMESERIES -> new ModalityStats(null, null, m.means(), m.stds());
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
