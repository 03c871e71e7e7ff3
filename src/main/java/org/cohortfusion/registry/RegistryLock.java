package org.cohortfusion.registry;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.Json;

/**
 * One retrain at a time: {@code <registry>/_lock.json}, created atomically with its owner, run id
 * and expiry. A second run is refused with the holder's name; a lock past its expiry (its run
 * died), or held by an earlier attempt of the same run id, is taken over. Close releases it, if it
 * is still this run's.
 */
public final class RegistryLock implements AutoCloseable {
  public static final String FILE = "_lock.json";
  private static final int ATTEMPTS = 5;

  /** The content of the lock file. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Holder(String owner, String runId, String acquiredAt, String expiresAt) {
    boolean expired(Instant now) {
      return Instant.parse(expiresAt).isBefore(now);
    }
  }

  private final Configuration conf;
  private final String path;
  private final Holder holder;

  private RegistryLock(Configuration conf, String path, Holder holder) {
    this.conf = conf;
    this.path = path;
    this.holder = holder;
  }

  public Holder holder() {
    return holder;
  }

  /** The owner name of a lock taken by this process: user@pid@host. */
  public static String thisProcess() {
    return System.getProperty("user.name", "unknown")
        + "@"
        + AtomicDirectory.owner(ProcessHandle.current().pid());
  }

  /**
   * Takes the lock of the registry at {@code root} for {@code ttl}, or throws naming its holder.
   */
  public static RegistryLock acquire(
      Configuration conf, String root, String owner, String runId, Duration ttl) {
    String path = root + "/" + FILE;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Instant now = Instant.now();
      Holder mine = new Holder(owner, runId, now.toString(), now.plus(ttl).toString());
      if (AtomicDirectory.createExclusive(conf, path, bytes(mine))) {
        return new RegistryLock(conf, path, mine);
      }
      Holder current = read(conf, path);
      if (current == null) {
        continue; // released meanwhile
      }
      // A rerun of the same run id (its first attempt was killed) resumes under that run's lock.
      if (!current.expired(Instant.now()) && !runId.equals(current.runId())) {
        throw new RegistryException(
            "Cannot lock registry "
                + root
                + ": held by "
                + current.owner()
                + " (run "
                + current.runId()
                + ") since "
                + current.acquiredAt()
                + ", until "
                + current.expiresAt());
      }
      takeOver(conf, path, current);
    }
    throw new RegistryException("Cannot lock registry " + root + ": other runs keep taking it");
  }

  /**
   * Moves a stale lock aside under a unique name (one rename: of two runs taking over, one wins)
   * and deletes it, unless what was moved is a newer holder's fresh lock: that one is put back.
   */
  private static void takeOver(Configuration conf, String path, Holder stale) {
    Path p = new Path(path);
    Path aside = new Path(p.getParent(), "." + p.getName() + ".stale-" + UUID.randomUUID());
    try {
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.rename(p, aside)) {
        return;
      }
      Holder moved = read(conf, aside.toString());
      if (moved != null && !moved.equals(stale)) {
        AtomicDirectory.createExclusive(conf, path, bytes(moved));
      }
      fs.delete(aside, false);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot take over the stale lock " + path + ": " + e.getMessage(), e);
    }
  }

  /** The holder of the lock at {@code root}, if any. */
  public static Holder holder(Configuration conf, String root) {
    return read(conf, root + "/" + FILE);
  }

  @Override
  public void close() {
    if (!holder.equals(read(conf, path))) {
      return; // expired and taken over: not ours to delete
    }
    try {
      Path p = new Path(path);
      p.getFileSystem(conf).delete(p, false);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot release lock " + path + ": " + e.getMessage(), e);
    }
  }

  private static Holder read(Configuration conf, String path) {
    try {
      Path p = new Path(path);
      if (!p.getFileSystem(conf).exists(p)) {
        return null;
      }
      return Json.MAPPER.readValue(Json.readText(conf, path), Holder.class);
    } catch (IOException | UncheckedIOException e) {
      return null; // deleted between the check and the read
    }
  }

  private static byte[] bytes(Holder h) {
    try {
      return Json.MAPPER.writeValueAsBytes(h);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
