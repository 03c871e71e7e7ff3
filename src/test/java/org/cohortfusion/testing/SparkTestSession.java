package org.cohortfusion.testing;

import org.apache.spark.sql.SparkSession;

/** The one local Spark session of the test JVM; it is never stopped (JVM exit ends it). */
public final class SparkTestSession {
  private static SparkSession spark;

  private SparkTestSession() {}

  public static synchronized SparkSession get() {
    if (spark == null) {
      spark =
          SparkSession.builder()
              .master("local[2]")
              .appName("cohort-fusion-tests")
              .config("spark.sql.shuffle.partitions", "4")
              .config("spark.default.parallelism", "4")
              .config("spark.ui.enabled", "false")
              .config("spark.sql.adaptive.enabled", "true")
              // Test tables are tiny: compiling generated code costs more than it saves.
              .config("spark.sql.codegen.wholeStage", "false")
              .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
              .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
              .config("spark.kryo.registrator", "org.nd4j.kryo.Nd4jRegistrator")
              .getOrCreate();
      spark.sparkContext().setLogLevel("WARN");
    }
    return spark;
  }
}
