package org.cohortfusion.evaluate;

import java.util.List;
import org.cohortfusion.train.Batch;
import org.cohortfusion.train.Metrics;

/**
 * Class probabilities of the test subjects under several scenarios at once (the test split as it
 * is, and with modalities removed: presence 0 in the batches). One row per subject in {@link
 * TestSplit} order, one matrix per scenario. Scoring every scenario in one call lets a Spark ML
 * model score them in one job.
 */
@FunctionalInterface
interface Scorer {
  List<double[][]> score(List<List<Batch>> scenarios);

  /** A DL4J predictor, batch by batch. */
  static Scorer of(Metrics.Predictor predictor) {
    return scenarios -> scenarios.stream().map(b -> EvaluateAction.predict(predictor, b)).toList();
  }
}
