package org.cohortfusion.cohort.ingest;

import org.apache.spark.sql.Column;
import org.cohortfusion.cohort.contract.RejectReason;

/**
 * A row-level check: when {@code failed} is true the row gets {@code reason} and {@code message}.
 */
record RowCheck(Column failed, RejectReason reason, Column message) {}
