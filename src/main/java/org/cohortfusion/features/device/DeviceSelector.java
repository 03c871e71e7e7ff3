package org.cohortfusion.features.device;

import java.io.Serializable;
import org.nd4j.linalg.factory.Nd4j;

/** Switches the calling thread's compute device and reports the current one. */
public interface DeviceSelector extends Serializable {

  void select(int device);

  /** The device of the calling thread, or null when unknown. */
  Integer current();

  /** ND4J's affinity manager: the real thing on a CUDA backend. */
  static DeviceSelector nd4j() {
    return new DeviceSelector() {
      private static final long serialVersionUID = 1L;

      @Override
      public void select(int device) {
        Nd4j.getAffinityManager().unsafeSetDevice(device);
      }

      @Override
      public Integer current() {
        return Nd4j.getAffinityManager().getDeviceForCurrentThread();
      }
    };
  }
}
