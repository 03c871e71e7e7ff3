package org.cohortfusion.evaluate;

import java.util.List;

/**
 * Class probabilities of the test subjects under every scenario at once (the test split as it is,
 * and with modalities removed). One row per subject in {@link TestSplit} order, one matrix per
 * scenario. Scoring every scenario in one call lets a Spark job score them together.
 */
@FunctionalInterface
interface Scorer {
  /**
   * @param scenarios the scenarios, as executors rebuild them from subject ids
   * @param presence per scenario of {@code scenarios}, the presence it leaves ({@code n * m}, in
   *     TestSplit order; {@link Scenarios#presence(TestSplit)}), for scorers on the driver
   */
  List<double[][]> score(Scenarios scenarios, List<float[]> presence);
}
