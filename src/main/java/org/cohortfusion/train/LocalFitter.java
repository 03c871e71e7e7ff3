package org.cohortfusion.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.cohortfusion.fit.EpochFitter;
import org.cohortfusion.fusion.ops.ModalityDropout;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * An epoch in this process: the train split's minibatches in a shuffled order drawn from the seed
 * and the epoch, each with modality dropout (ModDrop, Neverova et al. 2016) drawn the same way.
 */
final class LocalFitter implements EpochFitter<ComputationGraph> {
  private final List<Batch> batches;
  private final double modalityDropout;
  private final long seed;

  LocalFitter(List<Batch> batches, double modalityDropout, long seed) {
    this.batches = batches;
    this.modalityDropout = modalityDropout;
    this.seed = seed;
  }

  @Override
  public ComputationGraph fitEpoch(ComputationGraph graph, int epoch) {
    graph.getConfiguration().setEpochCount(epoch - 1);
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < batches.size(); i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(seed * 1_000_003L + epoch));
    Random drop = new Random(seed * 7_919L + epoch);
    for (int i : order) {
      MultiDataSet mds = batches.get(i).toMultiDataSet();
      if (modalityDropout > 0) {
        mds = withModalityDropout(mds, modalityDropout, drop);
      }
      graph.fit(mds);
    }
    return graph;
  }

  @Override
  public long examples() {
    return batches.stream().mapToLong(Batch::size).sum();
  }

  private static MultiDataSet withModalityDropout(MultiDataSet mds, double rate, Random rng) {
    return new org.nd4j.linalg.dataset.MultiDataSet(
        ModalityDropout.hide(mds.getFeatures(), rate, rng),
        mds.getLabels(),
        mds.getFeaturesMaskArrays(),
        mds.getLabelsMaskArrays());
  }
}
