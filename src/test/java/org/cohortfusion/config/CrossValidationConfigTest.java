package org.cohortfusion.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * splits.folds / splits.repeats / cv.parallelism: defaults, the shipped CV config, and bad values
 * named by key.
 */
class CrossValidationConfigTest {
  private static final Path REPO = Path.of(System.getProperty("cohortfusion.repo", "."));
  private static final String MINIMAL =
      "subjects { path = s }\nmodalities { labs { kind = timeseries, path = l } }\noutput { dir = o }\n";

  @Test
  void defaultsAndTheShippedCrossValidationConfig() {
    PipelineConfig c = PipelineConfigLoader.parse(MINIMAL, List.of());
    assertEquals(1, c.splits().repeats());
    assertEquals(0, c.cv().parallelism());
    PipelineConfig pbc =
        PipelineConfigLoader.load(REPO.resolve("conf/pbc-cv.conf").toFile(), List.of());
    assertEquals(5, pbc.splits().folds());
    assertEquals(2024L, pbc.splits().seed()); // the rest is conf/pbc.conf's
    assertEquals("work/pbc-cv/folds/3", pbc.foldOutputDir(3));
    assertEquals("work/pbc-cv/repeats/2/folds/3", pbc.foldOutputDir(2, 3));
    assertEquals("work/pbc-cv/cv", pbc.cvOutputDir());
    assertEquals("work/pbc-cv/repeats/2/cv", pbc.cvOutputDir(2));
    assertEquals(2024L + 2, pbc.splits().forRepeat(2).seed());
    PipelineConfig demo =
        PipelineConfigLoader.load(REPO.resolve("conf/demo-cv.conf").toFile(), List.of());
    assertEquals(5, demo.splits().folds());
    assertEquals("work/demo-cv/cv", demo.cvOutputDir());
    assertEquals(List.of("linear", "gbt"), demo.train().classical().models());
    // The end-to-end models of conf/demo-e2e.conf, the wide one with its own penalty.
    assertTrue(demo.fusion().models().get("e2e_wide").wide());
    assertEquals(0.3, demo.fusion().models().get("e2e_wide").wideL2(), 0.0);
    assertEquals(0.01, demo.fusion().models().get("e2e_wide").l2(), 0.0);
  }

  @Test
  void parallelismIsAutomaticUnlessSetAndNeverAboveTheFolds() {
    assertEquals(2, CvConfig.defaults().effectiveParallelism(5, 2));
    assertEquals(8, CvConfig.defaults().effectiveParallelism(10, 16));
    assertEquals(3, CvConfig.defaults().effectiveParallelism(3, 64));
    assertEquals(1, new CvConfig(1).effectiveParallelism(5, 64));
    assertEquals(5, new CvConfig(9).effectiveParallelism(5, 2));
  }

  @Test
  void badValuesAreErrorsNamingTheKey() {
    ConfigException repeats =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.parse(MINIMAL, List.of("splits.repeats=3")));
    assertTrue(
        repeats.getMessage().contains("splits.repeats")
            && repeats.getMessage().contains("splits.folds"),
        repeats.getMessage());
    ConfigException zero =
        assertThrows(
            ConfigException.class,
            () ->
                PipelineConfigLoader.parse(MINIMAL, List.of("splits.folds=5", "splits.repeats=0")));
    assertTrue(zero.getMessage().contains("splits.repeats"), zero.getMessage());
    ConfigException parallel =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.parse(MINIMAL, List.of("cv.parallelism=-1")));
    assertTrue(parallel.getMessage().contains("cv.parallelism"), parallel.getMessage());
  }
}
