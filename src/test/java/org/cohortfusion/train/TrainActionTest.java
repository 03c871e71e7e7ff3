package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.cohortfusion.config.TrainConfig;
import org.cohortfusion.io.Json;
import org.cohortfusion.stage.TrainOutputs;
import org.cohortfusion.stage.TrainState;
import org.cohortfusion.testing.SyntheticEmbeddings;
import org.junit.jupiter.api.Test;

class TrainActionTest {
  static final long[] SEEDS = {11, 23};

  /** The best fusion model beats every unimodal baseline on the held-out test split. */
  @Test
  void bestFusionBeatsEveryUnimodalBaseline() throws Exception {
    for (long seed : SEEDS) {
      TrainFixture f =
          new TrainFixture(
              2000,
              new double[] {0.2, 0.2, 0.2},
              1.0,
              seed,
              """
          fusion {
            models {
              attention { what = [clinical, labs, imaging], how = attention, projection = 16, head = [32], modality-dropout = 0.1 }
            }
            default = attention
          }
          train { mode = local, epochs = 15, batch-size = 32, learning-rate = 0.005, patience = 4, seed = %d }
          """
                  .formatted(seed));
      TrainResult r = f.action().execute();
      assertEquals(
          List.of(
              "attention",
              "unimodal:clinical",
              "unimodal:labs",
              "unimodal:imaging",
              "early",
              "late"),
          r.models().stream().map(TrainResult.ModelResult::name).toList());
      assertTrue(r.models().stream().allMatch(TrainResult.ModelResult::completed));
      Map<String, Double> test = f.testAurocs(r);
      System.out.printf(Locale.ROOT, "seed %d test AUROC %s%n", seed, test);
      double fusion = test.get("attention");
      for (String uni : List.of("unimodal:clinical", "unimodal:labs", "unimodal:imaging")) {
        assertTrue(
            fusion > test.get(uni) + 0.05,
            "seed " + seed + ": fusion " + fusion + " vs " + uni + " " + test.get(uni));
      }
      TrainOutputs.Summary summary =
          Json.read(
              f.spark.sparkContext().hadoopConfiguration(),
              r.summaryPath(),
              TrainOutputs.Summary.class);
      assertEquals(6, summary.models().size());
      assertTrue(summary.models().stream().allMatch(e -> e.validation().get("auroc") > 0.5));
    }
  }

  /**
   * With half of each modality missing (MCAR, same rate in every split), masked fusion (mean /
   * attention) is measured against zero-filled concatenation (concat op after the same projections,
   * and the early baseline). The brief's claim "masked beats zero-filled concatenation" did NOT
   * reproduce on this generator. Test AUROC mean / attention / concat / early (training is
   * deterministic: re-runs give the same numbers): seed 11 0.699 / 0.703 / 0.722 / 0.714, seed 23
   * 0.730 / 0.740 / 0.743 / 0.735; best masked minus concat -0.0196 (seed 11, only 0.0004 inside
   * the margin) and -0.003 (seed 23), masked minus early -0.011 / +0.005. (An earlier version of
   * this comment recorded -0.011 / -0.005 and +0.005 / -0.001; the minibatch shuffle of ffc0ea2 is
   * the likely change.) This therefore asserts only non-inferiority, with a margin of 0.03 AUROC:
   * across every condition below the gap moves by about +-0.02 between seeds (about 300 test
   * subjects per seed), so a 0.02 margin would test the seed, not the fusion.
   *
   * <p>Other conditions measured with the same models (exploration, not asserted; best masked minus
   * concat, seeds 11 / 23): 5000 subjects and 20 epochs +0.004 / +0.002; 600 subjects -0.013 /
   * +0.016; six modalities (64 presence patterns) -0.017 / +0.015; modality dropout 0.3 on every
   * fusion model -0.003 / +0.000; missingness depending on the label (rate 0.3 for positives, 0.7
   * for negatives) +0.009 / -0.001; latents sharing one factor, rho 0.5, -0.009 / -0.008, rho 0.9,
   * +0.001 / -0.0075; development cohort complete and test half missing, rho 0, no modality dropout
   * -0.040 / +0.0035, with modality dropout 0.3 +0.017 / +0.017 but -0.004 / -0.002 on seeds 5 /
   * 37. For rho 0.9 see {@link #modalityDropoutNotMaskingCarriesFusionThroughAMissingnessShift}.
   */
  @Test
  void maskedFusionIsNotWorseThanZeroFilledConcatenationWhenHalfIsMissing() throws Exception {
    for (long seed : SEEDS) {
      TrainFixture f =
          new TrainFixture(
              1500,
              new double[] {0.5, 0.5, 0.5},
              3.0,
              seed,
              """
          fusion {
            models {
              mean { what = [clinical, labs, imaging], how = mean, projection = 16, head = [32] }
              attention { what = [clinical, labs, imaging], how = attention, projection = 16, head = [32] }
              concat { what = [clinical, labs, imaging], how = concat, projection = 16, head = [32] }
            }
            baselines = [early]
          }
          train { mode = local, epochs = 12, batch-size = 32, patience = 4, seed = %d }
          """
                  .formatted(seed));
      TrainResult r = f.action().execute();
      Map<String, Double> test = f.testAurocs(r);
      System.out.printf(Locale.ROOT, "seed %d half missing, test AUROC %s%n", seed, test);
      double masked = Math.max(test.get("mean"), test.get("attention"));
      assertTrue(masked > test.get("concat") - 0.03, "seed " + seed + ": " + test);
      assertTrue(masked > test.get("early") - 0.03, "seed " + seed + ": " + test);
    }
  }

  /**
   * Missingness shift, the "develop on a curated cohort, deploy in the clinic" case: the
   * development splits (train, validation) have every modality, the evaluated test split misses
   * half of each modality (MCAR), and the modalities all reflect one disease severity (shared
   * latent, rho = 0.9). Masked attention and zero-filled concatenation get the same projections,
   * head, epochs, early stopping, data and modality dropout 0.3; attention-nodrop is the same
   * masked attention without modality dropout.
   *
   * <p>Measured test AUROC, attention / attention-nodrop / concat: seed 11 0.828 / 0.701 / 0.799,
   * seed 23 0.875 / 0.839 / 0.886 (exploration seeds 5: 0.835 / 0.803 / 0.832, 37: 0.891 / 0.837 /
   * 0.889, 41: 0.857 / 0.778 / 0.858). Masked minus concat: +0.029, -0.011 (+0.004, +0.002,
   * -0.001): masking adds no stable gain over zero-filled concatenation, so the claim does
   * not reproduce here either. What holds on every seed is that masked attention needs modality
   * dropout to survive the shift: +0.127, +0.036 (+0.033, +0.054, +0.079); without it, attention
   * trails concat with dropout. This asserts the modality-dropout gain (margin 0.02) and that
   * masked attention and concat with the same dropout stay within 0.04 of each other. These were
   * measured with epochs chosen by validation AUROC, so the test keeps early-stopping = auroc (with
   * the default, validation loss, seed 11 measured 0.817 / 0.804 / 0.824: the dropout gain shrinks
   * to 0.013).
   */
  @Test
  void modalityDropoutNotMaskingCarriesFusionThroughAMissingnessShift() throws Exception {
    for (long seed : SEEDS) {
      TrainFixture f =
          new TrainFixture(
              1500,
              new double[] {0.5, 0.5, 0.5},
              3.0,
              seed,
              new SyntheticEmbeddings.Scenario(0.9, 0, new double[] {0, 0, 0}),
              """
          fusion {
            models {
              attention { what = [clinical, labs, imaging], how = attention, projection = 16, head = [32], modality-dropout = 0.3 }
              attention-nodrop { what = [clinical, labs, imaging], how = attention, projection = 16, head = [32] }
              concat { what = [clinical, labs, imaging], how = concat, projection = 16, head = [32], modality-dropout = 0.3 }
            }
            baselines = []
          }
          train { mode = local, epochs = 12, batch-size = 32, patience = 4, seed = %d, early-stopping = auroc }
          """
                  .formatted(seed));
      TrainResult r = f.action().execute();
      Map<String, Double> test = f.testAurocs(r);
      System.out.printf(
          Locale.ROOT,
          "seed %d complete development cohort, half missing at test, test AUROC %s%n",
          seed,
          test);
      assertTrue(
          test.get("attention") > test.get("attention-nodrop") + 0.02,
          "seed " + seed + ": " + test);
      assertEquals(test.get("concat"), test.get("attention"), 0.04, "seed " + seed + ": " + test);
    }
  }

  /**
   * The train CLI trains one named model in local mode and exits 0; a bad --model exits 2 naming
   * it.
   */
  @Test
  void trainCommandTrainsOneModel() throws Exception {
    TrainFixture f = new TrainFixture(600, new double[] {0.2, 0.2, 0.2}, 1.0, 3, "");
    java.nio.file.Path conf = f.root.resolve("p.conf");
    java.nio.file.Files.writeString(
        conf,
        "subjects { path = s.csv }\nmodalities { clinical { kind = tabular, path = c.csv } }\n"
            + "output { dir = \""
            + f.root.resolve("out")
            + "\" }\ntrain { epochs = 2, patience = 5 }\n");
    assertEquals(
        0,
        org.cohortfusion.cli.CohortFusion.run(
            "train", "-c", conf.toString(), "--model", "early", "--mode", "local"));
    assertTrue(java.nio.file.Files.exists(f.root.resolve("out/train/early/model/model.zip")));
    assertTrue(java.nio.file.Files.exists(f.root.resolve("out/train/summary.json")));
    assertEquals(
        2,
        org.cohortfusion.cli.CohortFusion.run(
            "train", "-c", conf.toString(), "--model", "nope", "--mode", "local"));
  }

  /** An interrupted run resumed from its checkpoint ends where an uninterrupted run ends. */
  @Test
  void resumeContinuesFromTheLastCheckpoint() throws Exception {
    TrainFixture f =
        new TrainFixture(
            1200,
            new double[] {0.2, 0.2, 0.2},
            1.0,
            5,
            """
        fusion { models { att { what = [clinical, labs, imaging], how = attention, projection = 8, head = [16], modality-dropout = 0.2 } }, baselines = [] }
        train { mode = local, epochs = 4, batch-size = 32, patience = 10, seed = 5 }
        """);
    TrainResult full = f.action().outputDir(f.root.resolve("full").toString()).execute();
    String dir = f.root.resolve("parts").toString();
    TrainResult first = f.action().outputDir(dir).interruptAfter(2).execute();
    assertFalse(first.get("att").completed());
    assertEquals(2, first.get("att").epochsRun());
    // A checkpoint continues only the training that wrote it: another learning rate is refused,
    // naming the key.
    @SuppressWarnings("unchecked")
    java.util.Map<String, Object> other =
        org.cohortfusion.io.Json.MAPPER.convertValue(f.config.train(), java.util.Map.class);
    other.put("learning-rate", 0.5);
    org.cohortfusion.config.TrainConfig changed =
        org.cohortfusion.io.Json.MAPPER.convertValue(
            other, org.cohortfusion.config.TrainConfig.class);
    org.cohortfusion.config.ConfigException refused =
        org.junit.jupiter.api.Assertions.assertThrows(
            org.cohortfusion.config.ConfigException.class,
            () -> f.action().outputDir(dir).train(changed).resume(true).execute());
    assertTrue(
        refused.getMessage().startsWith("Cannot resume 'att': its checkpoint ")
            && refused.getMessage().contains("train.learning-rate (0.005, now 0.5)"),
        refused.getMessage());
    TrainResult resumed = f.action().outputDir(dir).resume(true).execute();
    TrainResult.ModelResult a = full.get("att");
    TrainResult.ModelResult b = resumed.get("att");
    System.out.printf(
        Locale.ROOT,
        "resume: full %.6f (best epoch %d), resumed %.6f (best epoch %d)%n",
        a.validation().auroc(),
        a.bestEpoch(),
        b.validation().auroc(),
        b.bestEpoch());
    assertTrue(b.completed());
    assertEquals(4, b.epochsRun());
    assertEquals(a.epochsRun(), b.epochsRun());
    assertEquals(a.validation().auroc(), b.validation().auroc(), 0.002);
    // A finished model is reported, not retrained.
    TrainResult again = f.action().outputDir(dir).resume(true).execute();
    assertEquals(b.sha256(), again.get("att").sha256());
  }

  /**
   * The published epoch is the one with the lowest validation log loss (default) or, with
   * early-stopping = auroc, the highest validation AUROC, as the epoch history in state.json
   * records them.
   */
  @Test
  void thePublishedEpochFollowsTheEarlyStoppingMeasure() throws Exception {
    TrainFixture f =
        new TrainFixture(
            600,
            new double[] {0.3, 0.3, 0.3},
            1.0,
            13,
            """
        fusion { models { att { what = [clinical, labs, imaging], how = attention, projection = 8, head = [32] } }, baselines = [] }
        train { mode = local, epochs = 8, batch-size = 16, learning-rate = 0.02, patience = 8, seed = 13 }
        """);
    for (String measure : List.of("loss", "auroc")) {
      @SuppressWarnings("unchecked")
      java.util.Map<String, Object> m =
          org.cohortfusion.io.Json.MAPPER.convertValue(f.config.train(), java.util.Map.class);
      m.put("early-stopping", measure);
      org.cohortfusion.config.TrainConfig t =
          org.cohortfusion.io.Json.MAPPER.convertValue(
              m, org.cohortfusion.config.TrainConfig.class);
      String out = f.root.resolve(measure).toString();
      TrainResult r = f.action().outputDir(out).train(t).execute();
      TrainState state =
          org.cohortfusion.io.Json.read(
              new org.apache.hadoop.conf.Configuration(),
              out + "/att/checkpoints/state.json",
              TrainState.class);
      assertEquals(8, state.history().size());
      java.util.Comparator<TrainState.Epoch> best =
          measure.equals("loss")
              ? java.util.Comparator.comparingDouble(e -> -e.validationLoss())
              : java.util.Comparator.comparingDouble(TrainState.Epoch::validationAuroc);
      // The first epoch reaching the extreme value: later ties are not improvements.
      TrainState.Epoch expected =
          state.history().stream().reduce((a, b) -> best.compare(b, a) > 0 ? b : a).orElseThrow();
      assertEquals(expected.epoch(), r.get("att").bestEpoch(), measure + ": " + state.history());
    }
  }

  /**
   * A warm start begins from the parent's weights: with a learning rate of 1e-12 one epoch cannot
   * move them by more than about 1e-10 (Adam's steps are about the learning rate), so the published
   * model is the parent within 1e-6, while a fresh initialisation is not; a parent of another spec
   * is refused.
   */
  @Test
  void warmStartBeginsFromTheParentsWeights() throws Exception {
    TrainFixture f =
        new TrainFixture(
            600,
            new double[] {0.2, 0.2, 0.2},
            1.0,
            9,
            """
        fusion { models {
          att { what = [clinical, labs, imaging], how = attention, projection = 8, head = [16] }
          cat { what = [clinical, labs, imaging], how = concat, head = [16] }
        }, baselines = [] }
        train { mode = local, epochs = 2, batch-size = 32, seed = 9 }
        """);
    TrainResult parent =
        f.action().outputDir(f.root.resolve("parent").toString()).models(List.of("att")).execute();
    String parentModel = parent.get("att").modelDir();
    @SuppressWarnings("unchecked")
    java.util.Map<String, Object> frozen =
        org.cohortfusion.io.Json.MAPPER.convertValue(f.config.train(), java.util.Map.class);
    frozen.put("learning-rate", 1e-12);
    frozen.put("epochs", 1);
    org.cohortfusion.config.TrainConfig noSteps =
        org.cohortfusion.io.Json.MAPPER.convertValue(
            frozen, org.cohortfusion.config.TrainConfig.class);
    TrainResult child =
        f.action()
            .outputDir(f.root.resolve("child").toString())
            .models(List.of("att"))
            .train(noSteps)
            .warmStart("att", parentModel)
            .execute();
    org.apache.hadoop.conf.Configuration hconf = new org.apache.hadoop.conf.Configuration();
    org.nd4j.linalg.api.ndarray.INDArray before =
        org.cohortfusion.io.ModelArtifact.loadGraph(hconf, parentModel).model().params();
    org.cohortfusion.io.ModelArtifact.Loaded<org.deeplearning4j.nn.graph.ComputationGraph> after =
        org.cohortfusion.io.ModelArtifact.loadGraph(hconf, child.get("att").modelDir());
    assertTrue(before.equalsWithEps(after.model().params(), 1e-6));
    assertEquals(parentModel, after.provenance().config().get("warmStartedFrom"));
    // Without the warm start the same settings publish a fresh initialisation, not the parent.
    TrainResult fresh =
        f.action()
            .outputDir(f.root.resolve("fresh").toString())
            .models(List.of("att"))
            .train(noSteps)
            .execute();
    assertFalse(
        before.equalsWithEps(
            org.cohortfusion.io.ModelArtifact.loadGraph(hconf, fresh.get("att").modelDir())
                .model()
                .params(),
            1e-6));

    org.cohortfusion.config.ConfigException other =
        org.junit.jupiter.api.Assertions.assertThrows(
            org.cohortfusion.config.ConfigException.class,
            () ->
                f.action()
                    .outputDir(f.root.resolve("other").toString())
                    .models(List.of("cat"))
                    .warmStart("cat", parentModel)
                    .execute());
    assertTrue(
        other.getMessage().startsWith("Cannot warm-start 'cat' from " + parentModel),
        other.getMessage());
  }

  /**
   * Spark training with 2 workers (parameter averaging every minibatch) lands near single-process
   * training. 6000 subjects so that both converge: with 3000 and id-hash-shuffled minibatches the
   * gap reached 0.0058 on seed 11; at 6000 it measured 0.0038 (seed 11) and 0.0005 (seed 23).
   */
  @Test
  void sparkTrainingMatchesSingleProcess() throws Exception {
    for (long seed : SEEDS) {
      TrainFixture f =
          new TrainFixture(
              6000,
              new double[] {0.2, 0.2, 0.2},
              1.0,
              seed,
              """
          fusion { models { att { what = [clinical, labs, imaging], how = attention, projection = 16, head = [32] } }, baselines = [] }
          train { epochs = 6, batch-size = 32, workers = 2, averaging-frequency = 1, patience = 100, seed = %d }
          """
                  .formatted(seed));
      f.action()
          .mode(TrainConfig.Mode.LOCAL)
          .outputDir(f.root.resolve("local").toString())
          .execute();
      f.action()
          .mode(TrainConfig.Mode.SPARK)
          .outputDir(f.root.resolve("spark").toString())
          .execute();
      double local = f.testAuroc(f.root.resolve("local").toString(), "att");
      double spark = f.testAuroc(f.root.resolve("spark").toString(), "att");
      System.out.printf(
          Locale.ROOT,
          "seed %d test AUROC local %.4f spark %.4f gap %.4f%n",
          seed,
          local,
          spark,
          Math.abs(local - spark));
      assertEquals(local, spark, 0.005, "seed " + seed);
    }
  }
}
