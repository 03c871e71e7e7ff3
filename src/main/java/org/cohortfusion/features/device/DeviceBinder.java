package org.cohortfusion.features.device;

import java.io.Serializable;
import org.apache.spark.TaskContext;

/** Binds the calling task's thread to the accelerator Spark assigned to the task. */
public interface DeviceBinder extends Serializable {

  /**
   * Binds the current thread for {@code task} (may be null outside Spark) and reports what it did.
   */
  DeviceBinding bind(TaskContext task);
}
