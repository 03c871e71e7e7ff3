package org.cohortfusion.cohort.contract;

import org.cohortfusion.config.CheckPolicy;

/**
 * Why an input row was not accepted. Each reason is also a check whose policy (error or reject) is
 * configurable per table under {@code checks.<check>}; data-schemas/rejects.json documents them.
 */
public enum RejectReason {
  NULL_ID("null-id", CheckPolicy.REJECT),
  MALFORMED_ID("malformed-id", CheckPolicy.REJECT),
  NULL_VALUE("null-value", CheckPolicy.REJECT),
  NON_FINITE("non-finite", CheckPolicy.REJECT),
  WRONG_LENGTH("wrong-length", CheckPolicy.REJECT),
  BAD_SHAPE("bad-shape", CheckPolicy.REJECT),
  BAD_LABEL("bad-label", CheckPolicy.REJECT),
  BAD_SPLIT("bad-split", CheckPolicy.REJECT),
  BAD_INDEX_TIME("bad-index-time", CheckPolicy.REJECT),
  BAD_OUTCOME("bad-outcome", CheckPolicy.REJECT),
  DUPLICATE("duplicate", CheckPolicy.REJECT),
  UNKNOWN_SUBJECT("unknown-subject", CheckPolicy.REJECT),
  NO_MODALITY("no-modality", CheckPolicy.REJECT),
  MALFORMED_RECORD("malformed-record", CheckPolicy.REJECT),
  NON_NUMERIC("non-numeric", CheckPolicy.REJECT),
  UNREADABLE_FILE("unreadable-file", CheckPolicy.ERROR);

  private final String check;
  private final CheckPolicy defaultPolicy;

  RejectReason(String check, CheckPolicy defaultPolicy) {
    this.check = check;
    this.defaultPolicy = defaultPolicy;
  }

  public String check() {
    return check;
  }

  public CheckPolicy defaultPolicy() {
    return defaultPolicy;
  }

  public static RejectReason forCheck(String check) {
    for (RejectReason r : values()) {
      if (r.check.equals(check)) {
        return r;
      }
    }
    return null;
  }
}
