package org.cohortfusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.FusionModelConfig;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.features.FeatureTestCohorts;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.features.batch.PreprocessingFitter;
import org.cohortfusion.features.encoder.EncoderFactory;
import org.cohortfusion.fusion.spec.FusionCompiler;
import org.cohortfusion.fusion.spec.FusionSpec;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.stage.ModalitySpec;
import org.cohortfusion.testing.SparkTestSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An end-to-end model trains single-process on a tiny generated cohort read through {@link
 * CohortData} (every kind of modality, time series with step masks and absent subjects): its
 * validation loss falls, and below the loss of the label prior (ln 2: the cohort's labels
 * alternate), which no model that ignores its inputs can reach.
 */
class EndToEndTrainingTest {
  private final SparkSession spark = SparkTestSession.get();
  @TempDir Path tmp;

  @Test
  void endToEndModelLearnsFromTheAlignedCohort() {
    String cohort =
        FeatureTestCohorts.writeCohort(
            spark, FeatureTestCohorts.rows(300, 9), tmp.resolve("cohort").toString(), "fp");
    PipelineConfig config =
        PipelineConfigLoader.parse(
            FeatureTestCohorts.config(
                tmp.resolve("out").toString(),
                """
        pretrain.encoders {
          vec { embedding-size = 4, hidden = [8] }
          ts { embedding-size = 3, hidden = [4], cell = lstm }
          tab { embedding-size = 3, hidden = [4] }
        }
        """),
            List.of());
    Dataset<Row> aligned = spark.read().parquet(cohort + "/" + CohortManifest.ALIGNED);
    List<String> what = List.of("img", "tab", "ts", "vec");
    List<ModalityPreprocessing> preps = new ArrayList<>();
    Map<String, MultiLayerNetwork> encoders = new LinkedHashMap<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    List<EmbeddingsSpec.Modality> mods = new ArrayList<>();
    for (String m : what) {
      ModalitySpec spec = FeatureTestCohorts.spec(m);
      // The train-split fit, as pretrain makes it.
      ModalityPreprocessing p =
          PreprocessingFitter.fit(aligned, spec, config.pretrain().encoder(m), 100);
      preps.add(p);
      encoders.put(m, EncoderFactory.build(p, config.pretrain().encoder(m), 2, 3));
      shapes.put(m, CohortData.exampleShape(p));
      mods.add(
          new EmbeddingsSpec.Modality(
              m,
              (int) java.util.Arrays.stream(shapes.get(m)).reduce(1, Math::multiplyExact),
              null));
    }
    Map<String, Object> when = new LinkedHashMap<>();
    when.put("img", "input");
    when.put("tab", "dense0");
    when.put("ts", "lstm0");
    when.put("vec", "embedding");
    FusionSpec spec =
        FusionSpec.fromConfig(
            "e2e",
            FusionModelConfig.builder()
                .what(what)
                .when(when)
                .how("attention")
                .projection(8)
                .head(List.of(8))
                .modalityDropout(0.2)
                .encoderLearningRate(0.5)
                .encoderInit("scratch")
                .build());
    FusionCompiler.Compiled compiled =
        FusionCompiler.compile(
            spec,
            new EmbeddingsSpec(mods, List.of("0", "1"), "fp"),
            Updaters.of(config.train()),
            7,
            new FusionCompiler.Encoders(
                encoders,
                shapes,
                false,
                Updaters.of(config.train(), spec.encoderLearningRate(), 0)));
    ComputationGraph graph = compiled.newGraph();

    List<Batch> train = CohortData.collect(aligned, preps, 2, null, "train", 16, false);
    List<Batch> validation = CohortData.collect(aligned, preps, 2, null, "validation", 64, false);
    assertEquals(180, train.stream().mapToInt(Batch::size).sum());
    assertTrue(
        train.stream().anyMatch(b -> b.mask(2) != null), "time series carry their step mask");
    int[] columns = {0, 1, 2, 3};
    boolean[] masked = FusionCompiler.maskedInputs(compiled.configuration());
    assertEquals(
        List.of(false, true, true, true),
        List.of(masked[0], masked[1], masked[2], masked[3]),
        "flattened image input takes no mask; encoder inputs do");
    double before = Metrics.evaluate(TrainedModels.graph(graph, columns), validation, 2).loss();
    java.util.Random drop = new java.util.Random(1);
    for (int epoch = 0; epoch < 15; epoch++) {
      graph.getConfiguration().setEpochCount(epoch);
      for (Batch b : train) {
        org.nd4j.linalg.dataset.api.MultiDataSet mds =
            b.select(columns, -1).keepMasks(masked).toMultiDataSet();
        org.nd4j.linalg.api.ndarray.INDArray[] f = mds.getFeatures();
        f[f.length - 1] =
            org.cohortfusion.fusion.ops.ModalityDropout.apply(
                f[f.length - 1], spec.modalityDropout(), drop);
        graph.fit(mds);
      }
    }
    double after = Metrics.evaluate(TrainedModels.graph(graph, columns), validation, 2).loss();
    assertTrue(after < before, "validation loss " + before + " -> " + after);
    assertTrue(after < Math.log(2), "validation loss " + after + " below the label prior's ln 2");
  }
}
