package org.cohortfusion.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --config as a Hadoop URI or path, and URIs in cohort-dir and output.dir kept as URIs. */
class ConfigLocationTest {
  private static final Path REPO = Path.of(System.getProperty("cohortfusion.repo", "."));
  private static final String MINIMAL =
      "name = located\nsubjects { path = s }\nmodalities { labs { kind = timeseries, path = l } }\n"
          + "output { dir = o }\n";

  @TempDir Path dir;

  @Test
  void readsAConfigFromAFileUri() throws Exception {
    Path conf = Files.writeString(dir.resolve("a.conf"), MINIMAL);
    PipelineConfig c =
        PipelineConfigLoader.load(
            conf.toUri().toString(), new Configuration(), List.of("splits.seed=9"));
    assertTrue(conf.toUri().toString().startsWith("file:/"));
    assertEquals("located", c.name());
    assertEquals(9L, c.splits().seed());
  }

  @Test
  void readsAConfigFromAPathOnTheDefaultHadoopFileSystem() throws Exception {
    Path conf = Files.writeString(dir.resolve("b.conf"), MINIMAL);
    Configuration hadoop = new Configuration();
    hadoop.set("fs.defaultFS", "file:///");
    assertEquals("located", PipelineConfigLoader.load(conf.toString(), hadoop, List.of()).name());
  }

  @Test
  void aMissingUriIsAConfigErrorNamingIt() {
    String uri = dir.resolve("none.conf").toUri().toString();
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> PipelineConfigLoader.load(uri, new Configuration(), List.of()));
    assertEquals("Cannot read pipeline config: no file at " + uri, e.getMessage());
  }

  @Test
  void relativeTablePathsResolveAgainstAnHdfsCohortDirAsUris() {
    PipelineConfig c =
        PipelineConfigLoader.parse(
            MINIMAL, List.of("cohort-dir=\"hdfs://namenode:8020/cohorts/demo\""));
    assertEquals("hdfs://namenode:8020/cohorts/demo/labs", c.resolve("labs"));
    assertEquals(
        "hdfs://namenode:8020/cohorts/demo/raw/labs.parquet", c.resolve("raw/labs.parquet"));
    assertEquals("hdfs://namenode:8020/cohorts/other/labs", c.resolve("../other/labs"));
    assertEquals(
        "s3a://bucket/labs", c.resolve("s3a://bucket/labs"), "a URI table path stays as given");
    assertEquals("/abs/labs", c.resolve("/abs/labs"));
  }

  @Test
  void relativeTablePathsResolveAgainstALocalCohortDirAsBefore() {
    PipelineConfig c = PipelineConfigLoader.parse(MINIMAL, List.of("cohort-dir=work/demo/input"));
    assertEquals("work/demo/input/labs", c.resolve("labs"));
    assertEquals("work/demo/other", c.resolve("../other"));
  }

  @Test
  void anHdfsOutputDirStaysAUri() {
    PipelineConfig c =
        PipelineConfigLoader.parse(
            MINIMAL, List.of("output.dir=\"hdfs://namenode:8020/out/demo\""));
    assertEquals("hdfs://namenode:8020/out/demo/cohort", c.cohortOutputDir());
    assertEquals("hdfs://namenode:8020/out/demo/train", c.trainOutputDir());
  }

  @Test
  void theClusterExampleUsesHdfsUrisThroughout() {
    PipelineConfig c =
        PipelineConfigLoader.load(REPO.resolve("conf/cluster-example.conf").toFile(), List.of());
    assertTrue(c.cohortDir().startsWith("hdfs://"), c.cohortDir());
    assertTrue(c.output().dir().startsWith("hdfs://"), c.output().dir());
    assertTrue(
        c.resolve(c.subjects().path()).startsWith(c.cohortDir() + "/"),
        c.resolve(c.subjects().path()));
    c.modalities()
        .values()
        .forEach(m -> assertTrue(c.resolve(m.path()).startsWith("hdfs://"), m.path()));
  }
}
