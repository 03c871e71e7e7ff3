package org.cohortfusion.features.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.List;
import org.cohortfusion.config.ConfigException;
import org.cohortfusion.config.EncoderConfig;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.features.FeatureTestCohorts;
import org.junit.jupiter.api.Test;

/**
 * The pretrain and extract config sections: defaults, per-modality overrides, errors naming the
 * key.
 */
class FeatureConfigTest {

  @Test
  void existingConfigsLoadWithDefaults() {
    PipelineConfig pbc =
        PipelineConfigLoader.load(
            new File(System.getProperty("cohortfusion.repo", "."), "conf/pbc.conf"), List.of());
    EncoderConfig clinical = pbc.pretrain().encoder("clinical");
    // Declared in conf/pbc.conf ...
    assertEquals(16, clinical.embeddingSize());
    assertEquals(List.of(32), clinical.hidden());
    // ... and what it leaves out takes the defaults.
    assertEquals(5, clinical.patience());
    assertEquals(EncoderConfig.Cell.LSTM, pbc.pretrain().encoder("labs").cellOrDefault());
    assertEquals(256, pbc.extract().batchSize());
    assertEquals("work/pbc/pretrain", pbc.pretrainOutputDir());
  }

  @Test
  void perModalityOverridesAndSetWork() {
    PipelineConfig c =
        PipelineConfigLoader.parse(
            FeatureTestCohorts.config(
                "out", "pretrain.encoders.ts { cell = cnn, hidden = [4, 4] }"),
            List.of(
                "pretrain.encoders.vec.top-k-variance=3",
                "pretrain.encoders.vec.embedding-size=5"));
    assertEquals(EncoderConfig.Cell.CNN, c.pretrain().encoder("ts").cellOrDefault());
    assertEquals(3, c.pretrain().encoder("vec").topKVarianceOrDefault());
    assertEquals(5, c.pretrain().encoder("vec").embeddingSize());
    assertEquals(32, c.pretrain().encoder("img").embeddingSize());
  }

  @Test
  void errorsNameTheKey() {
    assertError("pretrain.encoders.nope", "pretrain.encoders.nope.epochs = 3");
    assertError("pretrain.encoders.tab.cell", "pretrain.encoders.tab.cell = lstm");
    assertError("pretrain.encoders.vec.top-k-variance", "pretrain.encoders.vec.top-k-variance = 7");
    assertError("pretrain.encoders.img.embedding-size", "pretrain.encoders.img.embedding-size = 0");
    assertError("extract.batch-size", "extract.batch-size = 0");
    assertError("pretrain.encoders.ts.cell", "pretrain.encoders.ts.cell = gru");
    assertError("pretrain.encoders.vec.dropout", "pretrain.encoders.vec.dropout = 0.1");
  }

  private static void assertError(String key, String hocon) {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.parse(FeatureTestCohorts.config("out", hocon), List.of()));
    assertTrue(e.getMessage().contains("'" + key + "'"), e.getMessage());
  }
}
