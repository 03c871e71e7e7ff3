package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RunCommandTest {
  /** A stage range out of order, or a stage that does not exist, is a user error before any stage runs. */
  @Test
  void aBadStageRangeIsAUserError() {
    assertEquals(2, CohortFusion.run("run", "--config", "conf/demo.conf", "--from", "train", "--to", "ingest"));
    assertEquals(2, CohortFusion.run("run", "--config", "conf/demo.conf", "--from", "generate"));
  }
}
