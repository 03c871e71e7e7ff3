package org.cohortfusion.registry;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * One entry of a model's append-only event log ({@code <registry>/<name>/events/<seq>.json}).
 *
 * @param seq position in the log, from 1
 * @param type {@link #REGISTERED}, {@link #PROMOTED} or {@link #ROLLED_BACK}
 * @param alias the alias moved (null for a registration)
 * @param version the version registered, or the alias's new version
 * @param previous the alias's version before (null if it had none)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RegistryEvent(
    long seq,
    String type,
    String model,
    String alias,
    Integer version,
    Integer previous,
    String reason,
    String runId,
    String user,
    String time) {
  public static final String REGISTERED = "registered";
  public static final String PROMOTED = "promoted";
  public static final String ROLLED_BACK = "rolled-back";
}
