package org.cohortfusion.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.io.BuildInfo;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.io.Json;
import org.cohortfusion.stage.EvaluateOutputs;
import org.cohortfusion.stage.TrainOutputs;

/**
 * What a stage's output depends on, as one SHA-256, so {@code run} can skip a stage whose output
 * was made from the same inputs: the code (version and build), the config sections the stage reads,
 * and what it reads from upstream — for ingest the source tables' files (name, length, modification
 * time: a new snapshot at the same path changes them), for every later stage the identity of the
 * upstream output (the run that produced it and that run's digest). A stage that runs again
 * therefore makes every later stage run again, even if its new output happens to be equal.
 */
final class StageInputs {
  /**
   * Map entries sorted, so a config map's iteration order (random for Map.copyOf) cannot change the
   * digest.
   */
  private static final ObjectMapper CANONICAL =
      Json.MAPPER
          .copy()
          .disable(SerializationFeature.INDENT_OUTPUT)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private StageInputs() {}

  /** The stage whose output {@code stage} reads, or null for ingest. */
  static String upstream(String stage) {
    int i = RunCommand.STAGES.indexOf(stage);
    return i <= 0 ? null : RunCommand.STAGES.get(i - 1);
  }

  /** The digest of {@code stage}'s inputs now (upstream identity read from its status file). */
  static String digest(String stage, PipelineConfig config, Configuration conf) {
    Map<String, Object> inputs = new LinkedHashMap<>();
    inputs.put("stage", stage);
    inputs.put("code", code());
    inputs.put("config", sections(stage, config));
    String up = upstream(stage);
    if (up == null) {
      inputs.put("sources", sources(config, conf));
    } else {
      Optional<StageStatus> s = StageStatus.read(conf, config.output().dir(), up);
      inputs.put(
          "upstream",
          s.filter(x -> x.state() == StageStatus.State.SUCCEEDED)
              .map(x -> up + " produced by " + x.producedBy() + " from " + x.inputDigest())
              .orElse(up + " unknown"));
    }
    try {
      return Hashing.sha256(CANONICAL.writeValueAsString(inputs));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(
          "Cannot compute the inputs of stage " + stage + ": " + e.getMessage(), e);
    }
  }

  /**
   * The config sections {@code stage} reads (the ones before it are covered through the upstream
   * identity).
   */
  private static Map<String, Object> sections(String stage, PipelineConfig c) {
    Map<String, Object> m = new LinkedHashMap<>();
    switch (stage) {
      case "ingest" -> {
        m.put("name", c.name());
        m.put("cohort-dir", c.cohortDir());
        m.put("subjects", c.subjects());
        m.put("modalities", c.modalities());
        m.put("splits", c.splits());
      }
      case "pretrain" -> m.put("pretrain", c.pretrain());
      case "extract" -> m.put("extract", c.extract());
      case "train" -> {
        m.put("fusion", c.fusion());
        m.put("train", c.train());
      }
      case "evaluate", "report" -> m.put("evaluate", c.evaluate());
      default ->
          throw new IllegalArgumentException(
              "Cannot compute the inputs of stage " + stage + ": not a run stage");
    }
    return m;
  }

  /** Every file of every source table: path, length, modification time. */
  private static List<String> sources(PipelineConfig config, Configuration conf) {
    List<String> tables = new ArrayList<>();
    tables.add(config.resolve(config.subjects().path()));
    config.modalities().values().forEach(m -> tables.add(config.resolve(m.path())));
    List<String> files = new ArrayList<>();
    for (String table : tables) {
      Path p = new Path(table);
      try {
        FileSystem fs = p.getFileSystem(conf);
        FileStatus[] matched = fs.globStatus(p);
        if (matched == null || matched.length == 0) {
          files.add(table + " missing");
          continue;
        }
        for (FileStatus st : matched) {
          if (!st.isDirectory()) {
            files.add(st.getPath() + " " + st.getLen() + " " + st.getModificationTime());
            continue;
          }
          RemoteIterator<LocatedFileStatus> it = fs.listFiles(st.getPath(), true);
          while (it.hasNext()) {
            LocatedFileStatus f = it.next();
            files.add(f.getPath() + " " + f.getLen() + " " + f.getModificationTime());
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot list source table " + table + ": " + e.getMessage(), e);
      }
    }
    files.sort(null);
    return files;
  }

  private static String code;

  /**
   * The code version and its build: the jar's SHA-256 (its time would change with every copy a
   * cluster-mode driver fetches), or the newest class file of a classes directory. Computed once
   * per JVM.
   */
  static synchronized String code() {
    if (code == null) {
      code = computeCode();
    }
    return code;
  }

  private static String computeCode() {
    String version = BuildInfo.version();
    try {
      File where =
          new File(StageInputs.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (where.isFile()) {
        return version + " " + Hashing.sha256(where.toPath());
      }
      try (Stream<java.nio.file.Path> walk = Files.walk(where.toPath())) {
        long newest =
            walk.filter(Files::isRegularFile)
                .map(
                    f -> {
                      try {
                        return Files.getLastModifiedTime(f);
                      } catch (IOException e) {
                        return FileTime.fromMillis(0);
                      }
                    })
                .mapToLong(FileTime::toMillis)
                .max()
                .orElse(0);
        return version + " classes " + newest;
      }
    } catch (Exception e) {
      // No code source (an unusual class loader): the version alone, so a rebuild of the same
      // version is not seen.
      return version;
    }
  }

  /**
   * The output a stage leaves when it succeeded: if it is gone, the stage runs again whatever its
   * status says.
   */
  static boolean outputPresent(String stage, PipelineConfig c, Configuration conf) {
    String path =
        switch (stage) {
          case "ingest" -> c.cohortOutputDir();
          case "pretrain" -> c.pretrainOutputDir();
          case "extract" -> c.embeddingsDir();
          case "train" -> TrainOutputs.summary(c.trainOutputDir());
          case "evaluate" -> c.evaluateOutputDir() + "/" + EvaluateOutputs.METRICS;
          case "report" -> c.reportOutputDir();
          default ->
              throw new IllegalArgumentException(
                  "Cannot check the output of stage " + stage + ": not a run stage");
        };
    Path p = new Path(path);
    try {
      return p.getFileSystem(conf).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot check the output of stage " + stage + " at " + path + ": " + e.getMessage(), e);
    }
  }
}
