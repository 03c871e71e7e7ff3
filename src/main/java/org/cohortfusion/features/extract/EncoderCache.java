package org.cohortfusion.features.extract;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.broadcast.Broadcast;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Encoders loaded once per JVM (executor), keyed by the SHA-256 of their model bytes. The bytes
 * arrive by broadcast and are checked against the key before they are deserialised, so a task never
 * runs an encoder other than the one the driver verified.
 */
public final class EncoderCache {
  private static final ConcurrentHashMap<String, MultiLayerNetwork> LOADED =
      new ConcurrentHashMap<>();
  private static final AtomicInteger LOADS = new AtomicInteger();

  private EncoderCache() {}

  public static MultiLayerNetwork get(
      String sha256, Broadcast<byte[]> modelBytes, String modality) {
    return LOADED.computeIfAbsent(
        sha256,
        sha -> {
          LOADS.incrementAndGet();
          return EncoderArtifact.restore(modelBytes.value(), sha, "of modality '" + modality + "'");
        });
  }

  /** How many encoders this JVM has deserialised so far. */
  public static int loads() {
    return LOADS.get();
  }
}
