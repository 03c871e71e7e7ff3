package org.cohortfusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.bench.SyntheticEmbeddings;
import org.cohortfusion.cli.CohortFusion;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.evaluate.report.ReportAction;
import org.cohortfusion.evaluate.report.ReportResult;
import org.cohortfusion.testing.SparkTestSession;
import org.cohortfusion.train.TrainAction;
import org.junit.jupiter.api.Test;

/**
 * Three classes through train -> evaluate (CLI) -> report: probabilities as arrays, macro
 * one-vs-rest metrics, no truth.
 */
class EvaluateMulticlassTest {
  @Test
  void threeClassCohortIsEvaluatedAndReported() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Path root = Files.createTempDirectory("cf-eval-k3");
    SyntheticEmbeddings.write(
        spark,
        root.resolve("out/embeddings").toString(),
        800,
        new double[] {0.2, 0.2, 0.2},
        1.0,
        9,
        3);
    Path conf = root.resolve("k3.conf");
    Files.writeString(
        conf,
        """
        subjects { path = s.csv }
        modalities { clinical { kind = tabular, path = c.csv } }
        output { dir = "%s" }
        fusion { models { mean { what = [clinical, labs, imaging], how = mean, projection = 8, head = [16] } }
                 baselines = [early] }
        train { mode = local, epochs = 2, batch-size = 32, learning-rate = 0.01, seed = 5 }
        """
            .formatted(root.resolve("out")));
    PipelineConfig config = PipelineConfigLoader.load(conf.toFile(), List.of());
    TrainAction.of(spark, config).execute();
    // The evaluate command of the CLI, in process (the session is the test JVM's).
    assertEquals(0, CohortFusion.run("evaluate", "-c", conf.toString()));
    EvaluateResult result =
        EvaluateAction.read(spark.sparkContext().hadoopConfiguration(), config.evaluateOutputDir());

    assertEquals(3, result.numClasses());
    assertEquals(
        List.of("mean", "early"),
        result.models().stream().map(EvaluateResult.ModelEvaluation::name).toList());
    assertNull(result.bayesOptimalAuroc(), "no true probability for three classes");
    List<Row> predictions =
        spark
            .read()
            .parquet(result.predictionsPath())
            .where("model = 'mean'")
            .select("probability", "label")
            .collectAsList();
    assertEquals(result.subjects(), predictions.size());
    double[][] probs = new double[predictions.size()][];
    int[] labels = new int[predictions.size()];
    for (int i = 0; i < predictions.size(); i++) {
      List<Double> p = predictions.get(i).getList(0);
      assertEquals(3, p.size());
      assertEquals(1.0, p.stream().mapToDouble(Double::doubleValue).sum(), 1e-5);
      probs[i] = p.stream().mapToDouble(Double::doubleValue).toArray();
      labels[i] = predictions.get(i).getInt(1);
    }
    EvaluateResult.ModelEvaluation mean = result.get("mean");
    // The metrics by their documented definitions, computed apart (not by ClassificationMetrics):
    // macro one-vs-rest
    // AUROC by pair counting, arg-max accuracy (ties to the lower class), mean per-class recall,
    // Brier summed over
    // the classes, top-label ECE over 10 equal-width bins.
    int n = labels.length;
    double auroc = 0;
    int[] predicted = new int[n];
    double brier = 0;
    for (int i = 0; i < n; i++) {
      for (int k = 1; k < 3; k++) {
        if (probs[i][k] > probs[i][predicted[i]]) {
          predicted[i] = k;
        }
      }
      for (int k = 0; k < 3; k++) {
        double y = labels[i] == k ? 1 : 0;
        brier += (probs[i][k] - y) * (probs[i][k] - y);
      }
    }
    double recall = 0;
    for (int k = 0; k < 3; k++) {
      double[] scores = new double[n];
      int[] oneVsRest = new int[n];
      int ofClass = 0;
      int hits = 0;
      for (int i = 0; i < n; i++) {
        scores[i] = probs[i][k];
        oneVsRest[i] = labels[i] == k ? 1 : 0;
        ofClass += oneVsRest[i];
        hits += labels[i] == k && predicted[i] == k ? 1 : 0;
      }
      assertTrue(ofClass > 0 && ofClass < n, "class " + k + " present with others");
      auroc += EvaluateResultTest.pairCountingAuroc(scores, oneVsRest) / 3;
      recall += (double) hits / ofClass / 3;
    }
    double[] binCount = new double[10];
    double[] binConfidence = new double[10];
    double[] binCorrect = new double[10];
    long correct = 0;
    for (int i = 0; i < n; i++) {
      double confidence = probs[i][predicted[i]];
      int b = Math.min(9, (int) Math.floor(confidence * 10));
      binCount[b]++;
      binConfidence[b] += confidence;
      binCorrect[b] += predicted[i] == labels[i] ? 1 : 0;
      correct += predicted[i] == labels[i] ? 1 : 0;
    }
    double ece = 0;
    for (int b = 0; b < 10; b++) {
      if (binCount[b] > 0) {
        ece +=
            binCount[b]
                / n
                * Math.abs(binCorrect[b] / binCount[b] - binConfidence[b] / binCount[b]);
      }
    }
    assertEquals(n, mean.test().n());
    assertEquals(auroc, mean.test().auroc(), 1e-9);
    assertEquals((double) correct / n, mean.test().accuracy(), 1e-12);
    assertEquals(recall, mean.test().balancedAccuracy(), 1e-9);
    assertEquals(brier / n, mean.test().brier(), 1e-9);
    assertEquals(ece, mean.test().ece(), 1e-9);
    assertTrue(mean.test().auroc() > 0.6, "macro one-vs-rest AUROC " + mean.test().auroc());

    ReportResult report = ReportAction.of(spark, config).execute();
    String html = Files.readString(Path.of(report.indexHtml()));
    assertTrue(html.contains("One-vs-rest ROC curves of class 2"), "multiclass ROC caption");
    assertTrue(!html.contains("<tr class=\"bayes\">"), "no Bayes row without a truth");
  }
}
