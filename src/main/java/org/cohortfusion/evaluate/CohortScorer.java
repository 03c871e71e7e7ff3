package org.cohortfusion.evaluate;

import java.util.ArrayList;
import java.util.List;
import org.cohortfusion.train.Batch;
import org.cohortfusion.train.Metrics;

/**
 * Scores an end-to-end model (inputs: the aligned cohort's preprocessed features) under the same
 * scenarios as every other model: the presence each scenario leaves to a test subject (its presence
 * matrix, so removals are exactly those the other models see) is applied to the subject's
 * preprocessed features — a removed modality is zeros and presence 0, as absent modalities are in
 * training.
 */
final class CohortScorer implements Scorer {
  private final Metrics.Predictor predictor;
  private final List<Batch> features;
  private final int[] embeddingsIndex;
  private final int numModalities;

  /**
   * @param predictor the model, on batches of {@code features}' layout
   * @param features the test subjects' preprocessed features, consecutive in {@link TestSplit}
   *     order
   * @param embeddingsIndex per modality of {@code features}, its position in the embeddings' order
   * @param numModalities modalities of the embeddings (columns of a scenario's presence)
   */
  CohortScorer(
      Metrics.Predictor predictor, List<Batch> features, int[] embeddingsIndex, int numModalities) {
    this.predictor = predictor;
    this.features = features;
    this.embeddingsIndex = embeddingsIndex.clone();
    this.numModalities = numModalities;
  }

  @Override
  public List<double[][]> score(Scenarios scenarios, List<float[]> presenceByScenario) {
    List<double[][]> out = new ArrayList<>();
    for (float[] presence : presenceByScenario) {
      int n = presence.length / numModalities;
      List<Batch> applied = new ArrayList<>();
      int offset = 0;
      for (Batch f : features) {
        int mm = f.numModalities();
        float[] p = new float[f.size() * mm];
        for (int r = 0; r < f.size(); r++) {
          for (int j = 0; j < mm; j++) {
            p[r * mm + j] =
                f.presence()[r * mm + j]
                    * presence[(offset + r) * numModalities + embeddingsIndex[j]];
          }
        }
        applied.add(f.withPresence(p));
        offset += f.size();
      }
      if (offset != n) {
        throw new IllegalStateException(
            "Cannot score end-to-end model: "
                + offset
                + " cohort test subjects, "
                + n
                + " embeddings test subjects");
      }
      out.add(EvaluateAction.predict(predictor, applied));
    }
    return out;
  }
}
