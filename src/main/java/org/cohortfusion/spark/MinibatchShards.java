package org.cohortfusion.spark;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.IntFunction;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.cohortfusion.io.Locations;
import org.datavec.spark.util.BroadcastHadoopConfigHolder;
import org.datavec.spark.util.SerializableHadoopConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * One split of training data written once, as whole minibatches, to files on storage every executor
 * can read (the input of dl4j-spark's {@code fitPaths}): one file per minibatch, written by the
 * executors that built the batches, under a directory of its own that {@link #close()} deletes.
 *
 * <p>This replaces dl4j-spark's implicit export, which writes the data again at every {@code fit}
 * call under {@code hadoop.tmp.dir}, never deletes it, and refuses a non-local master on a {@code
 * file:} default file system.
 */
public final class MinibatchShards implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MinibatchShards.class);

  /** Writes one minibatch and returns its example count; runs on the executors. */
  @FunctionalInterface
  public interface Writer<T> extends Serializable {
    int write(T batch, OutputStream out) throws IOException;
  }

  private final Configuration hadoop;
  private final String dir;
  private final List<String> paths;
  private final long examples;
  private final List<String> groups;
  private final List<List<String>> pathsByGroup;

  private MinibatchShards(
      Configuration hadoop,
      String dir,
      List<String> paths,
      long examples,
      List<String> groups,
      List<List<String>> pathsByGroup) {
    this.hadoop = hadoop;
    this.dir = dir;
    this.paths = List.copyOf(paths);
    this.examples = examples;
    this.groups = List.copyOf(groups);
    this.pathsByGroup = pathsByGroup.stream().map(List::copyOf).toList();
  }

  /**
   * Writes every element of {@code batches} to its own file under a new directory {@code
   * <root>/<name>-<id>}. Empty minibatches are skipped. On failure the partial directory is
   * deleted.
   */
  public static <T> MinibatchShards write(
      JavaSparkContext jsc, JavaRDD<T> batches, String root, String name, Writer<T> writer) {
    String dir = newDir(jsc, root, name);
    Written w = writeInto(jsc, batches, dir, "part-", writer);
    LOG.info("Wrote {} minibatch shards ({} examples) to {}", w.paths.size(), w.examples, dir);
    return new MinibatchShards(
        jsc.hadoopConfiguration(), dir, w.paths, w.examples, List.of(), List.of(w.paths));
  }

  /**
   * As {@link #write}, one group at a time (e.g. one recruiting site each): every shard holds
   * minibatches of one group only, {@code batchesOfGroup.apply(i)} those of {@code groups.get(i)},
   * and {@link #pathsByGroup()} says which shards belong to which group. One Spark job per group.
   */
  public static <T> MinibatchShards writeGroups(
      JavaSparkContext jsc,
      List<String> groups,
      IntFunction<JavaRDD<T>> batchesOfGroup,
      String root,
      String name,
      Writer<T> writer) {
    String dir = newDir(jsc, root, name);
    List<String> paths = new ArrayList<>();
    List<List<String>> byGroup = new ArrayList<>();
    long examples = 0;
    for (int g = 0; g < groups.size(); g++) {
      // The group's index in the file name keeps names unique across groups: modality dropout is
      // seeded by the shard's name.
      Written w =
          writeInto(
              jsc,
              batchesOfGroup.apply(g),
              dir,
              String.format(Locale.ROOT, "part-g%04d-", g),
              writer);
      paths.addAll(w.paths);
      byGroup.add(w.paths);
      examples += w.examples;
    }
    LOG.info(
        "Wrote {} minibatch shards ({} examples) of {} groups to {}",
        paths.size(),
        examples,
        groups.size(),
        dir);
    return new MinibatchShards(jsc.hadoopConfiguration(), dir, paths, examples, groups, byGroup);
  }

  /**
   * A new directory under {@code root}, made absolute here on the driver: the executors that write
   * the shards would resolve a relative root against their own working directories.
   */
  private static String newDir(JavaSparkContext jsc, String root, String name) {
    return Locations.absolute(root, jsc::hadoopConfiguration)
        + "/"
        + name
        + "-"
        + UUID.randomUUID().toString().substring(0, 8);
  }

  private record Written(List<String> paths, long examples) {}

  private static <T> Written writeInto(
      JavaSparkContext jsc, JavaRDD<T> batches, String dir, String prefix, Writer<T> writer) {
    Broadcast<SerializableHadoopConfig> conf = BroadcastHadoopConfigHolder.get(jsc);
    List<Tuple2<String, Integer>> written;
    try {
      written =
          batches
              .mapPartitionsWithIndex(new WritePartition<>(dir, prefix, conf, writer), false)
              .collect();
    } catch (RuntimeException e) {
      delete(jsc.hadoopConfiguration(), dir);
      throw new IllegalStateException(
          "Cannot write training shards to " + dir + ": " + e.getMessage(), e);
    }
    List<String> paths = new ArrayList<>(written.size());
    long examples = 0;
    for (Tuple2<String, Integer> w : written) {
      paths.add(w._1());
      examples += w._2();
    }
    return new Written(paths, examples);
  }

  /** The shard files, in partition order. */
  public List<String> paths() {
    return paths;
  }

  /**
   * The names of the groups {@link #writeGroups} wrote, in the order given; empty when the shards
   * were written by {@link #write}.
   */
  public List<String> groups() {
    return groups;
  }

  /**
   * The shard files of each group, in the order of {@link #groups()} (a group may have none); one
   * entry holding every shard when the shards were written by {@link #write}.
   */
  public List<List<String>> pathsByGroup() {
    return pathsByGroup;
  }

  /** Examples over all shards. */
  public long examples() {
    return examples;
  }

  public String dir() {
    return dir;
  }

  /** Deletes the shard directory. */
  @Override
  public void close() {
    delete(hadoop, dir);
  }

  private static void delete(Configuration hadoop, String dir) {
    try {
      Path p = new Path(dir);
      p.getFileSystem(hadoop).delete(p, true);
    } catch (IOException e) {
      LOG.warn("Could not delete training shards at {}: {}", dir, e.getMessage());
    }
  }

  /** Writes one partition's minibatches; returns (path, examples) per file. */
  private static final class WritePartition<T>
      implements org.apache.spark.api.java.function.Function2<
          Integer, Iterator<T>, Iterator<Tuple2<String, Integer>>> {
    private static final long serialVersionUID = 1L;
    private final String dir;
    private final String prefix;
    private final Broadcast<SerializableHadoopConfig> conf;
    private final Writer<T> writer;

    WritePartition(
        String dir, String prefix, Broadcast<SerializableHadoopConfig> conf, Writer<T> writer) {
      this.dir = dir;
      this.prefix = prefix;
      this.conf = conf;
      this.writer = writer;
    }

    @Override
    public Iterator<Tuple2<String, Integer>> call(Integer partition, Iterator<T> batches)
        throws IOException {
      List<Tuple2<String, Integer>> out = new ArrayList<>();
      FileSystem fs = new Path(dir).getFileSystem(conf.getValue().getConfiguration());
      int index = 0;
      while (batches.hasNext()) {
        T batch = batches.next();
        Path file =
            new Path(
                dir, String.format(Locale.ROOT, "%s%05d-%06d.bin", prefix, partition, index++));
        int n;
        // A retried task overwrites its own files: names depend only on (partition, index).
        try (OutputStream os = fs.create(file, true)) {
          n = writer.write(batch, os);
        } catch (IOException e) {
          throw new UncheckedIOException(
              "Cannot write training shard " + file + ": " + e.getMessage(), e);
        }
        if (n == 0) {
          fs.delete(file, false);
        } else {
          out.add(new Tuple2<>(file.toString(), n));
        }
      }
      return out.iterator();
    }
  }
}
