package org.cohortfusion.io;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;

/**
 * Publishes versions 1, 2, ... of a directory until killed, printing each number once it is
 * published: the subprocess that {@link AtomicDirectoryKillTest} kills with SIGKILL at an arbitrary
 * moment.
 */
public final class PublishLoop {
  static final int FILES = 3;
  static final int SIZE = 256 * 1024;

  private PublishLoop() {}

  public static void main(String[] args) {
    Configuration conf = new Configuration();
    String target = args[0];
    for (int n = 1; ; n++) {
      String content = ("v" + n + ";").repeat(SIZE / 4);
      AtomicDirectory.write(
          conf,
          target,
          tmp -> {
            Path t = Path.of(java.net.URI.create(tmp));
            Files.createDirectories(t);
            for (int i = 0; i < FILES; i++) {
              Files.writeString(t.resolve("part-" + i), content);
            }
            return null;
          });
      System.out.println(n);
      System.out.flush();
    }
  }
}
