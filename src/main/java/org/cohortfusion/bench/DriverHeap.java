package org.cohortfusion.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The peak heap of this JVM over an interval (one pipeline stage), measured three ways because only
 * the third is the live set, and it costs collections:
 *
 * <ul>
 *   <li>{@link Peak#poolPeakSumBytes}: the sum over the heap pools of {@link
 *       MemoryPoolMXBean#getPeakUsage()} since {@link #begin}. It counts garbage not yet collected,
 *       and the pools peak at different moments, so it is an upper bound; with a 2 GB heap it tends
 *       towards -Xmx whenever the collector lets garbage accumulate.
 *   <li>{@link Peak#usedAfterGcBytes}: the largest heap in use just after a collection (GC
 *       notifications), a tighter estimate of what the stage kept reachable; young collections
 *       leave old-generation garbage in it, and a stage with no collection reports 0. With G1 and a
 *       2 GB heap the old generation holds up to about half the heap in garbage before a concurrent
 *       cycle reclaims it, so this figure moves with when the collector chose to run.
 *   <li>{@link Peak#liveSampledBytes}: the largest heap in use after a full collection requested
 *       every {@code liveSampleEvery} ({@link System#gc()}, a stop-the-world full collection under
 *       G1's defaults), read from that collection's own notification: what the stage kept reachable
 *       at those moments, garbage excluded. A sample misses a peak between two samples, so it is a
 *       lower bound of the peak live set; each costs a full collection (about a second at a 2 GB
 *       heap on 2 cores). 0 when not sampled.
 * </ul>
 */
public final class DriverHeap implements AutoCloseable {
  /** Peaks in bytes of one interval, and how many collections and live samples they come from. */
  public record Peak(
      long poolPeakSumBytes,
      long usedAfterGcBytes,
      int collections,
      long liveSampledBytes,
      int liveSamples) {}

  private final List<MemoryPoolMXBean> heapPools = new ArrayList<>();
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final AtomicLong maxAfterGc = new AtomicLong();
  private final AtomicLong collections = new AtomicLong();
  private final NotificationListener listener = this::onNotification;
  private final AtomicLong maxLive = new AtomicLong();
  private final AtomicLong liveSamples = new AtomicLong();
  private final ScheduledExecutorService sampler;

  /** The cause a collection requested by {@link System#gc()} reports. */
  private static final String SYSTEM_GC = "System.gc()";

  /** Pool peaks and after-GC figures only, no forced collections. */
  public DriverHeap() {
    this(null);
  }

  /**
   * @param liveSampleEvery how often to force a full collection and sample the live heap; null or
   *     zero: never
   */
  public DriverHeap(Duration liveSampleEvery) {
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
    if (liveSampleEvery == null || liveSampleEvery.isZero()) {
      sampler = null;
    } else {
      sampler =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "driver-heap-live-sample");
                t.setDaemon(true);
                return t;
              });
      long ms = liveSampleEvery.toMillis();
      sampler.scheduleWithFixedDelay(this::sampleLive, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Requests a full collection; its notification ({@link #onNotification}) records the sample, so
   * that a request the JVM delays or skips (the GC locker, held while native code reads a Java
   * array) records nothing rather than a heap full of garbage.
   */
  private void sampleLive() {
    System.gc();
  }

  /** Starts an interval: the pools' peaks and the after-GC maximum start again from now. */
  public void begin() {
    for (MemoryPoolMXBean pool : heapPools) {
      pool.resetPeakUsage();
    }
    maxAfterGc.set(0);
    collections.set(0);
    maxLive.set(0);
    liveSamples.set(0);
  }

  /** The peaks since {@link #begin}. */
  public Peak end() {
    long sum = 0;
    for (MemoryPoolMXBean pool : heapPools) {
      MemoryUsage peak = pool.getPeakUsage();
      sum += peak == null ? 0 : peak.getUsed();
    }
    return new Peak(
        sum, maxAfterGc.get(), (int) collections.get(), maxLive.get(), (int) liveSamples.get());
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
    if (SYSTEM_GC.equals(info.getGcCause()) && info.getGcAction().contains("major")) {
      maxLive.accumulateAndGet(used, Math::max);
      liveSamples.incrementAndGet();
    }
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
    if (sampler != null) {
      sampler.shutdownNow();
    }
    for (NotificationEmitter emitter : emitters) {
      try {
        emitter.removeNotificationListener(listener);
      } catch (javax.management.ListenerNotFoundException e) {
        // Already gone: nothing to undo.
      }
    }
  }
}
