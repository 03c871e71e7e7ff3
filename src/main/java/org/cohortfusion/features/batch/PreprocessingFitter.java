package org.cohortfusion.features.batch;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.stddev_samp;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.config.ConfigException;
import org.cohortfusion.config.EncoderConfig;
import org.cohortfusion.spark.internal.FieldRow;
import org.cohortfusion.spark.internal.FieldRows;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.ModalitySpec;

/**
 * Fits a modality's {@link ModalityPreprocessing} on the TRAIN split only (rows with split =
 * 'train' and has_&lt;modality&gt;): tabular mean and sample std per numeric column and the most
 * frequent categories; vector per-position moments (after the optional log1p), plus the top-k
 * variance filter; image per-channel moments; time series per-channel moments over observed values.
 * The project's one definition of the train-split statistics (ingest fits none); only aggregates
 * reach the driver.
 */
public final class PreprocessingFitter {
  private PreprocessingFitter() {}

  public static ModalityPreprocessing fit(
      Dataset<Row> aligned, ModalitySpec spec, EncoderConfig encoder, int maxCategories) {
    Dataset<Row> train =
        aligned.filter(
            col(Columns.SPLIT).equalTo(lit(Columns.Splits.TRAIN)).and(col(spec.presenceColumn())));
    String m = spec.name();
    return switch (spec.kind()) {
      case TABULAR -> tabular(train, spec, maxCategories);
      case VECTOR -> vector(train, spec, encoder);
      case IMAGE -> {
        int channels = spec.shape().get(0);
        Moments mo =
            Moments.fit(train.select(col(m)), null, spec.length(), spec.length() / channels, false);
        yield new ModalityPreprocessing(
            m, spec.kind(), null, null, null, mo.mean, mo.std, null, false, spec.shape(), 0);
      }
      case TIMESERIES -> {
        int channels = spec.channels().size();
        Moments mo =
            Moments.fit(
                train.select(col(m + ".values"), col(m + ".observed")),
                1,
                spec.length(),
                spec.steps(),
                false);
        yield new ModalityPreprocessing(
            m,
            spec.kind(),
            null,
            null,
            null,
            mo.mean,
            mo.std,
            null,
            false,
            List.of(channels, spec.steps()),
            0);
      }
      case TEXT ->
          new ModalityPreprocessing(
              m,
              spec.kind(),
              null,
              null,
              null,
              null,
              null,
              null,
              false,
              null,
              encoder.bucketsOrDefault());
    };
  }

  private static ModalityPreprocessing vector(
      Dataset<Row> train, ModalitySpec spec, EncoderConfig encoder) {
    boolean log1p = encoder.log1pOrDefault();
    Moments mo = Moments.fit(train.select(col(spec.name())), null, spec.length(), 1, log1p);
    if (log1p && mo.outsideLog1p > 0) {
      // log1p(-1) is -infinity and below -1 NaN: training would fail much later on NaN, naming
      // nothing.
      throw new ConfigException(
          "Cannot apply pretrain.encoders."
              + spec.name()
              + ".log1p = true to modality '"
              + spec.name()
              + "' (table '"
              + spec.name()
              + "', column 'values'): "
              + mo.outsideLog1p
              + " of "
              + mo.values
              + " values in the train split are <= -1, where log1p is not finite; set log1p = false, or shift the values in modalities."
              + spec.name()
              + ".sql");
    }
    int k = encoder.topKVarianceOrDefault();
    if (k == 0 || k >= spec.length()) {
      return new ModalityPreprocessing(
          spec.name(),
          spec.kind(),
          null,
          null,
          null,
          mo.mean,
          mo.std,
          null,
          log1p,
          List.of(spec.length()),
          0);
    }
    int[] kept =
        IntStream.range(0, spec.length())
            .boxed()
            .sorted(
                Comparator.<Integer>comparingDouble(p -> -mo.variance[p]).thenComparingInt(p -> p))
            .limit(k)
            .mapToInt(Integer::intValue)
            .sorted()
            .toArray();
    double[] mean = new double[k];
    double[] std = new double[k];
    for (int i = 0; i < k; i++) {
      mean[i] = mo.mean[kept[i]];
      std[i] = mo.std[kept[i]];
    }
    return new ModalityPreprocessing(
        spec.name(),
        spec.kind(),
        null,
        null,
        null,
        mean,
        std,
        kept,
        log1p,
        List.of(spec.length()),
        0);
  }

  private static ModalityPreprocessing tabular(
      Dataset<Row> train, ModalitySpec spec, int maxCategories) {
    int numeric = spec.numericFeatures().size();
    double[] mean = new double[numeric];
    double[] std = new double[numeric];
    if (numeric > 0) {
      List<Column> aggs = new ArrayList<>();
      for (String f : spec.numericFeatures()) {
        Column c = col(spec.name() + "." + quote(f));
        aggs.add(avg(c));
        aggs.add(stddev_samp(c));
      }
      Row r = train.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new)).first();
      for (int i = 0; i < numeric; i++) {
        mean[i] = r.isNullAt(2 * i) ? 0.0 : r.getDouble(2 * i);
        std[i] =
            r.isNullAt(2 * i + 1) || !(r.getDouble(2 * i + 1) > 1e-12)
                ? 1.0
                : r.getDouble(2 * i + 1);
      }
    }
    List<List<String>> vocabularies = new ArrayList<>();
    for (String f : spec.categoricalFeatures()) {
      Column c = col(spec.name() + "." + quote(f));
      vocabularies.add(
          train
              .filter(c.isNotNull())
              .groupBy(c.as("v"))
              .agg(count(lit(1)).as("n"))
              .orderBy(desc("n"), col("v"))
              .limit(maxCategories)
              .collectAsList()
              .stream()
              .map(row -> row.getString(0))
              .toList());
    }
    return new ModalityPreprocessing(
        spec.name(),
        spec.kind(),
        spec.numericFeatures(),
        spec.categoricalFeatures(),
        vocabularies,
        mean,
        std,
        null,
        false,
        null,
        0);
  }

  private static String quote(String field) {
    return "`" + field.replace("`", "``") + "`";
  }

  /** Grouped moments of an array column: position p belongs to group p / groupSize. */
  static final class Moments implements Serializable {
    final double[] mean;
    final double[] std;
    final double[] variance;

    /** Values counted. */
    final long values;

    /**
     * Values counted that are at or below -1, where log1p is not finite (counted with log1p only).
     */
    final long outsideLog1p;

    private Moments(
        double[] mean, double[] std, double[] variance, long values, long outsideLog1p) {
      this.mean = mean;
      this.std = std;
      this.variance = variance;
      this.values = values;
      this.outsideLog1p = outsideLog1p;
    }

    /**
     * @param df values at ordinal 0; optional weights (observed flags) at {@code weightOrdinal}
     */
    static Moments fit(
        Dataset<Row> df, Integer weightOrdinal, int length, int groupSize, boolean log1p) {
      int groups = length / groupSize;
      // Per group: count, sum, sum of squares; then the values outside log1p's domain.
      double[] zero = new double[3 * groups + 1];
      double[] sums =
          FieldRows.of(df)
              .mapPartitions(
                  rows -> {
                    double[] acc = new double[3 * groups + 1];
                    while (rows.hasNext()) {
                      FieldRow row = rows.next();
                      if (row.isNullAt(0)) {
                        continue;
                      }
                      float[] v = row.getFloats(0);
                      float[] w = weightOrdinal == null ? null : row.getFloats(weightOrdinal);
                      for (int p = 0; p < v.length && p < length; p++) {
                        if (w != null && !(w[p] > 0f)) {
                          continue;
                        }
                        if (log1p && v[p] <= -1f) {
                          acc[3 * groups] += 1;
                        }
                        double x = log1p ? Math.log1p(v[p]) : v[p];
                        int g = p / groupSize;
                        acc[g] += 1;
                        acc[groups + g] += x;
                        acc[2 * groups + g] += x * x;
                      }
                    }
                    return List.of(acc).iterator();
                  })
              .fold(
                  zero,
                  (a, b) -> {
                    double[] out = new double[a.length];
                    for (int i = 0; i < a.length; i++) {
                      out[i] = a[i] + b[i];
                    }
                    return out;
                  });
      double[] mean = new double[groups];
      double[] std = new double[groups];
      double[] variance = new double[groups];
      for (int g = 0; g < groups; g++) {
        double n = sums[g];
        mean[g] = n > 0 ? sums[groups + g] / n : 0.0;
        variance[g] =
            n > 1 ? Math.max(0.0, (sums[2 * groups + g] - n * mean[g] * mean[g]) / (n - 1)) : 0.0;
        std[g] = variance[g] > 1e-12 ? Math.sqrt(variance[g]) : 1.0;
      }
      long values = 0;
      for (int g = 0; g < groups; g++) {
        values += (long) sums[g];
      }
      return new Moments(mean, std, variance, values, (long) sums[3 * groups]);
    }
  }
}
