package org.cohortfusion.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Writes an output directory atomically: everything goes to a hidden temporary sibling, which is
 * renamed into place only when complete. A failed run leaves the previous output untouched and no
 * partial directory behind. On HDFS and local file systems the final rename is atomic; on object
 * stores (S3, GCS) rename is a copy, so point outputs at a committer-backed or HDFS location.
 *
 * <p>The temporary sibling is named {@code .<name>.tmp-<pid>@<host>-<random>} after the process
 * that writes it, so a later run can tell a killed run's leftover (a full copy of the data) from
 * a concurrent run's work in progress: {@link #removeStale} removes it only when its owner is a
 * process of this host that is no longer alive (or a newer process under the same pid), or, for an
 * owner it cannot check (another host, an older name without owner), when it is older than {@link
 * #STALE_AFTER}.
 */
public final class AtomicDirectory {
  /** Leftovers whose owner cannot be checked are removed only after this long: no run takes that long. */
  public static final Duration STALE_AFTER = Duration.ofHours(24);
  private static final Pattern OWNED = Pattern.compile("(tmp|old)-(\\d+)@(.+)-[0-9a-f]{8}");
  private static final Pattern LEGACY = Pattern.compile("(tmp|old)-[0-9a-f]{8}");
  private static final String HOST = hostName();

  /** Work that fills a temporary directory given as a Hadoop path string. */
  @FunctionalInterface
  public interface Writer<T> {
    T write(String tempDir) throws Exception;
  }

  private AtomicDirectory() {}

  public static <T> T write(Configuration hadoopConf, String target, Writer<T> writer) {
    Path targetPath = new Path(target);
    String suffix = ProcessHandle.current().pid() + "@" + HOST + "-" + UUID.randomUUID().toString().substring(0, 8);
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

  /**
   * Removes the leftovers of runs that died while writing {@code target}: temporary siblings
   * whose owner process on this host is gone, or whose owner cannot be checked and that were last
   * modified more than {@link #STALE_AFTER} before {@code runStart}. A previous output set aside
   * during the final renames ({@code .old-}) is removed by the same rule, but only while {@code
   * target} exists: otherwise it may be the only copy of the last good output. Returns how many
   * were removed.
   */
  public static int removeStale(Configuration hadoopConf, String target, Instant runStart) {
    Path targetPath = new Path(target);
    String prefix = "." + targetPath.getName() + ".";
    try {
      FileSystem fs = targetPath.getFileSystem(hadoopConf);
      if (!fs.exists(targetPath.getParent())) {
        return 0;
      }
      boolean targetExists = fs.exists(targetPath);
      int removed = 0;
      for (FileStatus sibling : fs.listStatus(targetPath.getParent())) {
        String name = sibling.getPath().getName();
        if (!name.startsWith(prefix)) {
          continue;
        }
        String rest = name.substring(prefix.length());
        Matcher owned = OWNED.matcher(rest);
        boolean legacy = LEGACY.matcher(rest).matches();
        if (!owned.matches() && !legacy) {
          continue;
        }
        boolean isOld = rest.startsWith("old-");
        if (isOld && !targetExists) {
          continue;
        }
        Instant modified = Instant.ofEpochMilli(sibling.getModificationTime());
        boolean stale;
        if (owned.matches() && owned.group(3).equals(HOST)) {
          stale = !ownerAlive(Long.parseLong(owned.group(2)), modified);
        } else {
          stale = modified.isBefore(runStart.minus(STALE_AFTER));
        }
        if (stale && fs.delete(sibling.getPath(), true)) {
          removed++;
        }
      }
      return removed;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot remove stale temporaries of " + target + ": " + e.getMessage(), e);
    }
  }

  /**
   * Whether process {@code pid} of this host is alive and could have written something last
   * modified at {@code modified}: a process started after that is another one under a reused pid
   * (a restarted container's JVM often gets the same small pid).
   */
  private static boolean ownerAlive(long pid, Instant modified) {
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
        .map(p -> p.info().startInstant().map(started -> !modified.isBefore(started)).orElse(true))
        .orElse(false);
  }

  /** The owner tag of a temporary directory written by process {@code pid} of this host. */
  public static String owner(long pid) {
    return pid + "@" + HOST;
  }

  private static String hostName() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "unknown-host";
    }
    // Only characters that are safe in a path on every file system.
    return host.replaceAll("[^A-Za-z0-9._-]", "_");
  }
}
