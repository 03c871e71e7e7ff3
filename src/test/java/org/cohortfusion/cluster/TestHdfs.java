package org.cohortfusion.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * A real HDFS in the test JVM (Hadoop's MiniDFSCluster, hadoop-client-minicluster at Spark's Hadoop
 * 3.3.4): one NameNode and one DataNode on 127.0.0.1, storage under target/. Spark's drivers and
 * executors reach it over RPC like any HDFS.
 */
final class TestHdfs implements AutoCloseable {
  /**
   * How long an HDFS client waits before it asks the NameNode again whether a file it closed is
   * complete. The NameNode says no until the DataNode has reported the last block, which on this
   * one-machine HDFS comes a few milliseconds after the close; the client's default first wait is
   * 400 ms, paid by every file any Spark JVM writes (Parquet parts, shards, models, status files).
   * With 10 ms the client-mode train took 45 s instead of 93 s and pretrain 51 s instead of 69 s
   * (docs/benchmarks.md, "CI time"). A shorter first wait changes when the client asks, not what it
   * waits for.
   */
  private static final String CLOSE_RETRY_DELAY_KEY =
      "dfs.client.block.write.locateFollowingBlock.initial.delay.ms";

  private static final int CLOSE_RETRY_DELAY_MS = 10;

  private final MiniDFSCluster cluster;
  private final Configuration conf;

  TestHdfs(Path baseDir) throws IOException {
    conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.toAbsolutePath().toString());
    conf.setBoolean("dfs.permissions.enabled", false);
    conf.setInt("dfs.replication", 1);
    conf.setInt(CLOSE_RETRY_DELAY_KEY, CLOSE_RETRY_DELAY_MS);
    // MiniDFSCluster binds the NameNode and DataNode to 127.0.0.1 on free ports by itself.
    cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).format(true).build();
    cluster.waitActive();
  }

  /** hdfs://127.0.0.1:port, the URI every Spark process is given. */
  String uri() {
    return "hdfs://127.0.0.1:" + cluster.getNameNodePort();
  }

  FileSystem fs() throws IOException {
    return FileSystem.get(java.net.URI.create(uri()), clientConf());
  }

  Configuration clientConf() {
    Configuration c = new Configuration();
    c.set("fs.defaultFS", uri());
    c.setInt("dfs.replication", 1);
    c.setInt(CLOSE_RETRY_DELAY_KEY, CLOSE_RETRY_DELAY_MS);
    return c;
  }

  /**
   * A Hadoop client configuration directory (core-site.xml, hdfs-site.xml) pointing at this HDFS.
   */
  java.nio.file.Path writeClientConf(java.nio.file.Path dir) throws IOException {
    java.nio.file.Files.createDirectories(dir);
    // In core-site.xml, which every Hadoop Configuration reads (hdfs-site.xml only once HDFS's own
    // configuration class has been loaded in that JVM).
    java.nio.file.Files.writeString(
        dir.resolve("core-site.xml"),
        site(
            Map.of(
                "fs.defaultFS",
                uri(),
                CLOSE_RETRY_DELAY_KEY,
                String.valueOf(CLOSE_RETRY_DELAY_MS))));
    java.nio.file.Files.writeString(
        dir.resolve("hdfs-site.xml"), site(Map.of("dfs.replication", "1")));
    return dir;
  }

  private static String site(Map<String, String> properties) {
    StringBuilder xml = new StringBuilder("<?xml version=\"1.0\"?>\n<configuration>\n");
    new java.util.TreeMap<>(properties)
        .forEach(
            (name, value) ->
                xml.append("  <property><name>")
                    .append(name)
                    .append("</name><value>")
                    .append(value)
                    .append("</value></property>\n"));
    return xml.append("</configuration>\n").toString();
  }

  @Override
  public void close() {
    cluster.shutdown(true);
  }
}
