package org.cohortfusion.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.cohortfusion.config.ConfigException;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.evaluate.ClassificationMetrics;
import org.junit.jupiter.api.Test;

/**
 * The study block: parsing, the grid it declares, the shipped demo study, bad grids named by key;
 * the robustness area.
 */
class StudyConfigTest {
  private static final Path REPO = Path.of(System.getProperty("cohortfusion.repo", "."));
  private static final String MINIMAL =
      """
      subjects { path = s }
      modalities { labs { kind = timeseries, path = l }, clinical { kind = tabular, path = c } }
      output { dir = o }
      pretrain.encoders { labs.embedding-size = 16 }
      fusion.models {
        concat { what = [clinical, labs], how = concat }
        gmu { what = [clinical, labs], how = gmu }
      }
      """;

  @Test
  void theGridVariesOneModalityAtATimeAroundTheConfiguredSizes() {
    PipelineConfig c =
        PipelineConfigLoader.parse(
            MINIMAL
                + "study { embedding-sizes { labs = [4, 16, 64], clinical = [8] }, models = [gmu] }",
            List.of());
    assertEquals(List.of("gmu"), c.study().modelsOr(c.fusion()));
    List<StudyGrid.Cell> cells = StudyGrid.cells(c);
    // clinical keeps the default 32; labs' 16 is the configured size, so it is the base cell, not a
    // cell of its own.
    assertEquals(
        List.of("base", "clinical-8", "labs-4", "labs-64"),
        cells.stream().map(StudyGrid.Cell::name).toList());
    assertEquals(Map.of("clinical", 32, "labs", 16), cells.get(0).sizes());
    assertNull(cells.get(0).varied());
    assertEquals(Map.of("clinical", 32, "labs", 64), cells.get(3).sizes());
    assertEquals("o/study/labs-64", StudyGrid.cellDir(c, cells.get(3)));
    // Without models: every fusion model.
    PipelineConfig all =
        PipelineConfigLoader.parse(MINIMAL + "study.embedding-sizes.labs = [4]", List.of());
    assertEquals(List.of("concat", "gmu"), all.study().modelsOr(all.fusion()));
    assertTrue(!PipelineConfigLoader.parse(MINIMAL, List.of()).study().declared());
  }

  @Test
  void theShippedDemoStudyParses() {
    PipelineConfig demo =
        PipelineConfigLoader.load(REPO.resolve("conf/study-demo.conf").toFile(), List.of());
    assertEquals(List.of("concat", "attention", "gmu"), demo.study().models());
    assertEquals(5, StudyGrid.cells(demo).size());
    assertEquals("work/study-demo/cohort", demo.cohortOutputDir());
    assertEquals(
        "elsewhere",
        PipelineConfigLoader.load(
                REPO.resolve("conf/study-demo.conf").toFile(),
                List.of("output.cohort-dir=elsewhere"))
            .cohortOutputDir());
  }

  @Test
  void theShippedPbcStudyIsCrossValidated() {
    PipelineConfig pbc =
        PipelineConfigLoader.load(REPO.resolve("conf/pbc-study.conf").toFile(), List.of());
    assertEquals(5, pbc.splits().folds());
    assertEquals(List.of("concat", "attention"), pbc.study().models());
    assertEquals(
        List.of("base", "clinical-4", "labs-4", "labs-64"),
        StudyGrid.cells(pbc).stream().map(StudyGrid.Cell::name).toList());
  }

  @Test
  void badGridsAreErrorsNamingTheKey() {
    assertError(
        "study.embedding-sizes.omics", "configured modality", "study.embedding-sizes.omics = [4]");
    assertError(
        "study.embedding-sizes.labs",
        "positive embedding sizes",
        "study.embedding-sizes.labs = [4, 0]");
    assertError(
        "study.embedding-sizes.labs",
        "distinct embedding sizes",
        "study.embedding-sizes.labs = [4, 4]");
    assertError("study.embedding-sizes.labs", "non-empty list", "study.embedding-sizes.labs = []");
    assertError(
        "study.models[1]",
        "a key of fusion.models [concat, gmu], got 'tensor'",
        "study.models = [gmu, tensor]");
    assertError("study.models[1]", "twice", "study.models = [gmu, gmu]");
    assertError("study.sizes", "Unknown config key", "study.sizes = [4]");
  }

  @Test
  void cellsAtOnceAreBoundedByTheCellsAndDefaultToHalfTheCores() {
    PipelineConfig auto =
        PipelineConfigLoader.parse(MINIMAL + "study.embedding-sizes.labs = [4]", List.of());
    assertEquals(2, auto.study().effectiveParallelism(5, 2));
    assertEquals(4, auto.study().effectiveParallelism(5, 8));
    assertEquals(3, auto.study().effectiveParallelism(3, 16));
    PipelineConfig serial =
        PipelineConfigLoader.parse(
            MINIMAL + "study { embedding-sizes.labs = [4], parallelism = 1 }", List.of());
    assertEquals(1, serial.study().effectiveParallelism(5, 16));
    assertError("study.parallelism", "expected 0 (automatic)", "study.parallelism = -1");
  }

  private static void assertError(String key, String expected, String hocon) {
    ConfigException e =
        assertThrows(
            ConfigException.class, () -> PipelineConfigLoader.parse(MINIMAL + hocon, List.of()));
    assertTrue(e.getMessage().contains(key) && e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void robustnessAreaIsTheMeanAurocOverTheRates() {
    List<Double> rates = List.of(0.0, 0.3, 0.9);
    List<ClassificationMetrics> curve = List.of(metrics(0.9), metrics(0.8), metrics(0.5));
    // (0.3 * (0.9 + 0.8) / 2 + 0.6 * (0.8 + 0.5) / 2) / 0.9
    assertEquals((0.255 + 0.39) / 0.9, StudyTable.robustnessArea(rates, curve), 1e-12);
    assertTrue(Double.isNaN(StudyTable.robustnessArea(List.of(0.0), List.of(metrics(0.9)))));
  }

  private static ClassificationMetrics metrics(double auroc) {
    return new ClassificationMetrics(auroc, 0.5, 0.5, 0.5, 0.25, 0.1, 100);
  }
}
