package org.cohortfusion.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The peak heap of this JVM over an interval (one pipeline stage), measured two ways because
 * neither alone is the live set:
 *
 * <ul>
 *   <li>{@link Peak#poolPeakSumBytes}: the sum over the heap pools of {@link
 *       MemoryPoolMXBean#getPeakUsage()} since {@link #begin}. It counts garbage not yet collected,
 *       and the pools peak at different moments, so it is an upper bound; with a 2 GB heap it tends
 *       towards -Xmx whenever the collector lets garbage accumulate.
 *   <li>{@link Peak#usedAfterGcBytes}: the largest heap in use just after a collection (GC
 *       notifications), a tighter estimate of what the stage kept reachable; young collections
 *       leave old-generation garbage in it, and a stage with no collection reports 0.
 * </ul>
 */
public final class DriverHeap implements AutoCloseable {
  /** Peaks in bytes of one interval. */
  public record Peak(long poolPeakSumBytes, long usedAfterGcBytes, int collections) {}

  private final List<MemoryPoolMXBean> heapPools = new ArrayList<>();
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final AtomicLong maxAfterGc = new AtomicLong();
  private final AtomicLong collections = new AtomicLong();
  private final NotificationListener listener = this::onNotification;

  public DriverHeap() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.isValid()) {
        heapPools.add(pool);
      }
    }
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(listener, null, null);
        emitters.add(emitter);
      }
    }
  }

  /** Starts an interval: the pools' peaks and the after-GC maximum start again from now. */
  public void begin() {
    for (MemoryPoolMXBean pool : heapPools) {
      pool.resetPeakUsage();
    }
    maxAfterGc.set(0);
    collections.set(0);
  }

  /** The peaks since {@link #begin}. */
  public Peak end() {
    long sum = 0;
    for (MemoryPoolMXBean pool : heapPools) {
      MemoryUsage peak = pool.getPeakUsage();
      sum += peak == null ? 0 : peak.getUsed();
    }
    return new Peak(sum, maxAfterGc.get(), (int) collections.get());
  }

  /** The heap's maximum size (-Xmx), or -1 when undefined. */
  public static long maxHeapBytes() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax();
  }

  private void onNotification(Notification n, Object handback) {
    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
      return;
    }
    GarbageCollectionNotificationInfo info =
        GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
    long used = 0;
    for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
      if (isHeapPool(e.getKey())) {
        used += e.getValue().getUsed();
      }
    }
    collections.incrementAndGet();
    maxAfterGc.accumulateAndGet(used, Math::max);
  }

  private boolean isHeapPool(String name) {
    for (MemoryPoolMXBean pool : heapPools) {
      if (pool.getName().equals(name)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    for (NotificationEmitter emitter : emitters) {
      try {
        emitter.removeNotificationListener(listener);
      } catch (javax.management.ListenerNotFoundException e) {
        // Already gone: nothing to undo.
      }
    }
  }
}
