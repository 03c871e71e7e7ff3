package org.cohortfusion.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicDirectoryTest {
  @TempDir Path dir;

  private final Configuration conf = new Configuration();

  @Test
  void failedWriteLeavesThePreviousOutputAndNoTemporaryDirectory() throws Exception {
    Path target = dir.resolve("cohort");
    AtomicDirectory.write(
        conf,
        target.toString(),
        tmp -> {
          Files.createDirectories(Path.of(java.net.URI.create(tmp)));
          Files.writeString(Path.of(java.net.URI.create(tmp)).resolve("good.txt"), "v1");
          return null;
        });
    assertThrows(
        IllegalStateException.class,
        () ->
            AtomicDirectory.write(
                conf,
                target.toString(),
                tmp -> {
                  Path t = Path.of(java.net.URI.create(tmp));
                  Files.createDirectories(t);
                  Files.writeString(t.resolve("good.txt"), "half-written v2");
                  throw new IllegalStateException("executor lost");
                }));
    assertEquals("v1", Files.readString(target.resolve("good.txt")));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(1, s.count(), "only the published directory remains");
    }
  }

  @Test
  void successfulWriteReplacesThePreviousOutputWhole() throws Exception {
    Path target = dir.resolve("cohort");
    for (String v : new String[] {"v1", "v2"}) {
      AtomicDirectory.write(
          conf,
          target.toString(),
          tmp -> {
            Path t = Path.of(java.net.URI.create(tmp));
            Files.createDirectories(t);
            Files.writeString(t.resolve(v + ".txt"), v);
            return null;
          });
    }
    try (Stream<Path> s = Files.list(target)) {
      assertEquals(1, s.count());
    }
    assertEquals("v2", Files.readString(target.resolve("v2.txt")));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(1, s.count());
    }
  }

  @Test
  void publishCopyReplacesTheTargetWithTheWholeSourceTreeAndRefusesAMissingSource()
      throws Exception {
    Path from = dir.resolve("base/encoder");
    Files.createDirectories(from.resolve("meta"));
    Files.writeString(from.resolve("model.zip"), "weights");
    Files.writeString(from.resolve("meta/provenance.json"), "{}");
    Path to = dir.resolve("cell/encoder");
    Files.createDirectories(to);
    Files.writeString(to.resolve("stale.txt"), "previous");

    AtomicDirectory.publishCopy(conf, from.toString(), to.toString());
    assertEquals("weights", Files.readString(to.resolve("model.zip")));
    assertEquals("{}", Files.readString(to.resolve("meta/provenance.json")));
    assertFalse(Files.exists(to.resolve("stale.txt")), "the copy replaces the target whole");

    String missing = dir.resolve("nowhere").toString();
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> AtomicDirectory.publishCopy(conf, missing, to.toString()));
    assertEquals("Cannot copy " + missing + " to " + to + ": it does not exist", e.getMessage());
    assertEquals("weights", Files.readString(to.resolve("model.zip")));
  }
}
