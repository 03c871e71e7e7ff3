package org.cohortfusion.cohort.ingest;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;

/**
 * One daemon thread for small Spark jobs that mostly wait on Spark's scheduling, run beside the
 * driver's main line of work (listing files, reading footers, building plans). Each job runs in a
 * job group of its own, so that it can be cancelled when the main line fails first. Closing waits
 * for a job still running: a failed run should not leave one behind.
 */
final class SideJobs implements AutoCloseable {
  private final SparkSession spark;
  private final ExecutorService background =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "ingest-side-job");
            t.setDaemon(true);
            return t;
          });

  SideJobs(SparkSession spark) {
    this.spark = spark;
  }

  /** Runs {@code job} on the side thread in Spark job group {@code group}. */
  <T> Future<T> submit(String group, String description, Callable<T> job) {
    return background.submit(
        () -> {
          spark.sparkContext().setJobGroup(group, description, false);
          try {
            return job.call();
          } finally {
            spark.sparkContext().clearJobGroup();
          }
        });
  }

  /** Cancels the Spark jobs of {@code group} that are running or waiting. */
  void cancel(String group) {
    spark.sparkContext().cancelJobGroup(group);
  }

  /** The side job's result; its failure is rethrown as it is when unchecked. */
  static <T> T await(Future<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IngestException("Cannot ingest: interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IngestException("Cannot ingest: " + e.getCause(), e.getCause());
    }
  }

  @Override
  public void close() {
    background.shutdown();
    try {
      background.awaitTermination(10, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
