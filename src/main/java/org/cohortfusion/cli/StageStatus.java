package org.cohortfusion.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.UnsupportedFileSystemException;
import org.cohortfusion.io.Json;

/**
 * The status of one stage run, at {@code <output root>/_status/<stage>.json}: RUNNING when the
 * stage starts, SUCCEEDED or FAILED when it ends. Schedulers (and {@code jobs/submit.sh --wait})
 * read it because spark-submit's own exit code cannot be trusted in standalone cluster mode.
 *
 * @param error one line: the project's own message, or only the exception type when the message
 *     came from elsewhere (Spark, the JVM), since such messages may quote data values
 * @param inputDigest SHA-256 of what the output was made from ({@link StageInputs}); recorded by
 *     {@code run}, null when the stage ran on its own
 * @param outputRunId the run that produced the stage's output: this run, or an earlier one when
 *     {@code run} skipped the stage because its inputs were unchanged (null: this run)
 * @param skipped whether {@code run} skipped the stage (its output is an earlier run's)
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@com.fasterxml.jackson.annotation.JsonIgnoreProperties(ignoreUnknown = true)
public record StageStatus(
    String stage,
    State state,
    String runId,
    String startTime,
    String endTime,
    Integer exitCode,
    String error,
    String version,
    String inputDigest,
    String outputRunId,
    boolean skipped) {

  public enum State {
    RUNNING,
    SUCCEEDED,
    FAILED
  }

  static final String DIR = "_status";

  static StageStatus running(String stage, String runId) {
    return new StageStatus(
        stage,
        State.RUNNING,
        runId,
        Instant.now().toString(),
        null,
        null,
        null,
        org.cohortfusion.io.BuildInfo.version(),
        null,
        null,
        false);
  }

  StageStatus finished(int exitCode, String error) {
    return finished(exitCode, exitCode == 0, error);
  }

  /**
   * The end of a stage; {@code completed}: it did its work, whatever its exit code says (retrain's
   * 3: not promoted).
   */
  StageStatus finished(int exitCode, boolean completed, String error) {
    return new StageStatus(
        stage,
        completed ? State.SUCCEEDED : State.FAILED,
        runId,
        startTime,
        Instant.now().toString(),
        exitCode,
        error,
        version,
        inputDigest,
        outputRunId,
        skipped);
  }

  /** This status with the digest of the inputs its output was made from. */
  StageStatus withInputDigest(String digest) {
    return new StageStatus(
        stage,
        state,
        runId,
        startTime,
        endTime,
        exitCode,
        error,
        version,
        digest,
        outputRunId,
        skipped);
  }

  /**
   * Run {@code runId} skipped the stage: its output, made from the same inputs, is this status's.
   */
  StageStatus skippedBy(String runId) {
    String now = Instant.now().toString();
    return new StageStatus(
        stage,
        State.SUCCEEDED,
        runId,
        now,
        now,
        0,
        null,
        org.cohortfusion.io.BuildInfo.version(),
        inputDigest,
        producedBy(),
        true);
  }

  /** The run that produced the stage's output. */
  String producedBy() {
    return outputRunId != null ? outputRunId : runId;
  }

  static String path(String outputRoot, String stage) {
    return new Path(new Path(outputRoot, DIR), stage + ".json").toString();
  }

  static String newRunId() {
    return UUID.randomUUID().toString();
  }

  /**
   * Writes the status atomically: a hidden temp file in the same directory, renamed over the old
   * status, so a reader never sees a half-written file. FileContext's overwriting rename is atomic
   * on HDFS and local disks; file systems without it (object stores) get delete + rename, where a
   * reader may briefly find no file (readers treat that as "unknown" and poll again).
   */
  void write(Configuration conf, String outputRoot) {
    Path given = new Path(path(outputRoot, stage));
    try {
      FileSystem fs = given.getFileSystem(conf);
      // Qualified with the FileSystem's working directory: a FileContext would resolve a relative
      // output.dir against the home directory instead.
      Path target = fs.makeQualified(given);
      Path temp =
          new Path(
              target.getParent(),
              "." + target.getName() + ".tmp-" + UUID.randomUUID().toString().substring(0, 8));
      fs.mkdirs(target.getParent());
      try (FSDataOutputStream out = fs.create(temp, false)) {
        out.write(Json.MAPPER.writeValueAsString(this).getBytes(StandardCharsets.UTF_8));
      }
      try {
        FileContext.getFileContext(target.toUri(), conf)
            .rename(temp, target, Options.Rename.OVERWRITE);
      } catch (UnsupportedFileSystemException e) {
        fs.delete(target, false);
        if (!fs.rename(temp, target)) {
          throw new IOException("rename from " + temp + " failed");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write stage status " + given + ": " + e.getMessage(), e);
    }
  }

  /** The status at {@code <outputRoot>/_status/<stage>.json}, or empty if there is none. */
  static Optional<StageStatus> read(Configuration conf, String outputRoot, String stage) {
    Path p = new Path(path(outputRoot, stage));
    try {
      FileSystem fs = p.getFileSystem(conf);
      try (java.io.InputStream in = fs.open(p)) {
        return Optional.of(Json.MAPPER.readValue(in, StageStatus.class));
      }
    } catch (FileNotFoundException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read stage status " + p + ": " + e.getMessage(), e);
    }
  }
}
