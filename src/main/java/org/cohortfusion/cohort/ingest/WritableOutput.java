package org.cohortfusion.cohort.ingest;

import java.io.IOException;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The check, before any table is read, that the cohort can be published: a run that cannot publish
 * should fail in seconds.
 */
final class WritableOutput {
  private WritableOutput() {}

  /**
   * Fails unless the output directory's parent can be created and written (the cohort is written
   * beside it, then renamed into place) and the output is not a file.
   */
  static void check(Configuration hadoop, String outputDir) {
    Path target = new Path(outputDir);
    try {
      FileSystem fs = target.getFileSystem(hadoop);
      if (fs.exists(target) && !fs.getFileStatus(target).isDirectory()) {
        throw new IngestException("Cannot write " + outputDir + ": it is a file, not a directory");
      }
      Path parent = target.getParent();
      if (!fs.mkdirs(parent)) {
        throw new IngestException(
            "Cannot write " + outputDir + ": cannot create its parent directory " + parent);
      }
      Path probe =
          new Path(
              parent,
              "." + target.getName() + ".probe-" + UUID.randomUUID().toString().substring(0, 8));
      fs.create(probe, false).close();
      fs.delete(probe, false);
    } catch (IOException | RuntimeException e) {
      if (e instanceof IngestException ie) {
        throw ie;
      }
      throw new IngestException("Cannot write " + outputDir + ": " + e.getMessage(), e);
    }
  }
}
