package org.cohortfusion.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Writes an output directory atomically: everything goes to a hidden temporary sibling, which is
 * renamed into place only when complete. A failed run leaves the previous output untouched and no
 * partial directory behind. On HDFS and local file systems the final rename is atomic; on object
 * stores (S3, GCS) rename is a copy, so point outputs at a committer-backed or HDFS location.
 */
public final class AtomicDirectory {
  /** Work that fills a temporary directory given as a Hadoop path string. */
  @FunctionalInterface
  public interface Writer<T> {
    T write(String tempDir) throws Exception;
  }

  private AtomicDirectory() {}

  public static <T> T write(Configuration hadoopConf, String target, Writer<T> writer) {
    Path targetPath = new Path(target);
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    Path temp = new Path(targetPath.getParent(), "." + targetPath.getName() + ".tmp-" + suffix);
    Path old = new Path(targetPath.getParent(), "." + targetPath.getName() + ".old-" + suffix);
    try {
      FileSystem fs = targetPath.getFileSystem(hadoopConf);
      fs.mkdirs(targetPath.getParent());
      T result;
      try {
        result = writer.write(fs.makeQualified(temp).toString());
      } catch (Exception e) {
        fs.delete(temp, true);
        if (e instanceof RuntimeException re) {
          throw re;
        }
        throw new IllegalStateException("Cannot write " + target + ": " + e.getMessage(), e);
      }
      boolean hadOld = fs.exists(targetPath);
      if (hadOld && !fs.rename(targetPath, old)) {
        fs.delete(temp, true);
        throw new IOException("Cannot replace " + target + ": rename of the previous output failed");
      }
      if (!fs.rename(temp, targetPath)) {
        if (hadOld) {
          fs.rename(old, targetPath);
        }
        fs.delete(temp, true);
        throw new IOException("Cannot publish " + target + ": rename from " + temp + " failed");
      }
      if (hadOld) {
        fs.delete(old, true);
      }
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
