package org.cohortfusion.multijvm;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.bench.SyntheticEmbeddings;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.evaluate.ExecutorScorer;
import org.cohortfusion.evaluate.Scenarios;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.train.Batch;
import org.cohortfusion.train.EmbeddingsData;
import org.cohortfusion.train.Metrics;
import org.cohortfusion.train.TrainAction;
import org.cohortfusion.train.TrainResult;
import org.cohortfusion.train.TrainedModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Evaluate's executor scoring on two executor JVMs: a fusion model and a late fusion, broadcast and
 * rebuilt there, scored on batches the executors read and on scenarios they rebuild from subject
 * ids, must give the probabilities of the same graphs loaded on the driver and run over batches
 * built here by hand, with the removals computed here from their definition (SHA-256 of seed,
 * modality and subject id; removed iff the draw is below the rate), for every scenario.
 */
class ExecutorScoringMultiJvmTest {
  private static final long SEED = 7;
  private final SparkSession spark = LocalClusterSession.get();
  @TempDir Path dir;

  @Test
  void executorScoresEqualDriverScoresInEveryScenario() throws Exception {
    String out = dir.resolve("out").toString();
    EmbeddingsSpec emb =
        SyntheticEmbeddings.write(
            spark, out + "/embeddings", 900, new double[] {0.3, 0.3, 0.3}, 1.0, 13);
    Path conf = dir.resolve("e.conf");
    Files.writeString(
        conf,
        """
        name = exec-score
        subjects { path = s.csv }
        modalities { clinical { kind = tabular, path = c.csv } }
        output { dir = "%s" }
        fusion {
          models { mean { what = [clinical, labs, imaging], how = mean, projection = 8, head = [16] } }
          baselines = [unimodal, late]
        }
        train { mode = local, epochs = 1, batch-size = 32, learning-rate = 0.01, seed = 3 }
        """
            .formatted(out));
    PipelineConfig config = PipelineConfigLoader.load(conf.toFile(), List.of());
    TrainResult trained = TrainAction.of(spark, config).execute();
    assertTrue(trained.get("mean").completed());
    assertTrue(trained.get("late").completed());
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    String trainDir = config.trainOutputDir();
    int m = emb.modalityNames().size();

    // The driver's side, by hand: the labeled test rows sorted by subject id.
    Dataset<Row> table = EmbeddingsData.table(spark, out + "/embeddings");
    List<Row> rows =
        new ArrayList<>(
            table
                .where(col("split").equalTo("test").and(col("label").isNotNull()))
                .collectAsList());
    rows.sort(Comparator.comparing(r -> r.<String>getAs("subject_id")));
    int n = rows.size();
    float[][] full = new float[m][];
    float[] presence = new float[n * m];
    for (int i = 0; i < m; i++) {
      String name = emb.modalityNames().get(i);
      int dim = emb.modalities().get(i).dim();
      full[i] = new float[n * dim];
      for (int r = 0; r < n; r++) {
        Row row = rows.get(r);
        Boolean has = row.getAs("has_" + name);
        List<Float> v = row.getList(row.fieldIndex(name));
        if (has != null && has && v != null) {
          presence[r * m + i] = 1f;
          for (int d = 0; d < dim; d++) {
            full[i][r * dim + d] = v.get(d);
          }
        }
      }
    }
    List<double[][]> meanDriver = new ArrayList<>();
    List<double[][]> lateDriver = new ArrayList<>();
    Metrics.Predictor mean =
        TrainedModels.graph(
            ModelArtifact.loadGraph(hconf, trained.get("mean").modelDir()).model(),
            new int[] {0, 1, 2});
    TrainedModels.LateModel lateModel =
        Json.read(
            hconf,
            trainDir + "/late/late/" + TrainedModels.LATE_FILE,
            TrainedModels.LateModel.class);
    Map<Integer, Metrics.Predictor> members = new TreeMap<>();
    for (TrainedModels.LateModel.Member mem : lateModel.members()) {
      int i = emb.indexOf(mem.modality());
      members.put(
          i,
          TrainedModels.graph(
              ModelArtifact.loadGraph(hconf, mem.resolvedDir(trainDir)).model(), new int[] {i}));
    }
    assertEquals(m, members.size());
    List<Double> rates = EvaluateAction.REMOVAL_RATES;
    for (int s = 0; s < rates.size() + m; s++) {
      float[] p = presence.clone();
      for (int r = 0; r < n; r++) {
        for (int i = 0; i < m; i++) {
          boolean removed =
              s < rates.size()
                  ? draw(SEED, rows.get(r).getAs("subject_id"), i) < rates.get(s)
                  : i == s - rates.size();
          if (removed) {
            p[r * m + i] = 0f;
          }
        }
      }
      Batch b = batch(emb, full, p, n);
      meanDriver.add(probabilities(mean, b));
      double[][] late = new double[n][2];
      Map<Integer, double[][]> byMember = new TreeMap<>();
      members.forEach((i, predictor) -> byMember.put(i, probabilities(predictor, b)));
      for (int r = 0; r < n; r++) {
        int present = 0;
        for (int i = 0; i < m; i++) {
          if (p[r * m + i] != 0f) {
            present++;
            for (int k = 0; k < 2; k++) {
              late[r][k] += byMember.get(i)[r][k];
            }
          }
        }
        for (int k = 0; k < 2; k++) {
          late[r][k] = present == 0 ? 0.5 : late[r][k] / present;
        }
      }
      lateDriver.add(late);
    }

    // The executors' side.
    Scenarios scenarios = new Scenarios(rates, SEED, m);
    LocalClusterSession.executorsSinceLastCall();
    List<double[][]> meanExecutors =
        new ExecutorScorer(
                TrainedModels.portableAt(hconf, trained.get("mean").modelDir(), emb),
                table,
                emb,
                16,
                n)
            .score(scenarios, List.of());
    List<double[][]> lateExecutors =
        new ExecutorScorer(TrainedModels.portable(hconf, trainDir, "late", emb), table, emb, 16, n)
            .score(scenarios, List.of());
    assertEquals(
        LocalClusterSession.EXECUTORS,
        LocalClusterSession.executorsSinceLastCall().size(),
        "scored on both executors");

    assertSame("mean", meanDriver, meanExecutors, n);
    assertSame("late", lateDriver, lateExecutors, n);
    // Not vacuous: removal changes the probabilities, and the scenarios differ.
    int changed = 0;
    for (int r = 0; r < n; r++) {
      changed +=
          Math.abs(meanDriver.get(0)[r][1] - meanDriver.get(rates.size() - 1)[r][1]) > 1e-3 ? 1 : 0;
    }
    assertTrue(changed > n / 4, "removal at 0.9 changes " + changed + " of " + n);

    // Evaluate's predictions table, made and written by the executors: one row per model and test
    // subject, the fusion model's probability the one computed here by hand, the label the table's.
    LocalClusterSession.executorsSinceLastCall();
    EvaluateResult evaluated = EvaluateAction.of(spark, config).execute();
    assertEquals(
        LocalClusterSession.EXECUTORS,
        LocalClusterSession.executorsSinceLastCall().size(),
        "evaluate ran tasks on both executors");
    Dataset<Row> written = spark.read().parquet(evaluated.predictionsPath());
    assertEquals((long) evaluated.models().size() * n, written.count());
    Map<String, Row> meanRows = new java.util.HashMap<>();
    for (Row r : written.where(col("model").equalTo("mean")).collectAsList()) {
      meanRows.put(r.getAs("subject_id"), r);
    }
    assertEquals(n, meanRows.size());
    for (int r = 0; r < n; r++) {
      Row expected = rows.get(r);
      Row got = meanRows.get(expected.<String>getAs("subject_id"));
      assertEquals(meanDriver.get(0)[r][1], got.<Double>getAs("probability"), 1e-6, "row " + r);
      assertEquals(expected.<Integer>getAs("label"), got.<Integer>getAs("label"), "row " + r);
    }
  }

  private static void assertSame(
      String model, List<double[][]> driver, List<double[][]> executors, int n) {
    assertEquals(driver.size(), executors.size(), model + ": scenarios");
    for (int s = 0; s < driver.size(); s++) {
      assertEquals(n, executors.get(s).length, model + ", scenario " + s);
      for (int r = 0; r < n; r++) {
        for (int k = 0; k < 2; k++) {
          assertEquals(
              driver.get(s)[r][k],
              executors.get(s)[r][k],
              1e-6,
              model + ", scenario " + s + ", row " + r + ", class " + k);
        }
      }
    }
  }

  /** The documented draw: the first 53 bits of SHA-256(seed, modality, UTF-8 id) in [0, 1). */
  private static double draw(long seed, String id, int modality) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update(ByteBuffer.allocate(8).putLong(seed).array());
    sha.update(ByteBuffer.allocate(4).putInt(modality).array());
    byte[] h = sha.digest(id.getBytes(StandardCharsets.UTF_8));
    long top = 0;
    for (int j = 0; j < 8; j++) {
      top = (top << 8) | (h[j] & 0xff);
    }
    return (top >>> 11) / (double) (1L << 53);
  }

  /** All rows in one batch, the features of absent or removed modalities zeros. */
  private static Batch batch(EmbeddingsSpec emb, float[][] full, float[] p, int n) {
    int m = full.length;
    int[] dims = new int[m];
    float[][] f = new float[m][];
    for (int i = 0; i < m; i++) {
      dims[i] = emb.modalities().get(i).dim();
      f[i] = full[i].clone();
      for (int r = 0; r < n; r++) {
        if (p[r * m + i] == 0f) {
          java.util.Arrays.fill(f[i], r * dims[i], (r + 1) * dims[i], 0f);
        }
      }
    }
    return new Batch(dims, f, p, new int[n], 2);
  }

  private static double[][] probabilities(Metrics.Predictor predictor, Batch b) {
    return predictor.predict(b).castTo(DataType.DOUBLE).toDoubleMatrix();
  }
}
