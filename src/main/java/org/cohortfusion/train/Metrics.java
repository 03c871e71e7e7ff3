package org.cohortfusion.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.evaluation.classification.ROC;
import org.nd4j.evaluation.classification.ROCMultiClass;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Held-out metrics with ND4J's evaluation classes (exact ROC: threshold steps 0): AUROC (binary ROC on the
 * positive-class probability; mean one-vs-all AUROC for more classes), mean cross-entropy and accuracy.
 *
 * @param auroc area under the ROC curve
 * @param loss mean multi-class cross-entropy of the predicted probabilities
 * @param accuracy fraction of arg-max predictions equal to the label
 * @param n number of examples
 */
public record Metrics(double auroc, double loss, double accuracy, long n) {

  /** Something that predicts class probabilities for a batch holding every modality of the embeddings. */
  @FunctionalInterface
  public interface Predictor {
    INDArray predict(Batch batch);
  }

  public static Metrics evaluate(Predictor predictor, List<Batch> batches, int numClasses) {
    ROC roc = new ROC(0);
    ROCMultiClass rocMulti = new ROCMultiClass(0);
    Evaluation eval = new Evaluation(numClasses);
    double lossSum = 0;
    long n = 0;
    for (Batch b : batches) {
      if (b.size() == 0) {
        continue;
      }
      MultiDataSet mds = b.toMultiDataSet();
      INDArray labels = mds.getLabels(0);
      INDArray probs = predictor.predict(b);
      if (numClasses == 2) {
        roc.eval(labels, probs);
      } else {
        rocMulti.eval(labels, probs);
      }
      eval.eval(labels, probs);
      INDArray logp = Transforms.log(Transforms.max(probs, 1e-7, true), false);
      lossSum -= logp.mul(labels).sumNumber().doubleValue();
      n += b.size();
    }
    if (n == 0) {
      throw new IllegalArgumentException("Cannot compute metrics: no labeled examples");
    }
    double auc = numClasses == 2 ? roc.calculateAUC() : rocMulti.calculateAverageAUC();
    return new Metrics(auc, lossSum / n, eval.accuracy(), n);
  }

  public Map<String, Double> asMap() {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("auroc", auroc);
    m.put("loss", loss);
    m.put("accuracy", accuracy);
    m.put("n", (double) n);
    return m;
  }
}
