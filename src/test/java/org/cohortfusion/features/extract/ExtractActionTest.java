package org.cohortfusion.features.extract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.EncoderConfig;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.features.FeatureTestCohorts;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.features.batch.PreprocessingFitter;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.cohortfusion.features.encoder.EncoderFactory;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.spark.internal.FieldRow;
import org.cohortfusion.spark.internal.FieldRows;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.testing.CountingIterator;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extraction over all five kinds with untrained (seeded) encoders published as real encoder
 * artifacts: pretraining is covered by PretrainActionTest and is not needed to test extraction.
 */
class ExtractActionTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir static Path tmp;
  private static PipelineConfig config;
  private static String encoders;

  @BeforeAll
  static void encoders() {
    SparkSession spark = SparkTestSession.get();
    config =
        PipelineConfigLoader.parse(
            FeatureTestCohorts.config(
                tmp.resolve("out").toString(),
                """
        pretrain.encoders {
          img { embedding-size = 3, conv-channels = [2] }
          tab { embedding-size = 4 }
          ts { embedding-size = 5 }
          txt { embedding-size = 6, buckets = 64 }
          vec { embedding-size = 7 }
        }
        extract.batch-size = 16
        """),
            List.of());
    encoders = tmp.resolve("encoders").toString();
    for (var spec : FeatureTestCohorts.specs()) {
      saveEncoder(encoders, spec.name(), 3);
    }
  }

  /**
   * Publishes an untrained encoder for modality {@code m} under {@code dir/<m>/encoder}, its
   * weights seeded by {@code seed}: another seed gives another network, so other model bytes and
   * another SHA-256.
   */
  private static void saveEncoder(String dir, String m, long seed) {
    var aligned = FeatureTestCohorts.frame(SparkTestSession.get(), FeatureTestCohorts.rows(30, 9));
    var spec = FeatureTestCohorts.spec(m);
    EncoderConfig enc = config.pretrain().encoder(spec.name());
    ModalityPreprocessing prep = PreprocessingFitter.fit(aligned, spec, enc, 100);
    var net = EncoderFactory.build(prep, enc, 2, seed);
    ModelArtifact.save(
        new Configuration(),
        dir + "/" + spec.name() + "/encoder",
        net,
        new ModelArtifact.Provenance(
            "encoder:" + spec.kind().configName(),
            "fp",
            "test",
            EncoderArtifact.provenanceConfig(prep, enc, List.of("0", "1")),
            Map.of(),
            "2026-01-01T00:00:00Z"));
  }

  @Test
  void extractionMatchesTheContractIsDeterministicAndReRunsEncodeOnlyNewAndChangedSubjects() {
    List<Row> rows = FeatureTestCohorts.rows(30, 9);
    String cohortA =
        FeatureTestCohorts.writeCohort(spark, rows, tmp.resolve("a").toString(), "fp-a");
    ExtractResult scratchA = extract(cohortA, "scratch-a", false);
    assertContract(scratchA);
    assertEmbeddingsEqualAReferenceForwardPass(scratchA, cohortA);

    ExtractResult first = extract(cohortA, "incremental", true); // no cache yet: encodes everything
    assertEquals(30, first.modality("vec").encoded());
    assertEquals(0, first.modality("vec").reused());
    Map<String, Map<String, String>> firstSnapshot =
        snapshot(first); // the next run replaces the directory
    assertEquals(
        snapshot(scratchA), firstSnapshot, "two runs over the same cohort must be identical");

    // New snapshot: 5 new subjects, s2's vector changed, s3's time series changed, s4 dropped.
    List<Row> next = new ArrayList<>(rows);
    next.set(2, replace(rows.get(2), 15, new float[] {9, 9, 9, 9, 9, 9}));
    float[] values = new float[6];
    Arrays.fill(values, 1f);
    next.set(
        3,
        replace(
            rows.get(3),
            13,
            org.apache.spark.sql.RowFactory.create(
                values, values, new float[] {1, 1, 1}, new float[] {3, 2, 1})));
    next.remove(4);
    for (int i = 30; i < 35; i++) {
      next.add(FeatureTestCohorts.row(i, 9));
    }
    String cohortB =
        FeatureTestCohorts.writeCohort(spark, next, tmp.resolve("b").toString(), "fp-b");
    ExtractResult second = extract(cohortB, "incremental", true);
    System.out.println(second.table());
    assertEquals(34, second.subjects());
    assertEquals(34, second.modality("vec").present());
    assertEquals(6, second.modality("vec").encoded()); // 5 new + s2
    assertEquals(28, second.modality("vec").reused());
    assertEquals(5, second.modality("tab").encoded());
    assertEquals(29, second.modality("tab").reused());
    long tsPresent = second.modality("ts").present();
    long newWithTs = java.util.stream.IntStream.range(30, 35).filter(i -> i % 7 != 0).count();
    assertEquals(newWithTs + 1, second.modality("ts").encoded()); // new ones with ts + s3
    assertEquals(tsPresent - newWithTs - 1, second.modality("ts").reused());

    // Reused embeddings equal what a from-scratch run computes.
    ExtractResult scratch = extract(cohortB, "scratch-b", false);
    assertEqualsWithin(arrays(scratch), arrays(second), 1e-5);
    assertNotEquals(firstSnapshot.get("s2").get("vec"), snapshot(second).get("s2").get("vec"));
    assertEquals(firstSnapshot.get("s2").get("tab"), snapshot(second).get("s2").get("tab"));
  }

  @Test
  void benchTimesScanConversionAndEncodingOfTheSameColumns() {
    String cohort =
        FeatureTestCohorts.writeCohort(
            spark, FeatureTestCohorts.rows(30, 9), tmp.resolve("bench").toString(), "fp");
    org.cohortfusion.bench.ExtractBench.Result result =
        org.cohortfusion.bench.ExtractBench.run(spark, cohort, encoders, 16, 1);
    System.out.print(result.table());
    assertEquals(
        List.of("img", "tab", "ts", "txt", "vec"),
        result.modalities().stream().map(m -> m.modality()).toList());
    assertEquals(
        List.of("image", "tabular", "timeseries", "text", "vector"),
        result.modalities().stream().map(m -> m.kind()).toList());
    // Subjects with the modality, by hand over s0..s29: ts lacks s0, s7, s14, s21, s28; txt lacks
    // s0, s11, s22. The
    // scan runs twice (warm-up and one timed pass), so this also pins that the count is of one
    // pass.
    assertEquals(
        List.of(30L, 30L, 25L, 27L, 30L),
        result.modalities().stream().map(m -> m.subjects()).toList());
    for (var m : result.modalities()) {
      assertEquals(spark.sparkContext().defaultParallelism(), m.cores(), m.modality());
      assertTrue(
          Double.isFinite(m.scanSeconds())
              && Double.isFinite(m.conversionSeconds())
              && Double.isFinite(m.encodeSeconds()),
          m.modality() + ": every pass timed");
    }
  }

  /** The bench's derived figures and table, on hand-made timings. */
  @Test
  void benchRatiosAndTableFollowTheirDefinitions() {
    var m =
        new org.cohortfusion.bench.ExtractBench.ModalityBench(
            "vec", "vector", 120, 0.5, 2.0, 3.0, 4);
    assertEquals(0.25, m.conversionToScanRatio(), 1e-12, "scan seconds / conversion seconds");
    assertEquals(10.0, m.encodedSubjectsPerSecondPerCore(), 1e-12, "120 subjects / 3 s / 4 cores");
    String[] lines = new org.cohortfusion.bench.ExtractBench.Result(List.of(m)).table().split("\n");
    assertEquals(2, lines.length);
    assertEquals(
        List.of("vec", "vector", "120", "0.500", "2.000", "3.000", "0.25x", "10"),
        List.of(lines[1].trim().split(" +")));
  }

  /**
   * Encoding a partition streams: the first encoded row comes after reading at most one batch of
   * the partition, and the rows equal, in order, what the encoder gives for the whole partition
   * encoded at once, except every third subject's, which carries a cached embedding and is passed
   * through as it is.
   */
  @Test
  void encodingAPartitionReadsOneBatchAtATimeAndKeepsRowsAndOrder() {
    int batchSize = 4;
    var aligned = FeatureTestCohorts.frame(spark, FeatureTestCohorts.rows(30, 9));
    var jsc = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext());
    var number = org.apache.spark.sql.functions.col("subject_id").substr(2, 10).cast("int");
    var cached = number.mod(3).equalTo(0);
    for (var spec : FeatureTestCohorts.specs()) {
      String dir = encoders + "/" + spec.name() + "/encoder";
      EncoderArtifact.Loaded loaded = EncoderArtifact.load(new Configuration(), dir);
      ModalityPreprocessing prep = loaded.preprocessing();
      var present =
          aligned
              .filter(org.apache.spark.sql.functions.col(spec.presenceColumn()))
              .select(
                  org.apache.spark.sql.functions.col("subject_id"),
                  ExtractAction.payloadHash(org.apache.spark.sql.functions.col(spec.name()))
                      .as("payload_hash"),
                  ExtractAction.payloadLength(aligned, spec).as("payload_length"),
                  org.cohortfusion.features.batch.Payloads.column(prep),
                  org.apache
                      .spark
                      .sql
                      .functions
                      .when(cached, org.apache.spark.sql.functions.array(number.cast("float")))
                      .as("embedding"),
                  org.apache
                      .spark
                      .sql
                      .functions
                      .when(
                          cached,
                          org.apache.spark.sql.functions.array(
                              org.apache.spark.sql.functions.lit(0.25f),
                              org.apache.spark.sql.functions.lit(0.75f)))
                      .as("head"),
                  org.apache
                      .spark
                      .sql
                      .functions
                      .when(cached, org.apache.spark.sql.functions.lit("earlier"))
                      .as("encoded_at"));
      List<FieldRow> partition = FieldRows.of(present).map(FieldRow::copy).collect();
      assertTrue(
          partition.size() > 2 * batchSize,
          spec.name() + ": the partition must span several batches");
      var bytes = jsc.broadcast(ModelArtifact.verified(new Configuration(), dir));
      try {
        CountingIterator<FieldRow> input = new CountingIterator<>(partition);
        java.util.Iterator<Row> out =
            new ExtractAction.EncodePartition(
                    prep,
                    loaded.sha256(),
                    bytes,
                    new org.cohortfusion.features.device.Nd4jDeviceBinder(),
                    batchSize,
                    "now")
                .call(input);
        List<Row> rows = new ArrayList<>();
        rows.add(out.next());
        assertTrue(
            input.consumed() <= batchSize,
            spec.name()
                + ": read "
                + input.consumed()
                + " rows before the first output, batch size "
                + batchSize);
        out.forEachRemaining(rows::add);
        assertEquals(partition.size(), input.consumed());

        // Oracle: the encoder artifact's own network over the whole partition as one batch.
        org.nd4j.linalg.api.ndarray.INDArray[] whole =
            org.cohortfusion.features.encoder.Encoders.embedWithHead(
                loaded.network(),
                new org.cohortfusion.features.batch.FeatureBatches(prep, 3).convert(partition));
        float[][] embeddings = whole[0].toFloatMatrix();
        float[][] heads = whole[1].toFloatMatrix();
        assertEquals(partition.size(), rows.size(), spec.name());
        for (int i = 0; i < rows.size(); i++) {
          Row r = rows.get(i);
          assertEquals(partition.get(i).getString(0), r.getString(0), spec.name() + " row " + i);
          assertEquals(partition.get(i).getString(1), r.getString(1), spec.name() + " row " + i);
          assertEquals(partition.get(i).getLong(2), r.getLong(2), spec.name() + " row " + i);
          int subject = Integer.parseInt(r.getString(0).substring(1));
          if (subject % 3 == 0) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                new float[] {subject}, (float[]) r.get(3), spec.name() + " row " + i);
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                new float[] {0.25f, 0.75f}, (float[]) r.get(4));
            assertEquals("earlier", r.getString(5));
          } else {
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                embeddings[i], (float[]) r.get(3), 1e-5f, spec.name() + " row " + i);
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                heads[i], (float[]) r.get(4), 1e-5f, spec.name() + " row " + i);
            assertEquals("now", r.getString(5));
          }
        }
      } finally {
        bytes.destroy();
      }
    }
  }

  /** The payload length of the cache key, per kind, against the stored values themselves. */
  @Test
  void payloadLengthCountsArrayElementsTextBytesSeriesValuesAndTabularFields() {
    List<Row> rows = new ArrayList<>(FeatureTestCohorts.rows(12, 9));
    rows.set(
        1,
        replace(
            rows.get(1),
            FeatureTestCohorts.SCHEMA.fieldIndex("txt"),
            "d\u00e9j\u00e0 vu")); // 2-byte characters
    var aligned = FeatureTestCohorts.frame(spark, rows);
    for (var spec : FeatureTestCohorts.specs()) {
      List<Row> lengths =
          aligned
              .filter(org.apache.spark.sql.functions.col(spec.presenceColumn()))
              .select(
                  org.apache.spark.sql.functions.col("subject_id"),
                  org.apache.spark.sql.functions.col(spec.name()),
                  ExtractAction.payloadLength(aligned, spec).as("n"))
              .collectAsList();
      assertTrue(lengths.size() > 5, spec.name());
      for (Row r : lengths) {
        long expected =
            switch (spec.kind()) {
              case VECTOR, IMAGE -> r.getList(1).size();
              case TEXT -> r.getString(1).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
              case TIMESERIES -> r.getStruct(1).getList(0).size();
              case TABULAR -> FeatureTestCohorts.TABULAR.size();
            };
        assertEquals(expected, r.getLong(2), spec.name() + " " + r.getString(0));
      }
    }
    Row accented =
        aligned
            .filter(org.apache.spark.sql.functions.col("subject_id").equalTo("s1"))
            .select(ExtractAction.payloadLength(aligned, FeatureTestCohorts.spec("txt")))
            .first();
    assertEquals(
        9, accented.getLong(0), "UTF-8 bytes (7 characters, 2 of them 2 bytes), not characters");
  }

  /**
   * A cache whose keys have no payload length (the previous format) is not reused once, then the
   * new one is.
   */
  @Test
  void aCacheWithoutPayloadLengthsIsEncodedAgainOnceThenReused() {
    String cohort =
        FeatureTestCohorts.writeCohort(
            spark, FeatureTestCohorts.rows(20, 9), tmp.resolve("key").toString(), "fp-k");
    ExtractResult first = extract(cohort, "key-out", true);
    assertEquals(20, first.modality("vec").encoded());
    // Rewrite the published cache as the previous version wrote it: no payload_length column.
    String cache = first.outputDir() + "/" + EmbeddingsSpec.CACHE;
    String old = tmp.resolve("key-old-cache").toString();
    spark.read().parquet(cache).drop("payload_length").write().parquet(old);
    spark.read().parquet(old).write().mode(org.apache.spark.sql.SaveMode.Overwrite).parquet(cache);
    assertTrue(!Arrays.asList(spark.read().parquet(cache).columns()).contains("payload_length"));

    ExtractResult again = extract(cohort, "key-out", true);
    for (String m : List.of("img", "tab", "ts", "txt", "vec")) {
      assertEquals(0, again.modality(m).reused(), m + ": an older key format must not be reused");
      assertEquals(again.modality(m).present(), again.modality(m).encoded(), m);
    }
    ExtractResult third = extract(cohort, "key-out", true);
    for (String m : List.of("img", "tab", "ts", "txt", "vec")) {
      assertEquals(
          third.modality(m).present(),
          third.modality(m).reused(),
          m + ": the re-encoded cache is reused");
      assertEquals(0, third.modality(m).encoded(), m);
    }
  }

  /**
   * The cache key holds the encoder's SHA-256. Over one cohort of 20 subjects (s0..s19; present by
   * hand: img, tab, vec 20, ts 17 without s0, s7, s14, txt 18 without s0, s11), with encoders new
   * to this JVM: a first run encodes all; a second with the same encoders reuses all; after 'vec''s
   * encoder is replaced by another artifact (other weights, so other bytes and hash) a third run
   * encodes every 'vec' payload again, reuses none of them, and still reuses all of the other
   * modalities. Each run's cache rows are read back: their encoded_at says which run computed them.
   * Encoders are deserialised once per JVM: exactly one load per new encoder, none for an encoder
   * already loaded, although the cohort has two partitions (one task per partition asks for the
   * encoder).
   */
  @Test
  void anEncoderWithAnotherHashReEncodesItsModalityAndIsLoadedOncePerJvm()
      throws java.io.IOException {
    Map<String, Long> present = Map.of("img", 20L, "tab", 20L, "ts", 17L, "txt", 18L, "vec", 20L);
    List<String> modalities = List.of("img", "tab", "ts", "txt", "vec");
    String cohort =
        FeatureTestCohorts.writeCohort(
            spark, FeatureTestCohorts.rows(20, 9), tmp.resolve("sha").toString(), "fp-sha");
    String before = tmp.resolve("sha-encoders").toString();
    for (String m : modalities) {
      saveEncoder(
          before, m, 41); // a seed no other test uses: five encoders this JVM has not loaded
    }
    // The same encoders, except 'vec': another network, seeded differently.
    String after = tmp.resolve("sha-encoders-vec-changed").toString();
    for (String m : List.of("img", "tab", "ts", "txt")) {
      copyTree(Path.of(before, m), Path.of(after, m));
    }
    saveEncoder(after, "vec", 42);
    String vecBefore = EncoderArtifact.load(new Configuration(), before + "/vec/encoder").sha256();
    String vecAfter = EncoderArtifact.load(new Configuration(), after + "/vec/encoder").sha256();
    assertNotEquals(vecBefore, vecAfter);
    assertEquals(
        EncoderArtifact.load(new Configuration(), before + "/tab/encoder").sha256(),
        EncoderArtifact.load(new Configuration(), after + "/tab/encoder").sha256());
    String out = tmp.resolve("sha-out").toString();

    int loads = EncoderCache.loads();
    ExtractResult first = extract(cohort, before, out, true);
    assertEquals(5, EncoderCache.loads() - loads, "one load per new encoder, not one per task");
    Map<String, Map<String, String>> firstStamps = stamps(out);
    Map<String, Map<String, float[]>> firstArrays = arrays(first);
    for (String m : modalities) {
      assertEquals(present.get(m), first.modality(m).encoded(), m);
      assertEquals(0, first.modality(m).reused(), m);
      assertEquals(present.get(m), (long) firstStamps.get(m).size(), m);
      assertEquals(
          1,
          new java.util.HashSet<>(firstStamps.get(m).values()).size(),
          m + ": all computed by one run");
    }

    loads = EncoderCache.loads();
    ExtractResult same = extract(cohort, before, out, true);
    assertEquals(0, EncoderCache.loads() - loads);
    for (String m : modalities) {
      assertEquals(
          present.get(m),
          same.modality(m).reused(),
          m + ": same encoder, same payloads: all reused");
      assertEquals(0, same.modality(m).encoded(), m);
    }
    assertEquals(firstStamps, stamps(out), "every cache row is the first run's");

    loads = EncoderCache.loads();
    ExtractResult changed = extract(cohort, after, out, true);
    Map<String, Map<String, String>> changedStamps = stamps(out);
    assertEquals(
        present.get("vec"),
        changed.modality("vec").encoded(),
        "a new encoder hash: all encoded again");
    assertEquals(0, changed.modality("vec").reused());
    assertEquals(vecAfter, changed.modality("vec").encoderSha256());
    assertEquals(1, EncoderCache.loads() - loads, "only the new 'vec' encoder is loaded");
    String firstRun = firstStamps.get("vec").values().iterator().next();
    assertEquals(present.get("vec"), (long) changedStamps.get("vec").size());
    assertTrue(
        changedStamps.get("vec").values().stream().noneMatch(firstRun::equals),
        "no 'vec' cache row of the first run");
    for (String m : List.of("img", "tab", "ts", "txt")) {
      assertEquals(present.get(m), changed.modality(m).reused(), m + ": its encoder is unchanged");
      assertEquals(0, changed.modality(m).encoded(), m);
      assertEquals(firstStamps.get(m), changedStamps.get(m), m);
    }
    Map<String, Map<String, float[]>> changedArrays = arrays(changed);

    // The new 'vec' embeddings are the new encoder's: equal to a from-scratch run with it (which
    // never reads a
    // cache), and unlike every embedding of the old one.
    loads = EncoderCache.loads();
    ExtractResult scratch = extract(cohort, after, tmp.resolve("sha-scratch").toString(), false);
    assertEquals(
        0, EncoderCache.loads() - loads, "all five encoders are loaded already in this JVM");
    assertEquals(present.get("vec"), scratch.modality("vec").encoded());
    assertEqualsWithin(arrays(scratch), changedArrays, 1e-5);
    for (String subject : firstArrays.keySet()) {
      assertTrue(
          !Arrays.equals(
              firstArrays.get(subject).get("vec"), changedArrays.get(subject).get("vec")),
          subject);
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          firstArrays.get(subject).get("tab"), changedArrays.get(subject).get("tab"), subject);
    }
  }

  /**
   * modality -> subject -> encoded_at of the published cache's rows, asserting each row's key is
   * unique.
   */
  private Map<String, Map<String, String>> stamps(String outputDir) {
    Map<String, Map<String, String>> out = new TreeMap<>();
    for (Row r :
        spark
            .read()
            .parquet(outputDir + "/" + EmbeddingsSpec.CACHE)
            .select("modality", "subject_id", "encoded_at")
            .collectAsList()) {
      assertNull(
          out.computeIfAbsent(r.getString(0), k -> new TreeMap<>())
              .put(r.getString(1), r.getString(2)));
    }
    return out;
  }

  private static void copyTree(Path from, Path to) throws java.io.IOException {
    java.nio.file.Files.createDirectories(to.getParent());
    try (var files = java.nio.file.Files.walk(from)) {
      for (Path p : files.toList()) {
        java.nio.file.Files.copy(p, to.resolve(from.relativize(p).toString()));
      }
    }
  }

  private void assertContract(ExtractResult result) {
    assertEquals(30, result.subjects());
    List<Row> rows =
        spark.read().parquet(result.outputDir() + "/" + EmbeddingsSpec.TABLE).collectAsList();
    List<String> columns =
        Arrays.asList(
            spark.read().parquet(result.outputDir() + "/" + EmbeddingsSpec.TABLE).columns());
    assertEquals(
        List.of(
            "subject_id",
            "split",
            "label",
            "fold",
            "group",
            "has_img",
            "has_tab",
            "has_ts",
            "has_txt",
            "has_vec",
            "img",
            "tab",
            "ts",
            "txt",
            "vec",
            "head_img",
            "head_tab",
            "head_ts",
            "head_txt",
            "head_vec"),
        columns);
    Map<String, Integer> dims = Map.of("img", 3, "tab", 4, "ts", 5, "txt", 6, "vec", 7);
    for (Row r : rows) {
      for (var e : dims.entrySet()) {
        boolean has = r.getBoolean(r.fieldIndex("has_" + e.getKey()));
        if (has) {
          assertEquals(e.getValue(), r.getList(r.fieldIndex(e.getKey())).size());
          // The encoder's own softmax head: a probability per class, summing to one.
          List<Float> head = r.getList(r.fieldIndex("head_" + e.getKey()));
          assertEquals(1.0, head.stream().mapToDouble(Float::doubleValue).sum(), 1e-5);
          assertTrue(head.stream().allMatch(p -> p >= 0f && p <= 1f), head.toString());
        } else {
          assertNull(
              r.get(r.fieldIndex(e.getKey())), "absent modality must be null, never zero-filled");
          assertNull(
              r.get(r.fieldIndex("head_" + e.getKey())), "absent modality has no head probability");
        }
      }
    }
    EmbeddingsSpec manifest = EmbeddingsSpec.read(new Configuration(), result.outputDir());
    assertEquals(
        List.of("img", "tab", "ts", "txt", "vec"),
        manifest.modalities().stream().map(EmbeddingsSpec.Modality::name).toList());
    assertEquals("fp-a", manifest.cohortHash());
    assertEquals(result.subjects(), manifest.subjects());
    assertEquals(result.modalities(), manifest.modalities());
    // The file keeps the field names pipelines have read since the first release.
    com.fasterxml.jackson.databind.JsonNode written;
    try {
      written =
          org.cohortfusion.io.Json.MAPPER.readTree(
              java.nio.file.Files.readString(
                  java.nio.file.Path.of(result.outputDir(), EmbeddingsSpec.FILE)));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertEquals("img", written.path("modalities").get(0).path("modality").asText());
    assertTrue(written.path("modalities").get(0).path("dimension").asInt() > 0);
    assertEquals("tabular", written.path("modalities").get(1).path("kind").asText());
    assertEquals(25, result.modality("ts").present()); // every 7th subject lacks ts
    assertEquals(25, result.modality("ts").encoded());
  }

  /**
   * Every present subject's embedding and head in the published table equal a reference forward
   * pass: the encoder artifact's network, run by plain DL4J ({@code feedForward}, the embedding
   * layer being the one before the head) over all of the cohort's payloads of the modality as one
   * batch.
   */
  private void assertEmbeddingsEqualAReferenceForwardPass(ExtractResult result, String cohort) {
    var aligned =
        spark.read().parquet(cohort + "/" + org.cohortfusion.stage.CohortManifest.ALIGNED);
    Map<String, Row> table = new TreeMap<>();
    for (Row r :
        spark.read().parquet(result.outputDir() + "/" + EmbeddingsSpec.TABLE).collectAsList()) {
      table.put(r.getString(0), r);
    }
    for (var spec : FeatureTestCohorts.specs()) {
      String m = spec.name();
      EncoderArtifact.Loaded loaded =
          EncoderArtifact.load(new Configuration(), encoders + "/" + m + "/encoder");
      var present =
          aligned
              .filter(org.apache.spark.sql.functions.col(spec.presenceColumn()))
              .select(
                  org.apache.spark.sql.functions.col("subject_id"),
                  org.cohortfusion.features.batch.Payloads.column(loaded.preprocessing()));
      List<FieldRow> rows = FieldRows.of(present).map(FieldRow::copy).collect();
      var batch =
          new org.cohortfusion.features.batch.FeatureBatches(loaded.preprocessing(), 1)
              .convert(rows);
      var net = loaded.network();
      net.setLayerMaskArrays(batch.featureMask(), null);
      // activations: the input, then one per layer; layers ..., embedding, head
      List<org.nd4j.linalg.api.ndarray.INDArray> activations =
          net.feedForward(batch.features(), false);
      net.clearLayerMaskArrays();
      float[][] embeddings = activations.get(net.getnLayers() - 1).toFloatMatrix();
      float[][] heads = activations.get(net.getnLayers()).toFloatMatrix();
      assertEquals(
          table.values().stream()
              .filter(r -> r.getBoolean(r.fieldIndex(spec.presenceColumn())))
              .count(),
          rows.size(),
          m);
      for (int i = 0; i < rows.size(); i++) {
        Row r = table.get(rows.get(i).getString(0));
        assertNotNull(r, m + " row " + i);
        org.junit.jupiter.api.Assertions.assertArrayEquals(
            embeddings[i], floats(r.getList(r.fieldIndex(m))), 1e-5f, m + " row " + i);
        org.junit.jupiter.api.Assertions.assertArrayEquals(
            heads[i],
            floats(r.getList(r.fieldIndex(ExtractAction.HEAD_PREFIX + m))),
            1e-5f,
            m + " row " + i);
      }
    }
  }

  private static float[] floats(List<Float> values) {
    float[] f = new float[values.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = values.get(i);
    }
    return f;
  }

  /**
   * Same subjects and modalities, embeddings equal within {@code eps} (batch composition changes
   * float rounding).
   */
  private static void assertEqualsWithin(
      Map<String, Map<String, float[]>> expected,
      Map<String, Map<String, float[]>> actual,
      double eps) {
    assertEquals(expected.keySet(), actual.keySet());
    for (String subject : expected.keySet()) {
      for (var e : expected.get(subject).entrySet()) {
        float[] a = actual.get(subject).get(e.getKey());
        if (e.getValue() == null) {
          assertNull(a, subject + "/" + e.getKey());
        } else {
          assertNotNull(a, subject + "/" + e.getKey());
          org.junit.jupiter.api.Assertions.assertArrayEquals(
              e.getValue(), a, (float) eps, subject + "/" + e.getKey());
        }
      }
    }
  }

  private Map<String, Map<String, float[]>> arrays(ExtractResult result) {
    Map<String, Map<String, float[]>> out = new TreeMap<>();
    for (Row r :
        spark.read().parquet(result.outputDir() + "/" + EmbeddingsSpec.TABLE).collectAsList()) {
      Map<String, float[]> m = new TreeMap<>();
      for (String name : List.of("img", "tab", "ts", "txt", "vec")) {
        if (r.isNullAt(r.fieldIndex(name))) {
          m.put(name, null);
        } else {
          List<Float> values = r.getList(r.fieldIndex(name));
          float[] f = new float[values.size()];
          for (int i = 0; i < f.length; i++) {
            f[i] = values.get(i);
          }
          m.put(name, f);
        }
      }
      out.put(r.getString(0), m);
    }
    return out;
  }

  private ExtractResult extract(String cohort, String out, boolean incremental) {
    return extract(cohort, encoders, tmp.resolve(out).toString(), incremental);
  }

  private ExtractResult extract(
      String cohort, String encodersDir, String out, boolean incremental) {
    PipelineConfig c =
        incremental
            ? config
            : PipelineConfigLoader.parse(
                FeatureTestCohorts.config(
                    tmp.resolve("out").toString(),
                    """
        extract.incremental = false
        """),
                List.of());
    ExtractResult result =
        ExtractAction.of(spark, c)
            .cohortDir(cohort)
            .encodersDir(encodersDir)
            .outputDir(out)
            .execute();
    System.out.printf("extract %s: %.1f s%n", out, result.seconds());
    return result;
  }

  /** subject -> modality -> embedding as text. */
  private Map<String, Map<String, String>> snapshot(ExtractResult result) {
    Map<String, Map<String, String>> out = new TreeMap<>();
    for (Row r :
        spark.read().parquet(result.outputDir() + "/" + EmbeddingsSpec.TABLE).collectAsList()) {
      Map<String, String> m = new TreeMap<>();
      for (String name : List.of("img", "tab", "ts", "txt", "vec")) {
        m.put(
            name,
            String.valueOf(r.isNullAt(r.fieldIndex(name)) ? null : r.getList(r.fieldIndex(name))));
      }
      m.put("split", r.getString(1));
      out.put(r.getString(0), m);
    }
    assertNotNull(out.get("s1"));
    return out;
  }

  private static Row replace(Row row, int index, Object value) {
    Object[] values = new Object[row.length()];
    for (int i = 0; i < values.length; i++) {
      values[i] = i == index ? value : row.get(i);
    }
    return org.apache.spark.sql.RowFactory.create(values);
  }
}
