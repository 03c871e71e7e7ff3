package org.cohortfusion.features.batch;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Network inputs for a batch of subjects.
 *
 * @param features [N, F] (flat kinds), [N, C, H, W] (image) or [N, 2C, T] (timeseries: C
 *     standardised value channels then C observed-mask channels)
 * @param featureMask timeseries: [N, T], 1 at steps holding an observation (DL4J's time-series
 *     feature mask, so padded steps change nothing); null for other kinds
 */
public record FeatureBatch(INDArray features, INDArray featureMask) {

  public long size() {
    return features.size(0);
  }
}
