package org.cohortfusion.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A publish killed after each of its steps leaves the old or the new output, and the next run
 * cleans up.
 */
class AtomicDirectoryCrashTest {
  @TempDir Path dir;

  private final Configuration conf = new Configuration();

  /** Thrown by the hook: nothing in AtomicDirectory catches it, as nothing runs after a kill. */
  private static final class Killed extends RuntimeException {
    Killed() {
      super("killed");
    }
  }

  private static AtomicDirectory.Writer<Void> content(String v) {
    return tmp -> {
      Path t = Path.of(java.net.URI.create(tmp));
      Files.createDirectories(t);
      Files.writeString(t.resolve("data.txt"), v);
      return null;
    };
  }

  /** A pid no process has: the owner of the killed run's leftovers. */
  private static long deadPid() {
    long pid = 999_999;
    while (ProcessHandle.of(pid).isPresent()) {
      pid++;
    }
    return pid;
  }

  @ParameterizedTest
  @EnumSource(AtomicDirectory.Step.class)
  void aCrashAfterAnyStepLeavesOldOrNewAndTheNextRunRecovers(AtomicDirectory.Step crashAfter)
      throws Exception {
    Path target = dir.resolve("model");
    AtomicDirectory.write(conf, target.toString(), content("v1"));
    assertThrows(
        Killed.class,
        () ->
            AtomicDirectory.write(
                conf,
                target.toString(),
                content("v2"),
                deadPid(),
                step -> {
                  if (step == crashAfter) {
                    throw new Killed();
                  }
                }));

    // Before any recovery: the target holds v1 or v2 whole, or (between the two renames only) is
    // missing
    // and a recovery brings one back.
    boolean between = crashAfter == AtomicDirectory.Step.SET_ASIDE;
    assertEquals(!between, Files.exists(target), "target present after " + crashAfter);
    AtomicDirectory.recover(conf, target.toString(), Instant.now());
    String seen = Files.readString(target.resolve("data.txt"));
    List<String> allowed =
        crashAfter.ordinal() < AtomicDirectory.Step.SET_ASIDE.ordinal()
            ? List.of("v1")
            : List.of("v2");
    assertTrue(allowed.contains(seen), crashAfter + ": " + seen);

    // The next run publishes and leaves nothing else behind.
    AtomicDirectory.write(conf, target.toString(), content("v3"));
    assertEquals("v3", Files.readString(target.resolve("data.txt")));
    try (Stream<Path> s = Files.list(dir)) {
      List<String> names =
          s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).toList();
      assertEquals(List.of("model"), names, "leftovers after " + crashAfter);
    }
  }

  @Test
  void aModelKilledBetweenTheRenamesIsLoadableAgain() throws Exception {
    Path target = dir.resolve("published");
    AtomicDirectory.write(conf, target.toString(), content("v1"));
    assertThrows(
        Killed.class,
        () ->
            AtomicDirectory.write(
                conf,
                target.toString(),
                content("v2"),
                deadPid(),
                step -> {
                  if (step == AtomicDirectory.Step.SET_ASIDE) {
                    throw new Killed();
                  }
                }));
    assertFalse(Files.exists(target));
    // removeStale (run at the start of every stage) restores first, then cleans.
    AtomicDirectory.removeStale(conf, target.toString(), Instant.now());
    assertEquals("v2", Files.readString(target.resolve("data.txt")));
  }

  @Test
  void anOrphanedSetAsideCopyOfAnOlderVersionIsRestored() throws Exception {
    // The two-rename publish without journal could leave only .old-*: it is the last good output.
    Path target = dir.resolve("cohort");
    Path old = dir.resolve(".cohort.old-" + AtomicDirectory.owner(deadPid()) + "-0badc0de");
    Files.createDirectories(old);
    Files.writeString(old.resolve("data.txt"), "v1");
    AtomicDirectory.recover(conf, target.toString(), Instant.now());
    assertEquals("v1", Files.readString(target.resolve("data.txt")));
  }

  @Test
  void replaceFileSwapsWholeContentAndCreateExclusiveRefusesAnExistingFile() throws Exception {
    Path f = dir.resolve("alias");
    AtomicDirectory.replaceFile(conf, f.toString(), "1".getBytes());
    AtomicDirectory.replaceFile(conf, f.toString(), "22".getBytes());
    assertEquals("22", Json.readText(conf, f.toString()));
    assertTrue(
        AtomicDirectory.createExclusive(conf, dir.resolve("lock").toString(), "a".getBytes()));
    assertFalse(
        AtomicDirectory.createExclusive(conf, dir.resolve("lock").toString(), "b".getBytes()));
    assertEquals("a", Json.readText(conf, dir.resolve("lock").toString()));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(2, s.filter(p -> !p.getFileName().toString().endsWith(".crc")).count());
    }
  }
}
