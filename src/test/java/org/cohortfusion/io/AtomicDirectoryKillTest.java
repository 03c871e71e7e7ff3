package org.cohortfusion.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process publishing in a loop is killed (SIGKILL) at random moments; after each kill, recovery
 * leaves one whole version, never older than the last one the process reported published.
 */
class AtomicDirectoryKillTest {
  @TempDir Path dir;

  @Test
  void aKilledPublisherLeavesOneWholeVersion() throws Exception {
    Path target = dir.resolve("out");
    Random random = new Random(7);
    for (int round = 0; round < 4; round++) {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("-cp");
      command.add(
          System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
      command.add(PublishLoop.class.getName());
      command.add(target.toString());
      Process p =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      AtomicInteger published = new AtomicInteger();
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = r.readLine()) != null; ) {
                    published.set(Integer.parseInt(line.strip()));
                  }
                } catch (Exception e) {
                  // the process was killed
                }
              });
      reader.start();
      long deadline = System.currentTimeMillis() + 60_000;
      while (published.get() < 3 && System.currentTimeMillis() < deadline && p.isAlive()) {
        Thread.sleep(5);
      }
      assertTrue(published.get() >= 3, "the publisher ran (round " + round + ")");
      Thread.sleep(random.nextInt(40));
      int reported = published.get();
      p.destroyForcibly().waitFor();
      reader.join();

      AtomicDirectory.recover(new Configuration(), target.toString(), Instant.now());
      Set<String> versions = new TreeSet<>();
      for (int i = 0; i < PublishLoop.FILES; i++) {
        String content = Files.readString(target.resolve("part-" + i));
        assertEquals(
            PublishLoop.SIZE / 4 * content.indexOf(';') + PublishLoop.SIZE / 4,
            content.length(),
            "whole file");
        versions.add(content.substring(0, content.indexOf(';')));
      }
      assertEquals(1, versions.size(), "one version: " + versions);
      int version = Integer.parseInt(versions.iterator().next().substring(1));
      assertTrue(version >= reported, "version " + version + " older than reported " + reported);
      // The next run starts from a clean directory: only the target and checksum sidecars.
      AtomicDirectory.removeStale(new Configuration(), target.toString(), Instant.now());
      try (Stream<Path> s = Files.list(dir)) {
        assertEquals(
            List.of("out"),
            s.map(x -> x.getFileName().toString()).filter(n -> !n.endsWith(".crc")).toList());
      }
    }
  }
}
