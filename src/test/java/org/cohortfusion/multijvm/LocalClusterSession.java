package org.cohortfusion.multijvm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;

/**
 * A Spark session on {@code local-cluster[2,1,N]}: a master and a worker inside this JVM that start
 * two executor JVMs, so everything a stage ships to executors (closures, broadcasts, loaders) is
 * serialised and rebuilt in another JVM, as on a real cluster ({@code local[*]} never deserialises
 * a broadcast).
 *
 * <p>Spark's launcher builds the executor command from {@code SPARK_HOME} (a {@code jars/} folder
 * must exist) and {@code SPARK_SCALA_VERSION}, both set by the surefire execution that runs these
 * tests; the executors get this JVM's class path and Spark's Java 17 module options.
 */
public final class LocalClusterSession {
  public static final int EXECUTORS = 2;
  private static SparkSession spark;
  private static final Set<String> EXECUTORS_SEEN = new ConcurrentSkipListSet<>();

  private LocalClusterSession() {}

  public static synchronized SparkSession get() {
    if (spark == null) {
      String sparkHome = System.getenv("SPARK_HOME");
      if (sparkHome == null || System.getenv("SPARK_SCALA_VERSION") == null) {
        throw new IllegalStateException(
            "Cannot start local-cluster: SPARK_HOME and SPARK_SCALA_VERSION must be set"
                + " (the multi-jvm surefire execution sets them)");
      }
      try {
        Files.createDirectories(Path.of(sparkHome, "jars"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      String executorOptions =
          System.getProperty("cohortfusion.java17.opens", "")
              + " -Dorg.bytedeco.javacpp.cachedir="
              + System.getProperty(
                  "org.bytedeco.javacpp.cachedir",
                  System.getProperty("user.home") + "/.javacpp/cache");
      spark =
          SparkSession.builder()
              .master("local-cluster[" + EXECUTORS + ",1,1536]")
              .appName("cohort-fusion-multi-jvm-tests")
              .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
              .config("spark.executor.extraJavaOptions", executorOptions)
              .config("spark.sql.shuffle.partitions", "4")
              .config("spark.default.parallelism", "2")
              .config("spark.ui.enabled", "false")
              .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
              .config("spark.kryo.registrator", "org.nd4j.kryo.Nd4jRegistrator")
              .config("spark.task.maxFailures", "1")
              .getOrCreate();
      spark.sparkContext().setLogLevel("WARN");
      spark
          .sparkContext()
          .addSparkListener(
              new SparkListener() {
                @Override
                public void onTaskEnd(SparkListenerTaskEnd end) {
                  EXECUTORS_SEEN.add(end.taskInfo().executorId());
                }
              });
    }
    return spark;
  }

  /** The executors that ran tasks since the last call (and forgets them). */
  public static Set<String> executorsSinceLastCall() {
    Set<String> seen = new TreeSet<>(EXECUTORS_SEEN);
    EXECUTORS_SEEN.removeAll(seen);
    return seen;
  }
}
