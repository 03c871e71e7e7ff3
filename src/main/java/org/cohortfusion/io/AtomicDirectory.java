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
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;

/**
 * Publishes an output directory so that a crash at any point leaves either the previous or the new
 * output: everything goes to a hidden temporary sibling; when it is complete a journal (a small
 * file replaced atomically) records the planned renames, the previous output is set aside, the
 * temporary renamed into place, and only then are the set-aside copy and the journal deleted. A run
 * that dies between two renames leaves its journal, and {@link #recover} (called by the next {@link
 * #write}, by {@link #removeStale} and by {@link ModelArtifact} before a load) rolls it forward or
 * back. Readers keep using {@code <target>}: the window without a target is two renames long while
 * a writer is alive, and after a crash it lasts until the next recovery.
 *
 * <p>On HDFS and local file systems the renames are atomic; on object stores (S3, GCS) rename is a
 * copy, so point outputs at a committer-backed or HDFS location.
 *
 * <p>Temporaries, set-aside copies and journals are named {@code .<name>.tmp-<pid>@<host>-<random>}
 * ({@code .old-}, {@code .publish-}) after the process that writes them, so a later run can tell a
 * killed run's leftover from a concurrent run's work in progress: only leftovers whose owner is a
 * process of this host that is no longer alive (or a newer process under the same pid), or, for an
 * owner it cannot check (another host, an older name without owner), that are older than {@link
 * #STALE_AFTER} are recovered or removed.
 */
public final class AtomicDirectory {
  /**
   * Leftovers whose owner cannot be checked are removed only after this long: no run takes that
   * long.
   */
  public static final Duration STALE_AFTER = Duration.ofHours(24);

  private static final Pattern OWNED = Pattern.compile("(tmp|old)-(\\d+)@(.+)-[0-9a-f]{8}");
  private static final Pattern LEGACY = Pattern.compile("(tmp|old)-[0-9a-f]{8}");
  private static final Pattern JOURNAL = Pattern.compile("publish-(\\d+)@(.+)-[0-9a-f]{8}");

  /** The temporary of a journal being written (replaceFile's), after "..<name>.". */
  private static final Pattern JOURNAL_TEMP =
      Pattern.compile("publish-.+\\.tmp-(\\d+)@(.+)-[0-9a-f]{8}");

  private static final String HOST = hostName();

  /** Work that fills a temporary directory given as a Hadoop path string. */
  @FunctionalInterface
  public interface Writer<T> {
    T write(String tempDir) throws Exception;
  }

  /** The steps of a publish, in order; tests stop a run after one of them to simulate a crash. */
  enum Step {
    WRITTEN,
    JOURNALED,
    SET_ASIDE,
    PUBLISHED,
    OLD_DELETED
  }

  /**
   * The journal of one publish: the sibling names it renames (names only, in the target's parent).
   */
  record Journal(String temp, String old) {}

  private AtomicDirectory() {}

  public static <T> T write(Configuration hadoopConf, String target, Writer<T> writer) {
    return write(hadoopConf, target, writer, ProcessHandle.current().pid(), step -> {});
  }

  /**
   * The publish with its owner pid and a hook run after each step: tests pass a dead pid and a hook
   * that throws, which leaves the file system exactly as a killed process would.
   */
  static <T> T write(
      Configuration hadoopConf,
      String target,
      Writer<T> writer,
      long ownerPid,
      java.util.function.Consumer<Step> afterStep) {
    Path targetPath = new Path(target);
    Path parent = targetPath.getParent();
    String suffix = ownerPid + "@" + HOST + "-" + UUID.randomUUID().toString().substring(0, 8);
    String name = targetPath.getName();
    Path temp = new Path(parent, "." + name + ".tmp-" + suffix);
    Path old = new Path(parent, "." + name + ".old-" + suffix);
    Path journal = new Path(parent, "." + name + ".publish-" + suffix);
    try {
      FileSystem fs = targetPath.getFileSystem(hadoopConf);
      fs.mkdirs(parent);
      // A killed earlier run's journal is finished (and its leftovers removed) before this run adds
      // its own.
      removeStale(hadoopConf, target, Instant.now());
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
      afterStep.accept(Step.WRITTEN);
      replaceFile(
          hadoopConf,
          journal.toString(),
          Json.MAPPER.writeValueAsBytes(new Journal(temp.getName(), old.getName())));
      afterStep.accept(Step.JOURNALED);
      boolean hadOld = fs.exists(targetPath);
      if (hadOld && !fs.rename(targetPath, old)) {
        fs.delete(temp, true);
        fs.delete(journal, false);
        throw new IOException(
            "Cannot replace " + target + ": rename of the previous output failed");
      }
      afterStep.accept(Step.SET_ASIDE);
      if (!fs.rename(temp, targetPath)) {
        if (hadOld) {
          fs.rename(old, targetPath);
        }
        fs.delete(temp, true);
        fs.delete(journal, false);
        throw new IOException("Cannot publish " + target + ": rename from " + temp + " failed");
      }
      afterStep.accept(Step.PUBLISHED);
      if (hadOld) {
        fs.delete(old, true);
      }
      afterStep.accept(Step.OLD_DELETED);
      // Last: while the journal exists, a recovery can still find the set-aside copy.
      fs.delete(journal, false);
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Publishes a copy of the directory {@code from}, whole, at {@code to} with {@link #write}
   * (replacing what was there), through the Hadoop file systems of both paths, so either may be on
   * HDFS or S3.
   */
  public static void publishCopy(Configuration hadoopConf, String from, String to) {
    Path src = new Path(from);
    try {
      FileSystem srcFs = src.getFileSystem(hadoopConf);
      if (!srcFs.exists(src)) {
        throw new IllegalStateException(
            "Cannot copy " + from + " to " + to + ": it does not exist");
      }
      write(
          hadoopConf,
          to,
          tmp -> {
            Path dst = new Path(tmp);
            if (!FileUtil.copy(srcFs, src, dst.getFileSystem(hadoopConf), dst, false, hadoopConf)) {
              throw new IOException("the copy to " + tmp + " failed");
            }
            return null;
          });
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot copy " + from + " to " + to + ": " + e.getMessage(), e);
    }
  }

  /**
   * Finishes the publishes of {@code target} whose writer died: with a journal, a target that
   * exists is kept (its temporary and set-aside siblings are deleted), a missing target is restored
   * from the complete temporary (roll forward) or else from the set-aside copy (roll back). Without
   * a journal (a crash of a version that wrote none), a missing target is restored from the newest
   * set-aside copy of a dead owner (the two-rename publish of earlier versions left only that).
   * Returns how many publishes were recovered.
   */
  public static int recover(Configuration hadoopConf, String target, Instant runStart) {
    return recover(hadoopConf, target, runStart, true);
  }

  /**
   * With {@code orphans} false only journals are followed: {@link #removeStale} keeps a
   * journal-less set-aside copy where it is, for whoever decides to restore it.
   */
  private static int recover(
      Configuration hadoopConf, String target, Instant runStart, boolean orphans) {
    Path targetPath = new Path(target);
    Path parent = targetPath.getParent();
    String prefix = "." + targetPath.getName() + ".";
    try {
      FileSystem fs = targetPath.getFileSystem(hadoopConf);
      if (parent == null || !fs.exists(parent)) {
        return 0;
      }
      int recovered = 0;
      FileStatus newestOrphan = null;
      for (FileStatus sibling : fs.listStatus(parent)) {
        String name = sibling.getPath().getName();
        if (!name.startsWith(prefix)) {
          continue;
        }
        String rest = name.substring(prefix.length());
        Matcher j = JOURNAL.matcher(rest);
        Instant modified = Instant.ofEpochMilli(sibling.getModificationTime());
        if (j.matches() && ownerGone(j.group(2), Long.parseLong(j.group(1)), modified, runStart)) {
          Journal journal =
              Json.MAPPER.readValue(
                  Json.readText(hadoopConf, sibling.getPath().toString()), Journal.class);
          Path temp = new Path(parent, journal.temp());
          Path old = new Path(parent, journal.old());
          if (!fs.exists(targetPath)) {
            Path from = fs.exists(temp) ? temp : old;
            if (fs.exists(from) && !fs.rename(from, targetPath)) {
              throw new IOException("rename from " + from + " failed");
            }
          }
          fs.delete(temp, true);
          fs.delete(old, true);
          fs.delete(sibling.getPath(), false);
          recovered++;
          continue;
        }
        Matcher owned = OWNED.matcher(rest);
        if (owned.matches()
            && owned.group(1).equals("old")
            && ownerGone(owned.group(3), Long.parseLong(owned.group(2)), modified, Instant.MAX)
            && (newestOrphan == null
                || sibling.getModificationTime() > newestOrphan.getModificationTime())) {
          newestOrphan = sibling;
        }
      }
      if (orphans && recovered == 0 && newestOrphan != null && !fs.exists(targetPath)) {
        if (!fs.rename(newestOrphan.getPath(), targetPath)) {
          throw new IOException("rename from " + newestOrphan.getPath() + " failed");
        }
        recovered++;
      }
      return recovered;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot recover " + target + " from an interrupted publish: " + e.getMessage(), e);
    }
  }

  /**
   * Replaces a small file in one atomic rename, so a reader sees the old or the new content whole.
   * Hadoop's FileSystem.rename refuses an existing destination, so the local file system uses
   * rename(2) through java.nio and the others FileContext's rename with OVERWRITE (atomic on HDFS).
   */
  public static void replaceFile(Configuration hadoopConf, String path, byte[] content) {
    Path p = new Path(path);
    Path temp =
        new Path(
            p.getParent(),
            "."
                + p.getName()
                + ".tmp-"
                + ProcessHandle.current().pid()
                + "@"
                + HOST
                + "-"
                + UUID.randomUUID().toString().substring(0, 8));
    try {
      FileSystem fs = p.getFileSystem(hadoopConf);
      java.util.Optional<java.io.File> local = localFile(fs, p);
      if (local.isPresent()) {
        java.nio.file.Path target = local.get().toPath();
        java.nio.file.Path tmp = localFile(fs, temp).orElseThrow().toPath();
        java.nio.file.Files.createDirectories(target.getParent());
        writeSynced(tmp, content);
        // A stale checksum sidecar would make Hadoop's local file system reject the new content.
        java.nio.file.Files.deleteIfExists(
            target.resolveSibling("." + target.getFileName() + ".crc"));
        java.nio.file.Files.move(
            tmp,
            target,
            java.nio.file.StandardCopyOption.ATOMIC_MOVE,
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return;
      }
      try (java.io.OutputStream out = fs.create(temp, true)) {
        out.write(content);
      }
      org.apache.hadoop.fs.FileContext.getFileContext(fs.getUri(), hadoopConf)
          .rename(temp, p, org.apache.hadoop.fs.Options.Rename.OVERWRITE);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("Cannot replace " + path + ": " + e.getMessage(), e);
    }
  }

  /** {@link #replaceFile} with a value as JSON (Json.MAPPER's format). */
  public static void replaceJson(Configuration hadoopConf, String path, Object value) {
    try {
      replaceFile(hadoopConf, path, Json.MAPPER.writeValueAsBytes(value));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("Cannot replace " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * Creates a file with this content unless it exists, in one atomic step (the content is complete
   * when the file appears); false when it existed. Local: link(2) of a complete temporary; HDFS:
   * rename of a complete temporary, which refuses an existing destination.
   */
  public static boolean createExclusive(Configuration hadoopConf, String path, byte[] content) {
    Path p = new Path(path);
    Path temp =
        new Path(
            p.getParent(),
            "."
                + p.getName()
                + ".new-"
                + ProcessHandle.current().pid()
                + "@"
                + HOST
                + "-"
                + UUID.randomUUID().toString().substring(0, 8));
    try {
      FileSystem fs = p.getFileSystem(hadoopConf);
      java.util.Optional<java.io.File> local = localFile(fs, p);
      if (local.isPresent()) {
        java.nio.file.Path target = local.get().toPath();
        java.nio.file.Path tmp = localFile(fs, temp).orElseThrow().toPath();
        java.nio.file.Files.createDirectories(target.getParent());
        writeSynced(tmp, content);
        try {
          java.nio.file.Files.createLink(target, tmp);
          return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
          return false;
        } finally {
          java.nio.file.Files.deleteIfExists(tmp);
        }
      }
      fs.mkdirs(p.getParent());
      try (java.io.OutputStream out = fs.create(temp, true)) {
        out.write(content);
      }
      boolean created = fs.rename(temp, p);
      if (!created) {
        fs.delete(temp, false);
      }
      return created;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create " + path + ": " + e.getMessage(), e);
    }
  }

  private static java.util.Optional<java.io.File> localFile(FileSystem fs, Path p) {
    if (fs instanceof org.apache.hadoop.fs.LocalFileSystem l) {
      return java.util.Optional.of(l.pathToFile(p));
    }
    if (fs instanceof org.apache.hadoop.fs.RawLocalFileSystem r) {
      return java.util.Optional.of(r.pathToFile(p));
    }
    return java.util.Optional.empty();
  }

  private static void writeSynced(java.nio.file.Path file, byte[] content) throws IOException {
    try (java.nio.channels.FileChannel ch =
        java.nio.channels.FileChannel.open(
            file,
            java.nio.file.StandardOpenOption.CREATE,
            java.nio.file.StandardOpenOption.TRUNCATE_EXISTING,
            java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(content));
      ch.force(true);
    }
  }

  private static boolean ownerGone(String host, long pid, Instant modified, Instant runStart) {
    if (host.equals(HOST)) {
      return !ownerAlive(pid, modified);
    }
    return runStart != Instant.MAX && modified.isBefore(runStart.minus(STALE_AFTER));
  }

  /**
   * Removes the leftovers of runs that died while writing {@code target}: temporary siblings whose
   * owner process on this host is gone, or whose owner cannot be checked and that were last
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
      // Journals first: a set-aside copy may be the only copy of the last good output.
      recover(hadoopConf, target, runStart, false);
      boolean targetExists = fs.exists(targetPath);
      int removed = 0;
      for (FileStatus sibling : fs.listStatus(targetPath.getParent())) {
        String name = sibling.getPath().getName();
        Matcher journalTemp =
            JOURNAL_TEMP.matcher(
                name.startsWith("." + prefix) ? name.substring(prefix.length() + 1) : "");
        if (journalTemp.matches()
            && ownerGone(
                journalTemp.group(2),
                Long.parseLong(journalTemp.group(1)),
                Instant.ofEpochMilli(sibling.getModificationTime()),
                runStart)
            && fs.delete(sibling.getPath(), false)) {
          removed++;
          continue;
        }
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
      throw new UncheckedIOException(
          "Cannot remove stale temporaries of " + target + ": " + e.getMessage(), e);
    }
  }

  /**
   * Whether process {@code pid} of this host is alive and could have written something last
   * modified at {@code modified}: a process started after that is another one under a reused pid (a
   * restarted container's JVM often gets the same small pid).
   */
  private static boolean ownerAlive(long pid, Instant modified) {
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
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
