package org.cohortfusion.multijvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.bench.SyntheticEmbeddings;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.features.FeatureTestCohorts;
import org.cohortfusion.features.extract.ExtractAction;
import org.cohortfusion.features.extract.ExtractResult;
import org.cohortfusion.features.pretrain.PretrainAction;
import org.cohortfusion.features.pretrain.PretrainResult;
import org.cohortfusion.train.TrainAction;
import org.cohortfusion.train.TrainResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Everything pretrain, extract and train ship to executors, rebuilt in executor JVMs of their own:
 * network configurations with every fusion vertex, every updater and learning-rate schedule,
 * preprocessing, encoders, shard loaders. A serialisation defect (an object Kryo or Java
 * serialisation cannot rebuild) fails here in seconds; on {@code local[*]} it passes unnoticed.
 */
class ShippedToExecutorsMultiJvmTest {
  private final SparkSession spark = LocalClusterSession.get();

  @TempDir Path tmp;

  @Test
  void pretrainAndExtractRunOnBothExecutorJvms() throws Exception {
    String cohort =
        FeatureTestCohorts.writeCohort(
            spark, FeatureTestCohorts.rows(240, 7), tmp.resolve("cohort").toString(), "fp-mj");
    String out = tmp.resolve("out").toString();
    PipelineConfig config =
        PipelineConfigLoader.parse(
            FeatureTestCohorts.config(
                out,
                """
        pretrain {
          encoders {
            img { embedding-size = 3, conv-channels = [2], epochs = 2, batch-size = 16 }
            tab { embedding-size = 3, hidden = [4], epochs = 2, batch-size = 16 }
            ts  { embedding-size = 3, cell = lstm, epochs = 2, batch-size = 16 }
            txt { embedding-size = 3, hidden = [4], buckets = 64, epochs = 2, batch-size = 16 }
            vec { embedding-size = 3, hidden = [4], epochs = 2, batch-size = 16 }
          }
        }
        """),
            List.of());
    LocalClusterSession.executorsSinceLastCall();

    PretrainResult pretrained = PretrainAction.of(spark, config).cohortDir(cohort).execute();
    assertEquals(5, pretrained.modalities().size());
    assertEquals(
        LocalClusterSession.EXECUTORS,
        LocalClusterSession.executorsSinceLastCall().size(),
        "pretrain ran tasks on both executors");
    assertNoShardsLeft(config);

    ExtractResult extracted =
        ExtractAction.of(spark, config)
            .cohortDir(cohort)
            .encodersDir(pretrained.outputDir())
            .outputDir(tmp.resolve("embeddings").toString())
            .execute();
    assertEquals(
        LocalClusterSession.EXECUTORS,
        LocalClusterSession.executorsSinceLastCall().size(),
        "extract ran tasks on both executors");
    assertEquals(240, spark.read().parquet(extracted.outputDir() + "/table").count());
    // Again over the same cohort: every embedding comes from the cache, passed through by the
    // executors' encoding pass.
    ExtractResult again =
        ExtractAction.of(spark, config)
            .cohortDir(cohort)
            .encodersDir(pretrained.outputDir())
            .outputDir(tmp.resolve("embeddings").toString())
            .execute();
    for (var m : again.modalities()) {
      assertEquals(
          m.present(),
          m.reused(),
          m.name() + ": a re-run over the same cohort reuses every embedding");
      assertEquals(0, m.encoded(), m.name());
    }

    // End-to-end models on the executors: encoder layers in the graph with a frozen-then schedule,
    // any-rank features
    // and step masks in the shards (both formats), then scored by evaluate from the cohort's test
    // split.
    java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> trainedParams =
        new java.util.LinkedHashMap<>();
    for (String format : List.of("arrow", "dl4j")) {
      PipelineConfig e2e =
          PipelineConfigLoader.parse(
              FeatureTestCohorts.config(
                  out,
                  """
          fusion.models {
            e2e { what = [img, tab, ts, txt, vec], how = attention, projection = 4, head = [4], dropout = 0.2, modality-dropout = 0.2,
                  when = { img = conv0, tab = embedding, ts = lstm0, txt = input, vec = embedding },
                  freeze-encoder-epochs = 1, encoder-learning-rate = 0.5, l2 = 0.01, l1 = 0.001,
                  wide = true, wide-l2 = 0.3 }
          }
          fusion.baselines = []
          train { mode = spark, epochs = 2, batch-size = 16, patience = 5, shard-format = %s, validation = executors }
          """
                      .formatted(format)),
              List.of());
      String trainDir = tmp.resolve("train-" + format).toString();
      List<String> progress = new java.util.ArrayList<>();
      TrainResult trained =
          TrainAction.of(spark, e2e)
              .embeddingsDir(extracted.outputDir())
              .outputDir(trainDir)
              .cohort(cohort, pretrained.outputDir())
              .models(List.of("e2e"))
              .progress(progress::add)
              .execute();
      assertTrue(trained.get("e2e").completed(), format + ": e2e completed");
      trainedParams.put(
          format,
          org.cohortfusion.io.ModelArtifact.loadGraph(
                  new org.apache.hadoop.conf.Configuration(), trained.get("e2e").modelDir())
              .model()
              .params());
      // The cohort's validation features through the encoder layers in the graph, scored in the
      // executor JVMs.
      assertTrue(
          progress.contains(
              "[train] validation split scored on the executors every epoch (train.validation = executors)"),
          progress.toString());
      assertTrue(
          trained.get("e2e").validation().n() > 0
              && !Double.isNaN(trained.get("e2e").validation().loss()));
      assertEquals(
          LocalClusterSession.EXECUTORS,
          LocalClusterSession.executorsSinceLastCall().size(),
          format + ": the end-to-end model trained on both executors");
      assertNoShardsLeft(e2e);
      EvaluateResult evaluated =
          EvaluateAction.of(spark, e2e)
              .embeddingsDir(extracted.outputDir())
              .cohortDir(cohort)
              .trainDir(trainDir)
              .outputDir(tmp.resolve("evaluate-" + format).toString())
              .execute();
      EvaluateResult.ModelEvaluation m = evaluated.models().get(0);
      assertEquals("e2e", m.name());
      assertEquals(48, m.test().n(), "every labeled test subject of the cohort");
      assertTrue(
          m.describe()
              .contains(
                  "when: end to end (img = conv0, tab = embedding, ts = lstm0, txt = input, vec = embedding"),
          m.describe());
      assertTrue(
          m.describe()
              .endsWith(" | L2 0.01 | L1 0.001 | wide: linear path beside the head, L2 0.3"),
          "the penalties and the wide path reach the saved model: " + m.describe());
    }
    // The two shard formats carry the same minibatches under the same file names, so two runs that
    // differ only in the format train the same network, dropout on the executors included: each
    // shard's draws are seeded by the run's seed, the epoch and the shard, not by the executor
    // thread's history (the runs differed before).
    assertEquals(
        trainedParams.get("arrow"),
        trainedParams.get("dl4j"),
        "the same config trained twice on the executors gives the same network");
  }

  @Test
  void everyFusionVertexUpdaterAndScheduleTrainsOnExecutorJvms() throws Exception {
    String out = tmp.resolve("out").toString();
    SyntheticEmbeddings.write(
        spark, out + "/embeddings", 800, new double[] {0.2, 0.3, 0.2}, 1.0, 5);
    String models =
        """
        fusion {
          baselines = [unimodal]
          models {
            att { what = [clinical, labs, imaging], how = attention, projection = 8, head = [8], modality-dropout = 0.2 }
            gmu { what = [clinical, labs, imaging], how = gmu, projection = 8 }
            h { projection = 4, stages = [ { name = cl, what = [clinical, labs], how = lowrank_tensor }
                           { name = all, what = [cl, imaging], how = tensor } ] }
            m { what = [clinical, labs, imaging], how = mean, projection = 8 }
            p { what = [clinical, labs, imaging], how = product, projection = 8 }
            s { what = [clinical, labs, imaging], how = sum, projection = 8 }
            c { what = [clinical, labs, imaging], how = concat_mask }
          }
        }
        """;
    for (String train :
        List.of(
            "updater = adam, schedule = constant",
            "updater = sgd, schedule = step, shard-format = arrow",
            "updater = nesterovs, schedule = exponential")) {
      PipelineConfig config =
          PipelineConfigLoader.parse(
              "subjects { path = s.csv }\n"
                  + "modalities { clinical { kind = tabular, path = c.csv } }\n"
                  + "output { dir = \""
                  + out
                  + "\" }\n"
                  + models
                  + "train { mode = spark, epochs = 1, batch-size = 32, patience = 5, "
                  + train
                  + " }\n",
              List.of());
      List<String> names =
          train.contains("adam")
              ? List.of("att", "gmu", "h", "m", "p", "s", "c", "unimodal:labs")
              : List.of("att");
      LocalClusterSession.executorsSinceLastCall();
      TrainResult r =
          TrainAction.of(spark, config)
              .models(names)
              .outputDir(tmp.resolve("train-" + train.hashCode()).toString())
              .progress(System.out::println)
              .execute();
      for (String name : names) {
        assertTrue(r.get(name).completed(), train + ": " + name + " completed");
      }
      Set<String> executors = LocalClusterSession.executorsSinceLastCall();
      assertEquals(
          LocalClusterSession.EXECUTORS,
          executors.size(),
          train + ": both executors trained, saw " + executors);
      assertNoShardsLeft(config);
    }
  }

  @Test
  void validationScoredOnTheExecutorsAgreesWithTheDriverEveryEpoch() throws Exception {
    String out = tmp.resolve("out").toString();
    SyntheticEmbeddings.write(
        spark, out + "/embeddings", 600, new double[] {0.2, 0.3, 0.2}, 1.0, 5);
    java.util.Map<String, List<double[]>> epochs = new java.util.HashMap<>();
    java.util.Map<String, TrainResult.ModelResult> results = new java.util.HashMap<>();
    java.util.regex.Pattern line =
        java.util.regex.Pattern.compile(
            "^\\[att\\] epoch \\d+/4  val loss ([0-9.]+)  val AUROC ([0-9.]+)");
    for (String where : List.of("driver", "executors")) {
      PipelineConfig config =
          PipelineConfigLoader.parse(
              "subjects { path = s.csv }\n"
                  + "modalities { clinical { kind = tabular, path = c.csv } }\n"
                  + "output { dir = \""
                  + out
                  + "\" }\n"
                  + "fusion { baselines = [], models { att { what = [clinical, labs, imaging], how = attention, projection = 8, head = [8] } } }\n"
                  + "train { mode = local, epochs = 4, batch-size = 32, patience = 9, validation = "
                  + where
                  + " }\n",
              List.of());
      List<String> progress = new java.util.ArrayList<>();
      LocalClusterSession.executorsSinceLastCall();
      TrainResult r =
          TrainAction.of(spark, config)
              .models(List.of("att"))
              .outputDir(tmp.resolve("train-" + where).toString())
              .progress(progress::add)
              .execute();
      results.put(where, r.get("att"));
      epochs.put(
          where,
          progress.stream()
              .map(line::matcher)
              .filter(java.util.regex.Matcher::find)
              .map(
                  m ->
                      new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))})
              .toList());
      if (where.equals("executors")) {
        assertTrue(
            progress.contains(
                "[train] validation split scored on the executors every epoch (train.validation = executors)"),
            progress.toString());
        assertEquals(
            LocalClusterSession.EXECUTORS,
            LocalClusterSession.executorsSinceLastCall().size(),
            "the validation split was scored on both executors");
      }
    }
    assertEquals(4, epochs.get("driver").size());
    assertEquals(4, epochs.get("executors").size());
    for (int e = 0; e < 4; e++) {
      // The progress line prints 4 decimals; the executors compute the loss in double, the driver
      // in float.
      assertEquals(
          epochs.get("driver").get(e)[0],
          epochs.get("executors").get(e)[0],
          2e-4,
          "epoch " + (e + 1) + " loss");
      assertEquals(
          epochs.get("driver").get(e)[1],
          epochs.get("executors").get(e)[1],
          2e-4,
          "epoch " + (e + 1) + " AUROC");
    }
    TrainResult.ModelResult d = results.get("driver");
    TrainResult.ModelResult x = results.get("executors");
    assertEquals(d.bestEpoch(), x.bestEpoch(), "the same epoch is published");
    assertEquals(d.validation().auroc(), x.validation().auroc(), 1e-9);
    assertEquals(d.validation().loss(), x.validation().loss(), 1e-5);
    assertEquals(d.validation().n(), x.validation().n());
  }

  private static void assertNoShardsLeft(PipelineConfig config) throws Exception {
    Path shards = Path.of(config.shardsDir());
    if (Files.exists(shards)) {
      try (Stream<Path> left = Files.list(shards)) {
        List<Path> dirs = left.toList();
        assertFalse(!dirs.isEmpty(), "shard directories left behind: " + dirs);
      }
    }
  }
}
