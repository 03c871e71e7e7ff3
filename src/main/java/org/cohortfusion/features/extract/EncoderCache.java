package org.cohortfusion.features.extract;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.broadcast.Broadcast;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Encoders loaded once per JVM (executor), keyed by the SHA-256 of their model bytes. The bytes
 * arrive by broadcast and are checked against the key before they are deserialised, so a task never
 * runs an encoder other than the one the driver verified.
 *
 * <p>At most {@link #CAPACITY} encoders stay loaded, the least recently used leaving first: an
 * executor lives as long as its application, and a long session (a {@code study} extracts with new
 * encoders in every cell, a scheduled retrain with every snapshot) would otherwise keep every
 * encoder it ever ran. An extract of more modalities than that may load an encoder more than once
 * per executor, which costs a deserialisation, not a result.
 */
public final class EncoderCache {
  /** Encoders kept loaded per JVM. */
  public static final int CAPACITY = 8;

  private static final Map<String, MultiLayerNetwork> LOADED =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, MultiLayerNetwork> eldest) {
          return size() > CAPACITY;
        }
      };
  private static int loads;

  private EncoderCache() {}

  // One lock for lookups and loads: loads are rare (once per encoder and executor), and a second
  // task asking for an encoder being loaded must wait for it, not load it again.
  public static synchronized MultiLayerNetwork get(
      String sha256, Broadcast<byte[]> modelBytes, String modality) {
    MultiLayerNetwork net = LOADED.get(sha256);
    if (net == null) {
      loads++;
      net = EncoderArtifact.restore(modelBytes.value(), sha256, "of modality '" + modality + "'");
      LOADED.put(sha256, net);
    }
    return net;
  }

  /** How many encoders this JVM has deserialised so far. */
  public static synchronized int loads() {
    return loads;
  }

  /** How many encoders this JVM holds now. */
  public static synchronized int size() {
    return LOADED.size();
  }
}
