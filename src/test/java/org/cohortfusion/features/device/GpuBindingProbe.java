package org.cohortfusion.features.device;

import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Run in its own JVM by {@link DeviceBinderTest} (it needs its own SparkSession with GPU
 * resources): runs {@code tasks} tasks, each binding through {@link Nd4jDeviceBinder}, and prints
 * one line per task: {@code BINDING <partition> <task> <address> <boundDevice>}, first from the
 * production binder, then from a binder with a recording selector. Args: master, discovery script,
 * GPUs, tasks.
 */
public final class GpuBindingProbe {
  /** Per-thread "current device", like a CUDA context. */
  static final class RecordingSelector implements DeviceSelector {
    private static final ThreadLocal<Integer> CURRENT = new ThreadLocal<>();

    @Override
    public void select(int device) {
      CURRENT.set(device);
    }

    @Override
    public Integer current() {
      return CURRENT.get();
    }
  }

  public static void main(String[] args) {
    String master = args[0];
    String script = args[1];
    int gpus = Integer.parseInt(args[2]);
    int tasks = Integer.parseInt(args[3]);
    SparkSession spark =
        SparkSession.builder()
            .master(master)
            .appName("gpu-binding-probe")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.resource.gpu.amount", String.valueOf(gpus))
            .config("spark.driver.resource.gpu.discoveryScript", script)
            .config("spark.executor.resource.gpu.amount", String.valueOf(gpus))
            .config("spark.executor.resource.gpu.discoveryScript", script)
            .config("spark.worker.resource.gpu.amount", String.valueOf(gpus))
            .config("spark.worker.resource.gpu.discoveryScript", script)
            .config("spark.task.resource.gpu.amount", "1")
            .getOrCreate();
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      // Production binder (no-op on nd4j-native) and one that selects through a recording selector
      // standing in for a CUDA affinity manager, so the selected device is observable on CPU.
      DeviceBinder production = new Nd4jDeviceBinder();
      DeviceBinder recording = new Nd4jDeviceBinder(new RecordingSelector(), true);
      List<DeviceBinding> bindings =
          jsc.parallelize(java.util.Collections.nCopies(tasks, 0), tasks)
              .mapPartitions(
                  it ->
                      List.of(
                              production.bind(org.apache.spark.TaskContext.get()),
                              recording.bind(org.apache.spark.TaskContext.get()))
                          .iterator())
              .collect();
      for (DeviceBinding b : bindings) {
        System.out.println(
            "BINDING "
                + b.partition()
                + " "
                + b.taskAttemptId()
                + " "
                + b.address()
                + " "
                + b.boundDevice());
      }
    } finally {
      spark.stop();
    }
  }
}
