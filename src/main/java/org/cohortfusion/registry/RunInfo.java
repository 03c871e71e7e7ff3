package org.cohortfusion.registry;

import java.util.UUID;

/** Who changes the registry and why, recorded with every event. */
public record RunInfo(String runId, String user, String reason) {
  public RunInfo {
    runId = runId == null || runId.isBlank() ? UUID.randomUUID().toString() : runId;
    user = user == null || user.isBlank() ? System.getProperty("user.name", "unknown") : user;
    reason = reason == null ? "" : reason;
  }

  public static RunInfo of(String reason) {
    return new RunInfo(null, null, reason);
  }
}
