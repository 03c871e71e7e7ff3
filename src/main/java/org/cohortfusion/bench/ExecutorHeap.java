package org.cohortfusion.bench;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.executor.ExecutorMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerStageExecutorMetrics;

/**
 * The peak JVM heap ({@code JVMHeapMemory}) that executors report in their heartbeats' executor
 * metrics and at the end of each Spark stage, over an interval. The driver's own entries are left
 * out: in local mode the only "executor" is the driver JVM (id {@code driver}), whose heap {@link
 * DriverHeap} measures directly, so there the peak stays unknown (-1). Heartbeats come every {@code
 * spark.executor.heartbeatInterval} (10 s): an interval shorter than that may see no report.
 */
public final class ExecutorHeap extends SparkListener {
  // SparkContext.DRIVER_IDENTIFIER is private[spark]: its value, spelled out.
  private static final String DRIVER = "driver";
  private final AtomicLong peak = new AtomicLong(-1);

  /** Listens on {@code sc} from now on. */
  public static ExecutorHeap register(org.apache.spark.SparkContext sc) {
    ExecutorHeap heap = new ExecutorHeap();
    sc.addSparkListener(heap);
    return heap;
  }

  public void begin() {
    peak.set(-1);
  }

  /** The largest executor heap reported since {@link #begin}, in bytes, or -1 when none was. */
  public long end() {
    return peak.get();
  }

  @Override
  public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
    if (DRIVER.equals(update.execId())) {
      return;
    }
    scala.collection.Iterator<ExecutorMetrics> metrics = update.executorUpdates().valuesIterator();
    while (metrics.hasNext()) {
      record(metrics.next());
    }
  }

  @Override
  public void onStageExecutorMetrics(SparkListenerStageExecutorMetrics stage) {
    if (!DRIVER.equals(stage.execId())) {
      record(stage.executorMetrics());
    }
  }

  private void record(ExecutorMetrics metrics) {
    peak.accumulateAndGet(metrics.getMetricValue("JVMHeapMemory"), Math::max);
  }
}
