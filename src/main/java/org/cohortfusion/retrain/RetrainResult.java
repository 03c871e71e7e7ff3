package org.cohortfusion.retrain;

import java.util.List;

/**
 * What a retrain decided, as written to {@code retrain.json} for schedulers.
 *
 * @param runId the run
 * @param model the registry model name
 * @param promoted whether the challenger became the champion
 * @param version the challenger's registry version
 * @param championBefore the champion version before this run (null: none)
 * @param championAfter the champion version after it (-1: none)
 * @param comparedWith what the challenger was judged against: "champion vN" or "best unimodal model
 *     (name)"
 * @param criteria the gate's criteria with both sides' numbers
 * @param drift drift of the training split from the champion's (null without a champion)
 * @param lineage the challenger's lineage, as registered
 * @param reportPath the HTML report
 * @param resultPath this file
 */
public record RetrainResult(
    String runId,
    String model,
    boolean promoted,
    int version,
    Integer championBefore,
    int championAfter,
    String comparedWith,
    List<Gate.Criterion> criteria,
    CohortProfile.Drift drift,
    Lineage lineage,
    String reportPath,
    String resultPath) {
  public RetrainResult {
    criteria = List.copyOf(criteria);
  }

  /** The console summary: the gate table and the decision. */
  public String summary() {
    StringBuilder s =
        new StringBuilder(
            "Gate: "
                + model
                + " v"
                + version
                + " (challenger) against "
                + comparedWith
                + System.lineSeparator());
    s.append(
        new Gate.Decision(promoted || criteria.stream().allMatch(Gate.Criterion::passed), criteria)
            .table());
    s.append(
        promoted
            ? "Decision: PROMOTED "
                + model
                + " v"
                + version
                + " to champion"
                + (championBefore == null
                    ? ""
                    : " (previous champion v" + championBefore + "; registry rollback restores it)")
            : "Decision: NOT PROMOTED; "
                + model
                + " v"
                + version
                + " is registered as challenger, "
                + (championAfter < 0
                    ? "and there is no champion yet"
                    : "the champion stays v" + championAfter));
    return s.append(System.lineSeparator()).toString();
  }
}
