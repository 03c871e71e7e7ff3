package org.cohortfusion.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryLockTest {
  @TempDir Path dir;

  private final Configuration conf = new Configuration();

  @Test
  void aHeldLockRefusesASecondRunNamingTheHolder() {
    try (RegistryLock first =
        RegistryLock.acquire(
            conf, dir.toString(), "retrain@node-1", "run-41", Duration.ofHours(1))) {
      RegistryException e =
          assertThrows(
              RegistryException.class,
              () ->
                  RegistryLock.acquire(
                      conf, dir.toString(), "retrain@node-2", "run-42", Duration.ofHours(1)));
      assertTrue(
          e.getMessage()
              .startsWith("Cannot lock registry " + dir + ": held by retrain@node-1 (run run-41)"),
          e.getMessage());
      assertEquals("run-41", first.holder().runId());
    }
    assertNull(RegistryLock.holder(conf, dir.toString()), "released on close");
    try (RegistryLock again =
        RegistryLock.acquire(
            conf, dir.toString(), "retrain@node-2", "run-42", Duration.ofHours(1))) {
      assertEquals("run-42", RegistryLock.holder(conf, dir.toString()).runId());
    }
  }

  @Test
  void aStaleLockIsTakenOverAndItsDeadOwnerDoesNotReleaseTheNewOne() throws Exception {
    // A run that died: its lock expired 1 ms after it was taken.
    RegistryLock dead =
        RegistryLock.acquire(
            conf, dir.toString(), "retrain@node-1", "run-41", Duration.ofMillis(1));
    Thread.sleep(20);
    try (RegistryLock next =
        RegistryLock.acquire(
            conf, dir.toString(), "retrain@node-2", "run-42", Duration.ofHours(1))) {
      assertEquals("run-42", RegistryLock.holder(conf, dir.toString()).runId());
      dead.close();
      assertEquals(
          "run-42",
          RegistryLock.holder(conf, dir.toString()).runId(),
          "not the old owner's to release");
    }
    try (var s = Files.list(dir)) {
      assertEquals(
          0,
          s.filter(p -> !p.getFileName().toString().endsWith(".crc")).count(),
          "no lock and no leftovers");
    }
  }
}
