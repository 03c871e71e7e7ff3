package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.File;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.junit.jupiter.api.Test;

/** The driver settles relative directories before any executor sees them. */
class ConfigOptionsTest {
  private static final String CWD = new File("").getAbsolutePath();

  @Test
  void relativeDirectoriesResolveAgainstTheWorkingDirectoryOnALocalFileSystem() {
    PipelineConfig c =
        PipelineConfigLoader.parse(
            """
            cohort-dir = in
            subjects { path = s }
            modalities { labs { kind = timeseries, path = l } }
            output { dir = "out/./run", cohort-dir = "../shared/cohort" }
            train.shards-dir = scratch/shards
            registry.dir = reg
            """,
            List.of());
    PipelineConfig a = ConfigOptions.withAbsoluteDirectories(c, Configuration::new);
    assertEquals(CWD + "/in", a.cohortDir());
    assertEquals(CWD + "/out/run", a.output().dir());
    assertEquals(new File(CWD).getParent() + "/shared/cohort", a.output().cohortDir());
    assertEquals(CWD + "/scratch/shards", a.train().shardsDir());
    assertEquals(CWD + "/reg", a.registry().dir());
    // Table paths still resolve against cohort-dir; everything else is the same config.
    assertEquals(CWD + "/in/s", a.resolve(a.subjects().path()));
    assertEquals(c.modalities(), a.modalities());
    assertEquals(c.train().withShardsDir(null), a.train().withShardsDir(null));
    assertEquals(c.fusion(), a.fusion());
  }

  @Test
  void absoluteDirectoriesAndUrisAreKept() {
    PipelineConfig c =
        PipelineConfigLoader.parse(
            """
            cohort-dir = "file:/data/in"
            subjects { path = s }
            modalities { labs { kind = timeseries, path = l } }
            output { dir = /data/out, cohort-dir = "s3a://bucket/cohort" }
            train.shards-dir = /scratch/shards
            registry.dir = "hdfs://namenode:8020/registry"
            """,
            List.of());
    assertEquals(c, ConfigOptions.withAbsoluteDirectories(c, Configuration::new));
  }

  @Test
  void unsetDirectoriesStayUnset() {
    PipelineConfig c =
        PipelineConfigLoader.parse(
            "subjects { path = s }\nmodalities { labs { kind = timeseries, path = l } }\n"
                + "output { dir = o }\n",
            List.of());
    PipelineConfig a = ConfigOptions.withAbsoluteDirectories(c, Configuration::new);
    assertNull(a.train().shardsDir());
    assertNull(a.registry().dir());
    assertNull(a.output().cohortDir());
    // The derived defaults follow output.dir.
    assertEquals(CWD + "/o/_shards", a.shardsDir());
    assertEquals(CWD + "/o/registry", a.registryDir());
    // cohort-dir defaults to the working directory.
    assertEquals(CWD, a.cohortDir());
  }
}
