package org.cohortfusion.features.extract;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.features.batch.FeatureBatches;
import org.cohortfusion.features.batch.Log1pDomain;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.features.batch.Payloads;
import org.cohortfusion.features.device.DeviceBinder;
import org.cohortfusion.features.device.Nd4jDeviceBinder;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.cohortfusion.features.encoder.Encoders;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.BuildInfo;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.spark.internal.FieldRow;
import org.cohortfusion.spark.internal.FieldRows;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.stage.ModalitySpec;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The extract stage as a Spark action: runs each modality's pretrained encoder over the aligned
 * cohort and publishes {@code <output.dir>/embeddings} atomically: {@code table/} (Parquet,
 * data-schemas/embeddings.json), {@code embeddings.json} ({@link EmbeddingsSpec}) and {@code
 * cache/}.
 *
 * <p>Tasks bind their GPU ({@link DeviceBinder}), load each encoder once per JVM ({@link
 * EncoderCache}, checksum-verified) and encode in batches of {@code extract.batch-size}.
 *
 * <p>Incremental: {@code cache/} holds (subject_id, modality, encoder_sha256, payload_hash,
 * payload_length, embedding, head, encoded_at = ISO time of the run that computed it), payload_hash
 * = 128 bits of the modality's payload column (two 64-bit xxHash digests under different seeds, as
 * 32 hex digits: at biobank scale over many snapshots a single 64-bit hash would risk silently
 * reusing a stale embedding; a collision of 128 bits is not a practical risk) and payload_length
 * its length ({@link #payloadLength}), so that two payloads share a key only if they also have the
 * same length. Both are computed in the same projection, once per payload and run: the payloads
 * meet the previous cache in one left join, and the encoding pass passes cached rows through. A
 * cache written with an older key is not reused (everything is encoded again once, and the log says
 * so). On a re-run, rows whose subject, encoder and payload hash match the previous cache are
 * reused; only new or changed payloads (or all, after an encoder changed) are encoded. Reused
 * embeddings equal a fresh encoding up to float rounding (~1e-7): BLAS results depend slightly on
 * batch composition.
 */
public final class ExtractAction {
  private static final Logger LOG = LoggerFactory.getLogger(ExtractAction.class);
  static final StructType ENCODED =
      new StructType()
          .add(Columns.SUBJECT_ID, DataTypes.StringType, false)
          .add("payload_hash", DataTypes.StringType, false)
          .add("payload_length", DataTypes.LongType, false)
          .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false)
          .add("head", DataTypes.createArrayType(DataTypes.FloatType, false), false)
          .add("encoded_at", DataTypes.StringType, false);

  /**
   * Prefix of the column holding a modality's encoder-head outputs in the embeddings table: class
   * probabilities, or for a survival outcome one hazard per interval.
   */
  public static final String HEAD_PREFIX = "head_";

  private final SparkSession spark;
  private final PipelineConfig config;
  private final String cohortDir;
  private final String encodersDir;
  private final String outputDir;
  private final DeviceBinder binder;

  private ExtractAction(
      SparkSession spark,
      PipelineConfig config,
      String cohortDir,
      String encodersDir,
      String outputDir,
      DeviceBinder binder) {
    this.spark = Objects.requireNonNull(spark, "spark");
    this.config = Objects.requireNonNull(config, "config");
    this.cohortDir = cohortDir;
    this.encodersDir = encodersDir;
    this.outputDir = outputDir;
    this.binder = binder;
  }

  public static ExtractAction of(SparkSession spark, PipelineConfig config) {
    return new ExtractAction(
        spark,
        config,
        config.cohortOutputDir(),
        config.pretrainOutputDir(),
        config.embeddingsDir(),
        new Nd4jDeviceBinder());
  }

  /** Reads the aligned cohort from {@code dir} instead of {@code <output.dir>/cohort}. */
  public ExtractAction cohortDir(String dir) {
    return new ExtractAction(spark, config, dir, encodersDir, outputDir, binder);
  }

  /**
   * Loads encoders from {@code dir/<modality>/encoder} instead of {@code <output.dir>/pretrain}.
   */
  public ExtractAction encodersDir(String dir) {
    return new ExtractAction(spark, config, cohortDir, dir, outputDir, binder);
  }

  /** Publishes to {@code dir} instead of {@code <output.dir>/embeddings}. */
  public ExtractAction outputDir(String dir) {
    return new ExtractAction(spark, config, cohortDir, encodersDir, dir, binder);
  }

  public ExtractAction deviceBinder(DeviceBinder deviceBinder) {
    return new ExtractAction(spark, config, cohortDir, encodersDir, outputDir, deviceBinder);
  }

  /** An encoder verified on the driver, its bytes broadcast to tasks. */
  private record Encoder(
      ModalitySpec spec,
      ModalityPreprocessing prep,
      String sha256,
      int dimension,
      String dir,
      Broadcast<byte[]> bytes) {}

  public ExtractResult execute() {
    long start = System.nanoTime();
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    CohortManifest manifest = CohortManifest.read(hadoop, cohortDir);
    Dataset<Row> aligned = org.cohortfusion.cohort.FoldView.aligned(spark, cohortDir);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Encoder> encoders = new ArrayList<>();
    for (ModalitySpec spec : manifest.modalities()) {
      String dir = org.cohortfusion.stage.PretrainOutputs.encoder(encodersDir, spec.name());
      EncoderArtifact.Loaded loaded = EncoderArtifact.load(hadoop, dir);
      if (!loaded.preprocessing().modality().equals(spec.name())
          || loaded.preprocessing().kind() != spec.kind()) {
        throw new IllegalStateException(
            "Cannot extract modality '"
                + spec.name()
                + "': the encoder at "
                + dir
                + " was trained for '"
                + loaded.preprocessing().modality()
                + "' ("
                + loaded.preprocessing().kind().configName()
                + ")");
      }
      checkHead(loaded, dir, spec.name());
      encoders.add(
          new Encoder(
              spec,
              loaded.preprocessing(),
              loaded.sha256(),
              Encoders.embeddingSize(loaded.network()),
              dir,
              jsc.broadcast(ModelArtifact.verified(hadoop, dir))));
    }
    LOG.info("Loaded and verified {} encoders in {} s", encoders.size(), seconds(start));
    Log1pDomain.check(aligned, encoders.stream().map(Encoder::prep).toList(), "extract");
    boolean previousCache =
        config.extract().incremental() && exists(hadoop, outputDir + "/" + EmbeddingsSpec.CACHE);
    int batchSize = config.extract().batchSize();
    try {
      return AtomicDirectory.write(
          hadoop,
          outputDir,
          tmp -> {
            Dataset<Row> oldCache =
                previousCache ? spark.read().parquet(outputDir + "/" + EmbeddingsSpec.CACHE) : null;
            if (oldCache != null
                && !(oldCache.schema().apply("payload_hash").dataType()
                    instanceof org.apache.spark.sql.types.StringType)) {
              LOG.info(
                  "The embeddings cache at {} has payload hashes of an older version: every payload is encoded again",
                  outputDir);
              oldCache = null;
            }
            if (oldCache != null && !Arrays.asList(oldCache.columns()).contains("payload_length")) {
              LOG.info(
                  "The embeddings cache at {} has keys without payload lengths (older version): every payload is encoded again",
                  outputDir);
              oldCache = null;
            }
            if (oldCache != null && !Arrays.asList(oldCache.columns()).contains("head")) {
              LOG.info(
                  "The embeddings cache at {} has no encoder-head probabilities (older version): every payload is encoded again",
                  outputDir);
              oldCache = null;
            }
            String runStamp = Instant.now().toString();
            Dataset<Row> cache = null;
            for (Encoder encoder : encoders) {
              String m = encoder.spec().name();
              Dataset<Row> present =
                  aligned
                      .filter(col(encoder.spec().presenceColumn()))
                      .select(
                          col(Columns.SUBJECT_ID),
                          payloadHash(col(m)).as("payload_hash"),
                          payloadLength(aligned, encoder.spec()).as("payload_length"),
                          Payloads.column(encoder.prep()));
              // One pass over the payloads: each present row meets its cached embedding, if any, in
              // a single left join,
              // so its key is computed once; the encoder then encodes only the rows without one.
              Dataset<Row> keyed;
              if (oldCache != null) {
                Dataset<Row> cached =
                    oldCache
                        .filter(
                            col("modality")
                                .equalTo(lit(m))
                                .and(col("encoder_sha256").equalTo(lit(encoder.sha256()))))
                        .select(
                            col(Columns.SUBJECT_ID),
                            col("payload_hash"),
                            col("payload_length"),
                            col("embedding"),
                            col("head"),
                            col("encoded_at"));
                keyed =
                    present
                        .join(
                            cached,
                            new String[] {Columns.SUBJECT_ID, "payload_hash", "payload_length"},
                            "left_outer")
                        .select(
                            col(Columns.SUBJECT_ID),
                            col("payload_hash"),
                            col("payload_length"),
                            col(m),
                            col("embedding"),
                            col("head"),
                            col("encoded_at"));
              } else {
                keyed =
                    present.select(
                        col("*"),
                        lit(null).cast(ENCODED.apply("embedding").dataType()).as("embedding"),
                        lit(null).cast(ENCODED.apply("head").dataType()).as("head"),
                        lit(null).cast(DataTypes.StringType).as("encoded_at"));
              }
              Dataset<Row> all = encode(keyed, encoder, batchSize, runStamp);
              Dataset<Row> part =
                  all.select(
                      col(Columns.SUBJECT_ID),
                      lit(m).as("modality"),
                      lit(encoder.sha256()).as("encoder_sha256"),
                      col("payload_hash"),
                      col("payload_length"),
                      col("embedding"),
                      col("head"),
                      col("encoded_at"));
              cache = cache == null ? part : cache.unionByName(part);
            }
            // Encoding happens here, once: the cache is written, then read back for counts and the
            // table.
            cache.write().mode(SaveMode.ErrorIfExists).parquet(tmp + "/" + EmbeddingsSpec.CACHE);
            LOG.info("Encoded and wrote the cache at {} s", seconds(start));
            Dataset<Row> written = spark.read().parquet(tmp + "/" + EmbeddingsSpec.CACHE);
            Map<String, long[]> counts = new HashMap<>();
            for (Row r :
                written
                    .groupBy(col("modality"))
                    .agg(
                        count(lit(1)),
                        sum(when(col("encoded_at").equalTo(lit(runStamp)), 1L).otherwise(0L)))
                    .collectAsList()) {
              counts.put(r.getString(0), new long[] {r.getLong(1), r.getLong(2)});
            }
            List<EmbeddingsSpec.Modality> modalities = new ArrayList<>();
            List<EmbeddingsSpec.Extraction> extractions = new ArrayList<>();
            for (Encoder encoder : encoders) {
              long[] c = counts.getOrDefault(encoder.spec().name(), new long[] {0, 0});
              modalities.add(
                  new EmbeddingsSpec.Modality(
                      encoder.spec().name(), encoder.dimension(), encoder.sha256()));
              extractions.add(
                  new EmbeddingsSpec.Extraction(
                      encoder.spec().kind().configName(), encoder.dir(), c[0], c[0] - c[1], c[1]));
            }
            Dataset<Row> table = table(aligned, manifest, written);
            table.write().mode(SaveMode.ErrorIfExists).parquet(tmp + "/" + EmbeddingsSpec.TABLE);
            long subjects = spark.read().parquet(tmp + "/" + EmbeddingsSpec.TABLE).count();
            LOG.info("Wrote the embeddings table at {} s", seconds(start));
            EmbeddingsSpec spec =
                new EmbeddingsSpec(
                        modalities,
                        manifest.classes(),
                        manifest.inputFingerprint(),
                        config.subjects().outcome().survival()
                            ? config.subjects().outcome().intervals()
                            : null)
                    .describedBy(
                        manifest.name(),
                        subjects,
                        extractions,
                        BuildInfo.version(),
                        Instant.now().toString());
            spec.write(hadoop, tmp);
            for (EmbeddingsSpec.Modality e : spec.modalities()) {
              LOG.info(
                  "Extract '{}': {} present, {} reused from cache, {} encoded",
                  e.name(),
                  e.present(),
                  e.reused(),
                  e.encoded());
            }
            return new ExtractResult(
                outputDir, subjects, spec.modalities(), (System.nanoTime() - start) / 1e9);
          });
    } finally {
      encoders.forEach(e -> e.bytes().destroy());
    }
  }

  /**
   * Refuses an encoder whose head was pretrained on another outcome than the config's: its head
   * column would be read as the wrong thing (hazards of other intervals, or class probabilities of
   * the event indicator as hazards). An encoder of an older version that did not record its outcome
   * had a softmax head; on a survival outcome it is accepted with a warning, since only its
   * embedding is used there.
   */
  private void checkHead(EncoderArtifact.Loaded loaded, String dir, String modality) {
    List<Double> expected =
        config.subjects() != null && config.subjects().outcome().survival()
            ? config.subjects().outcome().intervals()
            : null;
    if (!EncoderArtifact.recordsOutcome(loaded.provenance())) {
      if (expected != null) {
        LOG.warn(
            "The encoder of modality '{}' at {} does not record its outcome (older version): its"
                + " head is a softmax on the event indicator, not a hazard head over the intervals;"
                + " run pretrain again for one",
            modality,
            dir);
      }
      return;
    }
    String mismatch = EncoderArtifact.outcomeMismatch(loaded.provenance(), expected);
    if (mismatch != null) {
      throw new IllegalStateException(
          "Cannot extract modality '"
              + modality
              + "': the encoder at "
              + dir
              + " "
              + mismatch
              + "; run pretrain again");
    }
  }

  /**
   * 128 bits of a payload: xxHash64 under Spark's seed and, over a constant first, under a second
   * seed.
   */
  static org.apache.spark.sql.Column payloadHash(org.apache.spark.sql.Column payload) {
    return org.apache.spark.sql.functions.concat(
        org.apache.spark.sql.functions.lpad(
            org.apache.spark.sql.functions.hex(xxhash64(payload)), 16, "0"),
        org.apache.spark.sql.functions.lpad(
            org.apache.spark.sql.functions.hex(xxhash64(lit(0x5eedL), payload)), 16, "0"));
  }

  /**
   * The length of a modality's payload, the second part of the cache key: elements of a vector or
   * image array, bytes of a text (UTF-8), values of a time series, fields of a tabular struct.
   * Fixed-shape kinds give every payload the same length, so only the hash tells them apart; it is
   * cheap to read in all cases.
   */
  static Column payloadLength(Dataset<Row> aligned, ModalitySpec spec) {
    Column payload = col(spec.name());
    Column length =
        switch (spec.kind()) {
          case VECTOR, IMAGE -> org.apache.spark.sql.functions.size(payload);
          case TEXT -> org.apache.spark.sql.functions.octet_length(payload);
          case TIMESERIES -> org.apache.spark.sql.functions.size(payload.getField("values"));
          case TABULAR -> lit(((StructType) aligned.schema().apply(spec.name()).dataType()).size());
        };
    // -1 for a null payload (never selected: only present payloads are keyed) keeps the key column
    // non-null.
    return org.apache.spark.sql.functions.coalesce(length.cast(DataTypes.LongType), lit(-1L));
  }

  /**
   * Runs one encoder in batches over the rows (subject_id, payload_hash, payload_length, payload,
   * embedding, head, encoded_at) whose cached embedding is null; rows with one are passed through.
   */
  private Dataset<Row> encode(Dataset<Row> rows, Encoder encoder, int batchSize, String runStamp) {
    ModalityPreprocessing prep = encoder.prep();
    String sha = encoder.sha256();
    Broadcast<byte[]> bytes = encoder.bytes();
    DeviceBinder deviceBinder = binder;
    JavaRDD<Row> out =
        FieldRows.of(rows)
            .mapPartitions(
                new EncodePartition(prep, sha, bytes, deviceBinder, batchSize, runStamp));
    return spark.createDataFrame(out, ENCODED);
  }

  /**
   * Encodes one partition of internal rows (subject_id, payload_hash, payload_length, payload,
   * embedding, head, encoded_at) into {@link #ENCODED} rows, in input order, reading and encoding
   * {@code batchSize} rows at a time: a row with a cached embedding, head and time is passed
   * through; the others of the batch are encoded together and stamped with {@code runStamp}.
   */
  static final class EncodePartition implements FlatMapFunction<Iterator<FieldRow>, Row> {
    private static final long serialVersionUID = 1L;
    private static final int PAYLOAD = 3;
    private static final int EMBEDDING = 4;
    private static final int HEAD = 5;
    private static final int ENCODED_AT = 6;
    private final ModalityPreprocessing prep;
    private final String sha256;
    private final Broadcast<byte[]> bytes;
    private final DeviceBinder binder;
    private final int batchSize;
    private final String runStamp;

    EncodePartition(
        ModalityPreprocessing prep,
        String sha256,
        Broadcast<byte[]> bytes,
        DeviceBinder binder,
        int batchSize,
        String runStamp) {
      this.prep = prep;
      this.sha256 = sha256;
      this.bytes = bytes;
      this.binder = binder;
      this.batchSize = batchSize;
      this.runStamp = runStamp;
    }

    @Override
    public Iterator<Row> call(Iterator<FieldRow> partition) {
      if (!partition.hasNext()) {
        return Collections.emptyIterator();
      }
      binder.bind(TaskContext.get());
      BatchEncoder encoder = new BatchEncoder();
      // Lazy: a batch is read and encoded only when Spark has taken the previous batch's rows.
      return FieldRows.flatMapBatches(partition, batchSize, encoder::rows);
    }

    /**
     * One task's converter and encoder; the encoder is loaded only once a payload needs encoding.
     */
    private final class BatchEncoder {
      private final FeatureBatches converter = new FeatureBatches(prep, PAYLOAD);
      private MultiLayerNetwork net;

      /**
       * The rows of one batch, in its order: cached ones as they are, the others encoded together.
       */
      List<Row> rows(List<FieldRow> batch) {
        List<FieldRow> missing = new ArrayList<>();
        for (FieldRow in : batch) {
          if (!isCached(in)) {
            missing.add(in);
          }
        }
        float[][] values = null;
        float[][] head = null;
        if (!missing.isEmpty()) {
          if (net == null) {
            net = EncoderCache.get(sha256, bytes, prep.modality());
          }
          INDArray[] encoded = Encoders.embedWithHead(net, converter.convert(missing));
          values = encoded[0].toFloatMatrix();
          head = encoded[1].toFloatMatrix();
        }
        List<Row> rows = new ArrayList<>(batch.size());
        int k = 0;
        for (FieldRow in : batch) {
          String subject = in.getString(0);
          String hash = in.getString(1);
          if (isCached(in)) {
            rows.add(
                RowFactory.create(
                    subject,
                    hash,
                    in.getLong(2),
                    in.getFloats(EMBEDDING),
                    in.getFloats(HEAD),
                    in.getString(ENCODED_AT)));
          } else {
            rows.add(RowFactory.create(subject, hash, in.getLong(2), values[k], head[k], runStamp));
            k++;
          }
        }
        return rows;
      }
    }

    private static boolean isCached(FieldRow in) {
      return !in.isNullAt(EMBEDDING) && !in.isNullAt(HEAD) && !in.isNullAt(ENCODED_AT);
    }
  }

  /**
   * The embeddings table: subject columns, presence masks, then one array column per modality, then
   * per modality {@code head_<modality>}: the outputs of the encoder's own head (pretrain's
   * unimodal model) — class probabilities, or for a survival outcome the J hazards of its
   * discrete-time hazard head — null where the modality is absent.
   */
  private static Dataset<Row> table(
      Dataset<Row> aligned, CohortManifest manifest, Dataset<Row> cache) {
    List<String> available = Arrays.asList(aligned.columns());
    List<Column> columns = new ArrayList<>();
    for (String c :
        List.of(
            Columns.SUBJECT_ID,
            Columns.SPLIT,
            Columns.LABEL,
            Columns.DURATION,
            Columns.FOLD,
            Columns.GROUP,
            "true_probability",
            "observable_probability")) {
      if (available.contains(c)) {
        columns.add(col(c));
      }
    }
    for (ModalitySpec spec : manifest.modalities()) {
      columns.add(col(spec.presenceColumn()));
    }
    Dataset<Row> table = aligned.select(columns.toArray(Column[]::new));
    for (ModalitySpec spec : manifest.modalities()) {
      Dataset<Row> embedding =
          cache
              .filter(col("modality").equalTo(lit(spec.name())))
              .select(
                  col(Columns.SUBJECT_ID).as("_sid"),
                  col("embedding").as(spec.name()),
                  col("head").as(HEAD_PREFIX + spec.name()));
      table =
          table
              .join(embedding, table.col(Columns.SUBJECT_ID).equalTo(embedding.col("_sid")), "left")
              .drop("_sid");
    }
    List<Column> ordered = new ArrayList<>();
    for (String c : table.columns()) {
      if (!c.startsWith(HEAD_PREFIX)) {
        ordered.add(col(c));
      }
    }
    for (ModalitySpec spec : manifest.modalities()) {
      ordered.add(col(HEAD_PREFIX + spec.name()));
    }
    return table.select(ordered.toArray(Column[]::new));
  }

  private static String seconds(long startNanos) {
    return String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - startNanos) / 1e9);
  }

  private static boolean exists(Configuration conf, String path) {
    try {
      Path p = new Path(path);
      return p.getFileSystem(conf).exists(p);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("Cannot check " + path, e);
    }
  }
}
