package org.cohortfusion.train;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.cohortfusion.spark.HeldOutStorage;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * The validation split a model is scored on after every epoch: its batches collected once to the
 * driver, or left on the executors (cached on their disks) and scored where they live by {@link
 * ExecutorMetrics}, so that the driver's memory does not grow with the split.
 */
final class HeldOut {
  private final JavaRDD<Batch> distributed;
  private final boolean survival;
  private List<Batch> local;

  private HeldOut(List<Batch> local, JavaRDD<Batch> distributed, boolean survival) {
    this.local = local;
    this.distributed = distributed;
    this.survival = survival;
  }

  /** Batches on the driver (the batches say whether their labels are survival codes). */
  static HeldOut onDriver(List<Batch> batches) {
    return new HeldOut(batches, null, false);
  }

  /**
   * Batches cached on the executors (on their local disks), computed once on first use; {@code
   * survival}: their labels are survival codes, scored as a survival model's hazards.
   */
  static HeldOut onExecutors(JavaRDD<Batch> batches, boolean survival) {
    return new HeldOut(null, batches.persist(HeldOutStorage.LEVEL), survival);
  }

  boolean onExecutors() {
    return distributed != null;
  }

  /** The metrics of a graph reading the modality columns {@code columns} of each batch. */
  Metrics score(ComputationGraph graph, int[] columns, int numClasses) {
    if (distributed == null) {
      return Metrics.evaluate(TrainedModels.graph(graph, columns), local, numClasses);
    }
    return survival
        ? ExecutorMetrics.survival(distributed, graph, columns)
        : ExecutorMetrics.evaluate(distributed, graph, columns, numClasses);
  }

  /**
   * The batches on the driver, collected on first use when they live on the executors: late fusion
   * combines several unimodal graphs per batch and is scored there.
   */
  List<Batch> collected() {
    if (local == null) {
      local = new ArrayList<>(distributed.collect());
    }
    return local;
  }

  /** Drops the executors' cached copy. */
  void release() {
    if (distributed != null) {
      distributed.unpersist(false);
    }
  }
}
