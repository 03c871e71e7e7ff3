package org.cohortfusion.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Paths as users write them in configs and on the command line: local paths and Hadoop URIs. */
public final class Locations {
  private Locations() {}

  /**
   * True for "hdfs://...", "s3a://...", "file:/..." (a URI scheme of two or more characters, so not
   * "C:").
   */
  public static boolean hasScheme(String path) {
    return path.matches("^[A-Za-z][A-Za-z0-9+.-]+:.*");
  }

  /**
   * {@code dir} made absolute the way Hadoop resolves it here, on the driver: against the working
   * directory on a local default file system, against the user's home on HDFS. Absolute paths, URIs
   * and blanks are returned unchanged, and only then is {@code hadoop} not asked for. Executors
   * resolve a relative path against their own working directory (on a standalone worker,
   * work/app-.../N), so what they wrote there would be invisible to the driver and to the other
   * executors.
   *
   * @throws UncheckedIOException when the default file system cannot be reached
   */
  public static String absolute(String dir, Supplier<Configuration> hadoop) {
    if (hasScheme(dir) || dir.startsWith("/") || dir.isBlank()) {
      return dir;
    }
    FileSystem fs;
    try {
      fs = FileSystem.get(hadoop.get());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot resolve the relative directory " + dir, e);
    }
    if ("file".equals(fs.getUri().getScheme())) {
      return java.nio.file.Path.of(dir).toAbsolutePath().normalize().toString();
    }
    return fs.makeQualified(new Path(dir)).toString();
  }
}
