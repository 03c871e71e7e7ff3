package org.cohortfusion.cohort.ingest;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;

/**
 * Session settings changed around one piece of work only: Spark reads some of them when a plan is
 * built or a cache defined, and ingest needs them changed for its own work without leaving the
 * caller's session altered.
 */
final class SessionConf {
  private SessionConf() {}

  /** Runs {@code job} with the given session settings, then restores them as they were. */
  static <T> T with(SparkSession spark, Map<String, String> settings, Supplier<T> job) {
    Map<String, String> before = new LinkedHashMap<>();
    settings.forEach(
        (key, value) -> {
          before.put(key, spark.conf().getOption(key).getOrElse(() -> null));
          spark.conf().set(key, value);
        });
    try {
      return job.get();
    } finally {
      before.forEach(
          (key, value) -> {
            if (value == null) {
              spark.conf().unset(key);
            } else {
              spark.conf().set(key, value);
            }
          });
    }
  }
}
