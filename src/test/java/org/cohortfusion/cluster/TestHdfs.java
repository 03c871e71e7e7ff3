package org.cohortfusion.cluster;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * A real HDFS in the test JVM (Hadoop's MiniDFSCluster, hadoop-client-minicluster at Spark's Hadoop
 * 3.3.4): one NameNode and one DataNode on 127.0.0.1, storage under target/. Spark's drivers and
 * executors reach it over RPC like any HDFS.
 */
final class TestHdfs implements AutoCloseable {
  private final MiniDFSCluster cluster;
  private final Configuration conf;

  TestHdfs(Path baseDir) throws IOException {
    conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.toAbsolutePath().toString());
    conf.setBoolean("dfs.permissions.enabled", false);
    conf.setInt("dfs.replication", 1);
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
    return c;
  }

  /**
   * A Hadoop client configuration directory (core-site.xml, hdfs-site.xml) pointing at this HDFS.
   */
  java.nio.file.Path writeClientConf(java.nio.file.Path dir) throws IOException {
    java.nio.file.Files.createDirectories(dir);
    java.nio.file.Files.writeString(dir.resolve("core-site.xml"), site("fs.defaultFS", uri()));
    java.nio.file.Files.writeString(dir.resolve("hdfs-site.xml"), site("dfs.replication", "1"));
    return dir;
  }

  private static String site(String name, String value) {
    return "<?xml version=\"1.0\"?>\n<configuration>\n  <property><name>"
        + name
        + "</name><value>"
        + value
        + "</value></property>\n</configuration>\n";
  }

  @Override
  public void close() {
    cluster.shutdown(true);
  }
}
