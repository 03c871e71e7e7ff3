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
  private static final String MINIMAL =
      "subjects { path = s }\nmodalities { labs { kind = timeseries, path = l } }\noutput { dir = o }\n";

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
    PipelineConfig c =
        PipelineConfigLoader.parse(
            MINIMAL, List.of("splits.seed=7", "modalities.labs.steps=12", "output.dir=/tmp/x:y"));
    assertEquals(7L, c.splits().seed());
    assertEquals(12, c.modalities().get("labs").steps());
    assertEquals("/tmp/x:y", c.output().dir());
  }

  @Test
  void classicalBaselinesAreOffByDefaultAndBindTheirGrids() {
    assertEquals(
        List.of(), PipelineConfigLoader.parse(MINIMAL, List.of()).train().classical().models());
    PipelineConfig c =
        PipelineConfigLoader.parse(
            MINIMAL,
            List.of(
                "train.classical.models=[linear, gbt]",
                "train.classical.linear.reg-param=[0.5]",
                "train.classical.gbt.max-depth=[3]",
                "train.classical.image-components=4"));
    assertEquals(List.of("linear", "gbt"), c.train().classical().models());
    assertEquals(List.of(0.5), c.train().classical().linear().regParam());
    assertEquals(List.of(3), c.train().classical().gbt().maxDepth());
    assertEquals(4, c.train().classical().imageComponents());
    ConfigException bad =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.parse(MINIMAL, List.of("train.classical.models=[svm]")));
    assertTrue(bad.getMessage().contains("train.classical.models"), bad.getMessage());
  }

  @Test
  void unknownKeyIsAnErrorNamingTheKeyAndTheKnownOnes() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.parse(MINIMAL, List.of("modalities.labs.stepz=3")));
    assertTrue(e.getMessage().contains("'modalities.labs.stepz'"), e.getMessage());
    assertTrue(e.getMessage().contains("steps"), e.getMessage());
  }

  @Test
  void badValuesAreErrorsNamingTheKeyAndWhatWasExpected() {
    ConfigException kind =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.parse(MINIMAL, List.of("modalities.labs.kind=movie")));
    assertTrue(
        kind.getMessage().contains("'modalities.labs.kind'")
            && kind.getMessage().contains("timeseries"),
        kind.getMessage());

    ConfigException fractions =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.parse(MINIMAL, List.of("splits.train=0.9")));
    assertTrue(
        fractions.getMessage().contains("'splits'") && fractions.getMessage().contains("= 1"),
        fractions.getMessage());

    ConfigException number =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.parse(MINIMAL, List.of("modalities.labs.steps=many")));
    assertTrue(number.getMessage().contains("'modalities.labs.steps'"), number.getMessage());

    ConfigException dup =
        assertThrows(
            ConfigException.class,
            () ->
                PipelineConfigLoader.parse(MINIMAL, List.of("modalities.labs.duplicates=newest")));
    assertTrue(dup.getMessage().contains("latest:<column>"), dup.getMessage());

    ConfigException shardBy =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.parse(MINIMAL, List.of("train.shard-by=site")));
    assertTrue(
        shardBy.getMessage().contains("'train.shard-by'")
            && shardBy.getMessage().contains("expected subject or group"),
        shardBy.getMessage());
  }

  /**
   * Every copy method changes its own field only: with every train key off its default, a copy
   * given the value it already has must equal the original (a dropped field would fall back to its
   * default), and a copy given another value must differ.
   */
  @Test
  void trainConfigCopiesKeepEveryOtherField() {
    TrainConfig t =
        PipelineConfigLoader.parse(
                MINIMAL,
                List.of(
                    "train.mode=local",
                    "train.epochs=7",
                    "train.batch-size=16",
                    "train.workers=3",
                    "train.averaging-frequency=4",
                    "train.updater=sgd",
                    "train.learning-rate=0.1",
                    "train.schedule=step",
                    "train.schedule-decay=0.3",
                    "train.schedule-step=2",
                    "train.patience=9",
                    "train.seed=5",
                    "train.shards-dir=/tmp/s",
                    "train.shard-format=dl4j",
                    "train.early-stopping=auroc",
                    "train.validation=executors",
                    "train.averaging=presence-weighted",
                    "train.shard-by=group"))
            .train();
    List<TrainConfig> same =
        List.of(
            t.withMode(t.mode()),
            t.withEpochs(t.epochs()),
            t.withWorkers(t.workers()),
            t.withSeed(t.seed()),
            t.withPatience(t.patience()),
            t.withShardFormat(t.shardFormat()),
            t.withValidation(t.validation()),
            t.withAveragingFrequency(t.averagingFrequency()),
            t.withAveraging(t.averaging()),
            t.withShardBy(t.shardBy()),
            t.withShardsDir(t.shardsDir()));
    for (TrainConfig c : same) {
      assertEquals(t, c);
    }
    assertEquals(TrainConfig.ShardBy.SUBJECT, t.withShardBy(TrainConfig.ShardBy.SUBJECT).shardBy());
    assertEquals(TrainConfig.Mode.SPARK, t.withMode(TrainConfig.Mode.SPARK).mode());
    assertEquals(6L, t.withSeed(6).seed());
    assertTrue(!t.withSeed(6).equals(t));
  }

  @Test
  void shardByDefaultsToSubjectAndTakesGroup() {
    assertEquals(
        TrainConfig.ShardBy.SUBJECT,
        PipelineConfigLoader.parse(MINIMAL, List.of()).train().shardBy());
    assertEquals(
        TrainConfig.ShardBy.GROUP,
        PipelineConfigLoader.parse(MINIMAL, List.of("train.shard-by=group")).train().shardBy());
  }

  @Test
  void anOptionOfAnotherKindIsAnError() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.parse(MINIMAL, List.of("modalities.labs.shape=[1,2,2]")));
    assertTrue(
        e.getMessage().contains("'modalities.labs.shape'") && e.getMessage().contains("image"),
        e.getMessage());
  }

  @Test
  void idWhitespaceTakesRejectOrTrim() {
    assertEquals(
        IdWhitespace.REJECT,
        PipelineConfigLoader.parse(MINIMAL, List.of()).modalities().get("labs").idWhitespace());
    assertEquals(
        IdWhitespace.TRIM,
        PipelineConfigLoader.parse(MINIMAL, List.of("modalities.labs.id-whitespace=trim"))
            .modalities()
            .get("labs")
            .idWhitespace());
    assertEquals(
        IdWhitespace.TRIM,
        PipelineConfigLoader.parse(MINIMAL, List.of("subjects.id-whitespace=trim"))
            .subjects()
            .idWhitespace());
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                PipelineConfigLoader.parse(
                    MINIMAL, List.of("modalities.labs.id-whitespace=strip")));
    assertTrue(
        e.getMessage().contains("'modalities.labs.id-whitespace'")
            && e.getMessage().contains("reject or trim"),
        e.getMessage());
  }

  /**
   * A key given with --set is blamed on --set, not on the config file; a key of the file still
   * names the file.
   */
  @Test
  void aBadOverrideIsBlamedOnSetNotOnTheFile(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    File file = dir.resolve("cohort.conf").toFile();
    java.nio.file.Files.writeString(file.toPath(), MINIMAL);
    ConfigException unknown =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.load(file, List.of("modalities.labs.stepz=3")));
    assertEquals(
        "Unknown config key 'modalities.labs.stepz' given with --set 'modalities.labs.stepz=3': expected one of",
        unknown.getMessage().substring(0, unknown.getMessage().indexOf(" [")));
    assertTrue(!unknown.getMessage().contains(file.toString()), unknown.getMessage());

    ConfigException badType =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.load(file, List.of("splits.seed=abc")));
    assertTrue(
        badType
            .getMessage()
            .startsWith(
                "Bad value for config key 'splits.seed' given with --set 'splits.seed=abc': "),
        badType.getMessage());

    ConfigException invalid =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.load(file, List.of("modalities.labs.steps=0")));
    assertTrue(
        invalid
            .getMessage()
            .startsWith(
                "Bad value for config key 'modalities.labs.steps' given with --set 'modalities.labs.steps=0': "),
        invalid.getMessage());

    ConfigException otherKind =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.load(file, List.of("modalities.labs.shape=[1,2,2]")));
    assertTrue(
        otherKind.getMessage().contains("given with --set 'modalities.labs.shape=[1,2,2]'"),
        otherKind.getMessage());

    // An unknown section is reported by its name: the override under it is still what gave it.
    ConfigException section =
        assertThrows(
            ConfigException.class, () -> PipelineConfigLoader.load(file, List.of("splitz.seed=1")));
    assertTrue(
        section
            .getMessage()
            .startsWith("Unknown config key 'splitz' given with --set 'splitz.seed=1': "),
        section.getMessage());

    // A section-level rule an override broke: the override alone when the file lacks the section,
    // both when the file has it.
    ConfigException sum =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.load(file, List.of("splits.train=0.9")));
    assertTrue(
        sum.getMessage()
            .startsWith("Bad value for config key 'splits' given with --set 'splits.train=0.9': "),
        sum.getMessage());
    java.nio.file.Files.writeString(
        file.toPath(), MINIMAL + "splits { train = 0.6, validation = 0.2, test = 0.2 }\n");
    ConfigException both =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.load(file, List.of("splits.train=0.9")));
    assertTrue(
        both.getMessage()
            .startsWith(
                "Bad value for config key 'splits' in "
                    + file
                    + " with --set 'splits.train=0.9': "),
        both.getMessage());

    // The same bad key in the file is blamed on the file, even with an unrelated --set.
    java.nio.file.Files.writeString(file.toPath(), MINIMAL + "\nmodalities.labs.stepz = 3\n");
    ConfigException inFile =
        assertThrows(
            ConfigException.class, () -> PipelineConfigLoader.load(file, List.of("splits.seed=7")));
    assertTrue(
        inFile
            .getMessage()
            .startsWith("Unknown config key 'modalities.labs.stepz' in " + file + ":"),
        inFile.getMessage());
  }
}
