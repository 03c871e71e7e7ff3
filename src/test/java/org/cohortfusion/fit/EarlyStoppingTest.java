package org.cohortfusion.fit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.stage.TrainState;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The loop on a real network: a small classifier fitted in this process on a train set whose
 * validation set is the same examples with the labels swapped, so that whatever fitting lowers the
 * train loss raises the validation loss — the loop must stop early, and the oracle for which epoch
 * is best and when it stops is the validation losses the test itself recorded.
 */
class EarlyStoppingTest {
  private static final int EPOCHS = 40;
  private static final int PATIENCE = 3;
  private static final long SEED = 17;

  @TempDir Path dir;

  @Test
  void itKeepsTheEpochOfLowestValidationLossAndStopsAfterPatienceEpochsWithoutIt() {
    String ck = dir.resolve("checkpoints").toString();
    EarlyStopping<MultiLayerNetwork> loop = loop(ck, 0);
    List<Double> losses = new ArrayList<>();
    List<INDArray> params = new ArrayList<>();
    List<EarlyStopping.Epoch> reported = new ArrayList<>();
    TrainState state =
        loop.run(
            network(),
            loop.fresh(),
            fitter(),
            net -> {
              double loss = net.score(validation());
              losses.add(loss);
              params.add(net.params().dup());
              return EpochScore.byLoss(loss, Double.NaN, Map.of("validation_loss", loss));
            },
            reported::add);

    int best = 0; // 0-based index of the first minimum, the oracle
    for (int i = 1; i < losses.size(); i++) {
      if (losses.get(i) < losses.get(best)) {
        best = i;
      }
    }
    int ran = losses.size();
    assertTrue(ran < EPOCHS, "the swapped labels must stop it early; it ran " + ran + " epochs");
    assertTrue(state.stoppedEarly());
    assertTrue(state.done());
    assertEquals(best + 1, state.bestEpoch());
    assertEquals(best + 1 + PATIENCE, ran, "stops exactly PATIENCE epochs after the best");
    assertEquals(ran, state.epoch());
    assertEquals(losses.get(best), state.bestLoss(), 0.0);
    assertEquals(ran, state.history().size());
    for (int i = 0; i < ran; i++) {
      assertEquals(losses.get(i), state.history().get(i).validationLoss(), 0.0);
      assertEquals(i == best, reported.get(i).improved() && isLastImprovement(reported, i));
    }
    assertEquals(params.get(best), loop.best().params(), "best/ holds the best epoch's network");
    assertEquals(params.get(ran - 1), load(loop.epochDir(ran)).params());
    assertEquals(
        Set.of("epoch-" + (ran - 1), "epoch-" + ran, "best", TrainState.FILE),
        entries(Path.of(ck)),
        "the last two epochs, the best and the state are kept");
  }

  /**
   * A run cut after two epochs and continued from its state and last checkpoint ends where an uncut
   * run ends: the same epochs, best epoch and best network.
   */
  @Test
  void aRunContinuedFromItsStateEndsWhereAnUncutRunEnds() {
    EarlyStopping<MultiLayerNetwork> whole = loop(dir.resolve("whole").toString(), 0);
    TrainState uncut =
        whole.run(network(), whole.fresh(), fitter(), EarlyStoppingTest::score, e -> {});

    String parts = dir.resolve("parts").toString();
    EarlyStopping<MultiLayerNetwork> cut = loop(parts, 2);
    assertNull(cut.previous(), "no state before the first run");
    TrainState first = cut.run(network(), cut.fresh(), fitter(), EarlyStoppingTest::score, e -> {});
    assertEquals(2, first.epoch());
    assertFalse(first.done());

    EarlyStopping<MultiLayerNetwork> rest = loop(parts, 0);
    TrainState previous = rest.previous();
    assertEquals(first, previous);
    TrainState resumed =
        rest.run(
            load(rest.epochDir(previous.epoch())),
            previous,
            fitter(),
            EarlyStoppingTest::score,
            e -> {});
    assertEquals(uncut.epoch(), resumed.epoch());
    assertEquals(uncut.bestEpoch(), resumed.bestEpoch());
    assertEquals(uncut.bestScore(), resumed.bestScore());
    assertEquals(whole.best().params(), rest.best().params());
  }

  private static boolean isLastImprovement(List<EarlyStopping.Epoch> reported, int i) {
    for (int j = i + 1; j < reported.size(); j++) {
      if (reported.get(j).improved()) {
        return false;
      }
    }
    return true;
  }

  private static EpochScore score(MultiLayerNetwork net) {
    double loss = net.score(validation());
    return EpochScore.byLoss(loss, Double.NaN, Map.of());
  }

  private EarlyStopping<MultiLayerNetwork> loop(String ck, int epochsThisRun) {
    return new EarlyStopping<>(
        new Configuration(),
        ck,
        new EarlyStopping.Checkpoints<>() {
          @Override
          public void save(String to, MultiLayerNetwork net, Map<String, Double> metrics) {
            try {
              Files.createDirectories(Path.of(to));
              ModelSerializer.writeModel(net, new File(to, "model.zip"), true);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }

          @Override
          public MultiLayerNetwork load(String from) {
            return EarlyStoppingTest.load(from);
          }
        },
        new EarlyStopping.Schedule(EPOCHS, PATIENCE, SEED, epochsThisRun));
  }

  private static MultiLayerNetwork load(String from) {
    try {
      return ModelSerializer.restoreMultiLayerNetwork(new File(from, "model.zip"), true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Set<String> entries(Path p) {
    try (Stream<Path> s = Files.list(p)) {
      return s.map(x -> x.getFileName().toString())
          .filter(n -> !n.startsWith(".") && !n.endsWith(".crc"))
          .collect(Collectors.toSet());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** 64 examples of 4 features, the class the sign of their sum, in minibatches of 16. */
  private static List<DataSet> train() {
    return data(false).batchBy(16);
  }

  /** The train examples with the two classes swapped. */
  private static DataSet validation() {
    return data(true);
  }

  private static DataSet data(boolean swapped) {
    java.util.Random rng = new java.util.Random(99);
    double[][] x = new double[64][4];
    double[][] y = new double[64][2];
    for (int r = 0; r < 64; r++) {
      double sum = 0;
      for (int c = 0; c < 4; c++) {
        x[r][c] = rng.nextDouble() - 0.5;
        sum += x[r][c];
      }
      y[r][sum > 0 ^ swapped ? 1 : 0] = 1.0;
    }
    return new DataSet(
        Nd4j.create(x).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT),
        Nd4j.create(y).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT));
  }

  private static EpochFitter<MultiLayerNetwork> fitter() {
    List<DataSet> batches = train();
    return new EpochFitter<>() {
      @Override
      public MultiLayerNetwork fitEpoch(MultiLayerNetwork model, int epoch) {
        for (DataSet b : batches) {
          model.fit(b);
        }
        return model;
      }

      @Override
      public long examples() {
        return 64;
      }
    };
  }

  private static MultiLayerNetwork network() {
    MultiLayerNetwork net =
        new MultiLayerNetwork(
            new NeuralNetConfiguration.Builder()
                .seed(SEED)
                .updater(new Adam(0.05))
                .list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build())
                .layer(
                    new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(8)
                        .nOut(2)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
    net.init();
    return net;
  }
}
