package org.cohortfusion.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session of a stage. Under spark-submit the master and settings come from the submitter;
 * run directly (embedded), the session is {@code local[*]} unless spark.master is set. Kryo with
 * ND4J's registrator is the default because DL4J stages ship INDArrays.
 */
public final class Sessions {
  private Sessions() {}

  public static SparkSession getOrCreate(String appName) {
    return SparkSession.builder().config(conf(appName)).getOrCreate();
  }

  /** The settings {@link #getOrCreate} starts a session with. */
  public static SparkConf conf(String appName) {
    SparkConf conf =
        new SparkConf(true); // picks up spark.* system properties (jobs/ pass conf/ that way)
    if (!conf.contains("spark.master")) {
      conf.setMaster("local[*]");
    }
    // Embedded runs only: on a cluster the executors' scratch space is the cluster's to choose. A
    // relative default would put it under whatever directory the launcher was started from.
    if (conf.get("spark.master").startsWith("local")) {
      conf.setIfMissing("spark.local.dir", localScratch());
    }
    conf.setIfMissing("spark.app.name", "cohort-fusion " + appName);
    conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
    conf.setIfMissing("spark.kryo.registrator", "org.nd4j.kryo.Nd4jRegistrator");
    conf.setIfMissing("spark.sql.parquet.compression.codec", "snappy");
    return conf;
  }

  /**
   * Spark's scratch space of embedded runs: under the system temporary directory, shared by runs.
   */
  static String localScratch() {
    return java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "cohort-fusion-spark")
        .toString();
  }
}
