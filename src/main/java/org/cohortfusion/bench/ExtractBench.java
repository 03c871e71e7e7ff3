package org.cohortfusion.bench;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.VoidFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.cohortfusion.features.batch.FeatureBatches;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.features.batch.Payloads;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.cohortfusion.features.encoder.Encoders;
import org.cohortfusion.features.extract.EncoderCache;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.spark.internal.FieldRow;
import org.cohortfusion.spark.internal.FieldRows;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.ModalitySpec;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * {@code bench extract}: per modality, in one run over the same Parquet columns, (1) Spark's own
 * scan of the payload column (internal rows consumed by a no-op), (2) the Parquet -> INDArray
 * conversion ({@link FeatureBatches}), (3) conversion plus encoding. Each pass is run once to warm
 * up, then timed; the best of {@code repeats} timed passes counts. The conversion/scan speed ratio
 * (scan seconds / conversion seconds) targets at least 0.8.
 */
public final class ExtractBench {
  private ExtractBench() {}

  /** Timings of one modality. */
  public record ModalityBench(
      String modality,
      String kind,
      long subjects,
      double scanSeconds,
      double conversionSeconds,
      double encodeSeconds,
      int cores) {

    /** Conversion speed relative to Spark's scan of the same columns (1.0 = as fast). */
    public double conversionToScanRatio() {
      return scanSeconds / conversionSeconds;
    }

    /** Subjects converted and encoded per second per core. */
    public double encodedSubjectsPerSecondPerCore() {
      return subjects / encodeSeconds / cores;
    }
  }

  /** All modalities of one run. */
  public record Result(List<ModalityBench> modalities) {
    public Result {
      modalities = List.copyOf(modalities);
    }

    public String table() {
      StringBuilder s =
          new StringBuilder(
              String.format(
                  Locale.ROOT,
                  "%-16s %-10s %8s %9s %9s %9s %8s %14s%n",
                  "modality",
                  "kind",
                  "subjects",
                  "scan_s",
                  "convert_s",
                  "encode_s",
                  "conv/scan",
                  "subj/s/core"));
      for (ModalityBench m : modalities) {
        s.append(
            String.format(
                Locale.ROOT,
                "%-16s %-10s %8d %9.3f %9.3f %9.3f %8.2fx %14.0f%n",
                m.modality(),
                m.kind(),
                m.subjects(),
                m.scanSeconds(),
                m.conversionSeconds(),
                m.encodeSeconds(),
                m.conversionToScanRatio(),
                m.encodedSubjectsPerSecondPerCore()));
      }
      return s.toString();
    }
  }

  public static Result run(
      SparkSession spark, String cohortDir, String encodersDir, int batchSize, int repeats) {
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    CohortManifest manifest = CohortManifest.read(hadoop, cohortDir);
    Dataset<Row> aligned = spark.read().parquet(cohortDir + "/" + CohortManifest.ALIGNED);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int cores = spark.sparkContext().defaultParallelism();
    List<ModalityBench> out = new ArrayList<>();
    for (ModalitySpec spec : manifest.modalities()) {
      String dir = encodersDir + "/" + spec.name() + "/encoder";
      EncoderArtifact.Loaded loaded = EncoderArtifact.load(hadoop, dir);
      ModalityPreprocessing prep = loaded.preprocessing();
      String sha = loaded.sha256();
      Broadcast<byte[]> bytes = jsc.broadcast(ModelArtifact.verified(hadoop, dir));
      Dataset<Row> payload =
          aligned.filter(col(spec.presenceColumn())).select(Payloads.column(prep));
      JavaRDD<FieldRow> rows = FieldRows.of(payload);
      LongAccumulator seen = spark.sparkContext().longAccumulator();
      VoidFunction<java.util.Iterator<FieldRow>> scan =
          it -> {
            long n = 0;
            while (it.hasNext()) {
              it.next();
              n++;
            }
            seen.add(n);
          };
      VoidFunction<java.util.Iterator<FieldRow>> convert =
          it -> {
            FeatureBatches converter = new FeatureBatches(prep, 0);
            FieldRows.batches(it, batchSize).forEachRemaining(converter::convert);
          };
      VoidFunction<java.util.Iterator<FieldRow>> encode =
          it -> {
            FeatureBatches converter = new FeatureBatches(prep, 0);
            MultiLayerNetwork net = EncoderCache.get(sha, bytes, prep.modality());
            FieldRows.batches(it, batchSize)
                .forEachRemaining(b -> Encoders.embed(net, converter.convert(b)));
          };
      double scanSeconds = best(rows, scan, repeats);
      long subjects = seen.value() / (Math.max(1, repeats) + 1);
      double conversionSeconds = best(rows, convert, repeats);
      double encodeSeconds = best(rows, encode, repeats);
      bytes.destroy();
      out.add(
          new ModalityBench(
              spec.name(),
              spec.kind().configName(),
              subjects,
              scanSeconds,
              conversionSeconds,
              encodeSeconds,
              cores));
    }
    return new Result(out);
  }

  private static double best(
      JavaRDD<FieldRow> rows, VoidFunction<java.util.Iterator<FieldRow>> pass, int repeats) {
    rows.foreachPartition(pass); // warm-up
    double best = Double.POSITIVE_INFINITY;
    for (int i = 0; i < Math.max(1, repeats); i++) {
      long start = System.nanoTime();
      rows.foreachPartition(pass);
      best = Math.min(best, (System.nanoTime() - start) / 1e9);
    }
    return best;
  }
}
