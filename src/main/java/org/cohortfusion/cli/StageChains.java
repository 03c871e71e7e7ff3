package org.cohortfusion.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToIntFunction;
import org.apache.spark.SparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Independent chains of stage runs in one Spark session, {@code parallelism} chains at a time: the
 * folds of cross-validation, the cells of a study. Each chain runs its stages in order on a thread
 * of its own and in a Spark job group of its own, so the scheduler interleaves the chains' jobs and
 * the UI shows them apart. A chain that fails stops; the others finish the stage they are in and
 * stop.
 */
final class StageChains {
  private static final Logger LOG = LoggerFactory.getLogger(StageChains.class);

  /** One stage run: the stage's name and its command line. */
  record Step(String stage, String[] args) {}

  /**
   * One chain.
   *
   * @param label what the log calls it ("fold 2", "cell labs-16")
   * @param group its Spark job group id
   * @param steps its stages, in order
   */
  record Chain(String label, String group, List<Step> steps) {}

  private StageChains() {}

  /**
   * Runs every chain, {@code parallelism} at a time, each stage by {@code runner}; returns 0, or
   * the exit code of the first chain (in list order) that failed. Logs as {@code "<prefix>: <stage>
   * of <label> finished with exit code <c> in <s> s"}.
   */
  static int run(
      SparkContext sc,
      List<Chain> chains,
      int parallelism,
      String prefix,
      ToIntFunction<String[]> runner) {
    AtomicBoolean failed = new AtomicBoolean();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            Math.max(1, parallelism),
            r -> {
              Thread t = new Thread(r);
              t.setDaemon(true);
              return t;
            });
    List<Future<Integer>> results = new ArrayList<>();
    for (Chain chain : chains) {
      results.add(pool.submit(() -> runChain(sc, chain, prefix, runner, failed)));
    }
    pool.shutdown();
    int code = 0;
    try {
      for (Future<Integer> r : results) {
        int c = r.get();
        if (c != 0 && code == 0) {
          code = c;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      pool.shutdownNow();
      throw new IllegalStateException("Cannot finish the " + prefix + " chains: interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "Cannot finish the " + prefix + " chains: " + e.getCause().getMessage(), e.getCause());
    }
    return code;
  }

  private static int runChain(
      SparkContext sc,
      Chain chain,
      String prefix,
      ToIntFunction<String[]> runner,
      AtomicBoolean failed) {
    String name = Thread.currentThread().getName();
    Thread.currentThread().setName(chain.group());
    sc.setJobGroup(chain.group(), prefix + " " + chain.label(), false);
    long t0 = System.nanoTime();
    try {
      for (Step step : chain.steps()) {
        if (failed.get()) {
          return 0;
        }
        long s0 = System.nanoTime();
        int code = runner.applyAsInt(step.args());
        LOG.info(
            "{}: {} of {} finished with exit code {} in {} s",
            prefix,
            step.stage(),
            chain.label(),
            code,
            Math.round((System.nanoTime() - s0) / 1e9));
        if (code != 0) {
          failed.set(true);
          return code;
        }
      }
      LOG.info(
          "{}: {} done in {} s", prefix, chain.label(), Math.round((System.nanoTime() - t0) / 1e9));
      return 0;
    } finally {
      sc.clearJobGroup();
      Thread.currentThread().setName(name);
    }
  }
}
