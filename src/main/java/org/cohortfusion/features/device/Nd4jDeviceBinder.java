package org.cohortfusion.features.device;

import java.util.Locale;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds ND4J to the GPU Spark gave the task ({@code TaskContext.resources().get("gpu")}, set by
 * {@code spark.task.resource.gpu.amount} and the executor's discovery script, see
 * conf/spark-gpu.properties). On a CUDA backend it calls {@code
 * Nd4j.getAffinityManager().unsafeSetDevice(address)} for the task's thread; on nd4j-native (no
 * CUDA backend) it is a logged no-op that still reports the address it was given.
 *
 * <p>The address is used as the CUDA device ordinal, as Spark's GPU scheduling documents for
 * discovery scripts that print nvidia-smi indices; do not combine it with a CUDA_VISIBLE_DEVICES
 * that renumbers devices.
 */
public final class Nd4jDeviceBinder implements DeviceBinder {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(Nd4jDeviceBinder.class);
  public static final String GPU = "gpu";

  private final DeviceSelector selector;
  private final Boolean cudaOverride;

  /** The production binder: binds only when ND4J runs on a CUDA backend. */
  public Nd4jDeviceBinder() {
    this(DeviceSelector.nd4j(), null);
  }

  /**
   * A binder with another device selector. {@code bindOnAnyBackend = true} makes it bind even on
   * nd4j-native: for tests that check every task selects the address it received.
   */
  public Nd4jDeviceBinder(DeviceSelector selector, boolean bindOnAnyBackend) {
    this(selector, bindOnAnyBackend ? Boolean.TRUE : null);
  }

  private Nd4jDeviceBinder(DeviceSelector selector, Boolean cudaOverride) {
    this.selector = selector;
    this.cudaOverride = cudaOverride;
  }

  @Override
  public DeviceBinding bind(TaskContext task) {
    String backend = Nd4j.getBackend().getClass().getName();
    if (task == null) {
      return new DeviceBinding(-1, -1, null, null, backend);
    }
    String address = assignedAddress(task);
    boolean cuda = cudaOverride != null ? cudaOverride : isCudaBackend(backend);
    Integer bound = null;
    if (address != null && cuda) {
      int device;
      try {
        device = Integer.parseInt(address.trim());
      } catch (NumberFormatException e) {
        throw new IllegalStateException(
            "Cannot bind task "
                + task.taskAttemptId()
                + " to GPU '"
                + address
                + "': the address is not a device ordinal");
      }
      selector.select(device);
      bound = selector.current();
      if (bound == null || bound != device) {
        throw new IllegalStateException(
            "Cannot bind task "
                + task.taskAttemptId()
                + " to GPU "
                + device
                + ": the thread is on device "
                + bound
                + " after selecting it");
      }
      LOG.info(
          "Task {} (partition {}) bound ND4J to GPU {}",
          task.taskAttemptId(),
          task.partitionId(),
          device);
    } else if (address != null) {
      LOG.info(
          "Task {} (partition {}) was given GPU {} but ND4J runs on {} (no CUDA backend): not binding",
          task.taskAttemptId(),
          task.partitionId(),
          address,
          backend);
    } else if (cuda) {
      LOG.warn(
          "Task {} got no GPU from Spark although ND4J runs on CUDA: set spark.task.resource.gpu.amount",
          task.taskAttemptId());
    }
    return new DeviceBinding(task.partitionId(), task.taskAttemptId(), address, bound, backend);
  }

  /** The first GPU address Spark assigned to the task, or null. */
  public static String assignedAddress(TaskContext task) {
    Map<String, ResourceInformation> resources = task.resourcesJMap();
    ResourceInformation gpu = resources == null ? null : resources.get(GPU);
    return gpu == null || gpu.addresses().length == 0 ? null : gpu.addresses()[0];
  }

  public static boolean isCudaBackend(String backendClassName) {
    String name = backendClassName.toLowerCase(Locale.ROOT);
    return name.contains("cuda") || name.contains("jcublas");
  }
}
