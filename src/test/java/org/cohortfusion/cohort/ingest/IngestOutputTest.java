package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where ingest publishes: an unwritable output fails first, and killed runs' temporaries are
 * cleaned up.
 */
class IngestOutputTest {
  private final SparkSession spark = SparkTestSession.get();

  @TempDir Path dir;

  /** A pid that belonged to a process of this host that has ended. */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    assertFalse(ProcessHandle.of(p.pid()).map(ProcessHandle::isAlive).orElse(false));
    return p.pid();
  }

  /** A leftover directory holding one data file, last modified {@code hoursAgo} hours ago. */
  private static void leftover(Path parent, String name, long hoursAgo) throws Exception {
    Path d = Files.createDirectories(parent.resolve(name).resolve("aligned"));
    Files.writeString(d.resolve("part-00000.parquet"), "patient rows");
    FileTime t = FileTime.from(Instant.now().minus(hoursAgo, ChronoUnit.HOURS));
    Files.setLastModifiedTime(d, t);
    Files.setLastModifiedTime(parent.resolve(name), t);
  }

  private static Set<String> names(Path parent) throws Exception {
    try (Stream<Path> s = Files.list(parent)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
  }

  @Test
  void killedRunsTemporariesAreRemovedAndLiveOrRecentOnesKept() throws Exception {
    Path out = dir.resolve("out");
    Files.createDirectories(out);
    String dead = ".cohort.tmp-" + AtomicDirectory.owner(deadPid()) + "-0badc0de";
    String deadOld = ".cohort.old-" + AtomicDirectory.owner(deadPid()) + "-0badc0df";
    String alive =
        ".cohort.tmp-" + AtomicDirectory.owner(ProcessHandle.current().pid()) + "-00c0ffee";
    // Our pid, but written two days before this JVM started: a killed run's, its pid reused since.
    String reusedPid =
        ".cohort.tmp-" + AtomicDirectory.owner(ProcessHandle.current().pid()) + "-00c0fff0";
    String otherHost = ".cohort.tmp-1@some-other-host-0000beef";
    String legacyOld = ".cohort.tmp-deadbeef";
    String legacyRecent = ".cohort.tmp-feedbeef";
    String otherOutput = ".pretrain.tmp-" + AtomicDirectory.owner(deadPid()) + "-0badc0de";
    leftover(out, dead, 1);
    leftover(out, deadOld, 1);
    leftover(out, alive, 0);
    leftover(out, reusedPid, 48);
    leftover(out, otherHost, 1);
    leftover(out, legacyOld, 48);
    leftover(out, legacyRecent, 1);
    leftover(out, otherOutput, 1);

    // Without a published cohort, a set-aside previous output may be the only good copy: kept.
    assertEquals(
        3,
        AtomicDirectory.removeStale(
            spark.sparkContext().hadoopConfiguration(),
            out.resolve("cohort").toString(),
            Instant.now()));
    assertEquals(
        new TreeSet<>(List.of(deadOld, alive, otherHost, legacyRecent, otherOutput)), names(out));

    // An ingest into the same output removes the set-aside one once a cohort exists, then
    // publishes.
    Files.createDirectories(out.resolve("cohort"));
    String config = CohortFixture.valid(4).write(spark, dir, "");
    IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute();
    assertEquals(
        new TreeSet<>(List.of("cohort", alive, otherHost, legacyRecent, otherOutput)), names(out));
  }

  @Test
  void anUnwritableOutputFailsBeforeAnyTableIsRead() throws Exception {
    Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
    // The subjects path does not exist: reading it first would fail with another message.
    String config =
        "name = x\nsubjects { path = \""
            + dir.resolve("missing")
            + "\" }\n"
            + "modalities { notes { kind = text, path = \""
            + dir.resolve("missing-notes")
            + "\" } }\n"
            + "output { dir = \""
            + file.resolve("out")
            + "\" }\n";
    IngestException e =
        assertThrows(
            IngestException.class,
            () -> IngestAction.of(spark, PipelineConfigLoader.parse(config, List.of())).execute());
    assertTrue(
        e.getMessage().startsWith("Cannot write " + file.resolve("out").resolve("cohort") + ": "),
        e.getMessage());
    assertTrue(Files.isRegularFile(file));
  }
}
