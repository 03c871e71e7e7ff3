package org.cohortfusion.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class PipelineConfigLoaderTest {
  private static final Path REPO = Path.of(System.getProperty("cohortfusion.repo", "."));
  private static final String MINIMAL = "subjects { path = s }\nmodalities { labs { kind = timeseries, path = l } }\noutput { dir = o }\n";

  @Test
  void shippedConfigsLoad() {
    for (String name : new String[] {"demo.conf", "pbc.conf"}) {
      File f = REPO.resolve("conf").resolve(name).toFile();
      PipelineConfig c = PipelineConfigLoader.load(f, List.of());
      assertTrue(!c.modalities().isEmpty(), name);
    }
  }

  @Test
  void overridesReplaceAnyKey() {
    PipelineConfig c = PipelineConfigLoader.parse(MINIMAL, List.of("splits.seed=7", "modalities.labs.steps=12", "output.dir=/tmp/x:y"));
    assertEquals(7L, c.splits().seed());
    assertEquals(12, c.modalities().get("labs").steps());
    assertEquals("/tmp/x:y", c.output().dir());
  }

  @Test
  void classicalBaselinesAreOffByDefaultAndBindTheirGrids() {
    assertEquals(List.of(), PipelineConfigLoader.parse(MINIMAL, List.of()).train().classical().models());
    PipelineConfig c = PipelineConfigLoader.parse(MINIMAL, List.of("train.classical.models=[linear, gbt]",
        "train.classical.linear.reg-param=[0.5]", "train.classical.gbt.max-depth=[3]", "train.classical.image-components=4"));
    assertEquals(List.of("linear", "gbt"), c.train().classical().models());
    assertEquals(List.of(0.5), c.train().classical().linear().regParam());
    assertEquals(List.of(3), c.train().classical().gbt().maxDepth());
    assertEquals(4, c.train().classical().imageComponents());
    ConfigException bad = assertThrows(ConfigException.class,
        () -> PipelineConfigLoader.parse(MINIMAL, List.of("train.classical.models=[svm]")));
    assertTrue(bad.getMessage().contains("train.classical.models"), bad.getMessage());
  }

  @Test
  void unknownKeyIsAnErrorNamingTheKeyAndTheKnownOnes() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> PipelineConfigLoader.parse(MINIMAL, List.of("modalities.labs.stepz=3")));
    assertTrue(e.getMessage().contains("'modalities.labs.stepz'"), e.getMessage());
    assertTrue(e.getMessage().contains("steps"), e.getMessage());
  }

  @Test
  void badValuesAreErrorsNamingTheKeyAndWhatWasExpected() {
    ConfigException kind = assertThrows(ConfigException.class,
        () -> PipelineConfigLoader.parse(MINIMAL, List.of("modalities.labs.kind=movie")));
    assertTrue(kind.getMessage().contains("'modalities.labs.kind'") && kind.getMessage().contains("timeseries"), kind.getMessage());

    ConfigException fractions = assertThrows(ConfigException.class,
        () -> PipelineConfigLoader.parse(MINIMAL, List.of("splits.train=0.9")));
    assertTrue(fractions.getMessage().contains("'splits'") && fractions.getMessage().contains("= 1"), fractions.getMessage());

    ConfigException number = assertThrows(ConfigException.class,
        () -> PipelineConfigLoader.parse(MINIMAL, List.of("modalities.labs.steps=many")));
    assertTrue(number.getMessage().contains("'modalities.labs.steps'"), number.getMessage());

    ConfigException dup = assertThrows(ConfigException.class,
        () -> PipelineConfigLoader.parse(MINIMAL, List.of("modalities.labs.duplicates=newest")));
    assertTrue(dup.getMessage().contains("latest:<column>"), dup.getMessage());
  }

  @Test
  void anOptionOfAnotherKindIsAnError() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> PipelineConfigLoader.parse(MINIMAL, List.of("modalities.labs.shape=[1,2,2]")));
    assertTrue(e.getMessage().contains("'modalities.labs.shape'") && e.getMessage().contains("image"), e.getMessage());
  }
}
