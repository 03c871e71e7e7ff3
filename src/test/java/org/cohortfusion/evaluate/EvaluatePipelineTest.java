package org.cohortfusion.evaluate;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.bench.SyntheticEmbeddings;
import org.cohortfusion.cli.CohortFusion;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.evaluate.report.ReportAction;
import org.cohortfusion.evaluate.report.ReportResult;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.testing.SparkTestSession;
import org.cohortfusion.train.TrainAction;
import org.cohortfusion.train.TrainResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end on a tiny synthetic embeddings cohort with a known truth (every modality carries
 * signal, 30% MCAR missingness per modality): train (local, few epochs) -> evaluate -> report, once
 * for the class.
 */
class EvaluatePipelineTest {
  static final List<String> MODELS =
      List.of("mean", "unimodal:clinical", "unimodal:labs", "unimodal:imaging", "early", "late");
  static SparkSession spark;
  static Path conf;
  static PipelineConfig config;
  static EmbeddingsSpec embeddings;
  static EvaluateResult result;
  static ReportResult report;

  @BeforeAll
  static void trainEvaluateReport() throws Exception {
    spark = SparkTestSession.get();
    Path root = Files.createTempDirectory("cf-eval");
    embeddings =
        SyntheticEmbeddings.write(
            spark,
            root.resolve("out/embeddings").toString(),
            1500,
            new double[] {0.3, 0.3, 0.3},
            1.0,
            5);
    conf = root.resolve("eval.conf");
    Files.writeString(
        conf,
        """
        name = eval-test
        subjects { path = s.csv }
        modalities { clinical { kind = tabular, path = c.csv } }
        output { dir = "%s" }
        fusion { models { mean { what = [clinical, labs, imaging], how = mean, projection = 8, head = [16] } } }
        train { mode = local, epochs = 3, batch-size = 32, learning-rate = 0.01, seed = 3 }
        evaluate { min-pattern-size = 25 }
        """
            .formatted(root.resolve("out")));
    config = PipelineConfigLoader.load(conf.toFile(), List.of());
    TrainResult trained = TrainAction.of(spark, config).execute();
    assertEquals(MODELS, trained.models().stream().map(TrainResult.ModelResult::name).toList());
    result = EvaluateAction.of(spark, config).progress(System.out::println).execute();
    report = ReportAction.of(spark, config).execute();
    System.out.print(result.summary());
  }

  /**
   * The console summary: best model, its margin over the best unimodal model, its worst pattern.
   */
  @Test
  void summaryNamesTheBestModelItsMarginAndItsWorstPattern() {
    EvaluateResult.ModelEvaluation best = result.best();
    EvaluateResult.ModelEvaluation bestUnimodal = result.bestUnimodal().orElseThrow();
    EvaluateResult.PatternMetrics worst = best.worstPattern().orElseThrow();
    // The best model and its worst pattern by AUROCs computed apart, by pair counting over the
    // predictions file.
    Map<String, Double> plain = plainAurocs(null);
    assertEquals(MODELS.size(), plain.size());
    assertEquals(
        plain.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey(),
        best.name(),
        plain.toString());
    assertEquals(plain.get(best.name()), best.test().auroc(), 1e-9);
    Map<String, Double> byPattern = plainAurocs(best.name());
    assertEquals(
        byPattern.entrySet().stream().min(Map.Entry.comparingByValue()).orElseThrow().getKey(),
        worst.pattern(),
        byPattern.toString());
    assertEquals(byPattern.get(worst.pattern()), worst.metrics().auroc(), 1e-9);
    String summary = result.summary();
    assertTrue(summary.contains("Best model (test AUROC): " + best.name()), summary);
    assertTrue(
        summary.contains(
            String.format(
                Locale.ROOT,
                "Margin over the best unimodal model (%s, %.4f): %+.4f",
                bestUnimodal.name(),
                bestUnimodal.test().auroc(),
                best.test().auroc() - bestUnimodal.test().auroc())),
        summary);
    assertTrue(
        summary.contains("Worst missingness pattern of " + best.name() + ": " + worst.pattern()),
        summary);
  }

  /**
   * Every model is compared with the best unimodal model on the same subjects: the paired AUROCs
   * are the models' own test AUROCs (computed apart, by ClassificationMetrics), and the summary
   * prints the interval of the best model's.
   */
  @Test
  void everyModelGetsAPairedIntervalAgainstTheBestUnimodalModel() {
    EvaluateResult.ModelEvaluation u = result.bestUnimodal().orElseThrow();
    for (EvaluateResult.ModelEvaluation m : result.models()) {
      if (m.name().equals(u.name())) {
        assertTrue(result.comparison(m.name(), u.name()).isEmpty());
        continue;
      }
      PairedAuroc p =
          result.comparison(m.name(), u.name()).orElseThrow(() -> new AssertionError(m.name()));
      assertEquals(m.test().auroc(), p.aurocA(), 1e-12, m.name());
      assertEquals(u.test().auroc(), p.aurocB(), 1e-12, m.name());
      assertTrue(
          p.lower() <= p.difference() && p.difference() <= p.upper() && p.standardError() > 0,
          m.name());
      assertEquals(result.subjects(), p.positives() + p.negatives());
    }
    PairedAuroc best = result.comparison(result.best().name(), u.name()).orElseThrow();
    assertTrue(
        result
            .summary()
            .contains(
                String.format(
                    Locale.ROOT, "(paired 95%% CI %+.4f to %+.4f)", best.lower(), best.upper())),
        result.summary());
  }

  /**
   * A train output moved elsewhere (another working directory, a copied run) still evaluates: late
   * fusion finds its members under the directory it is read from, not under the path the trainer
   * was given.
   */
  @Test
  void aMovedTrainOutputEvaluatesTheSameLateFusion() throws Exception {
    Path original = Path.of(config.trainOutputDir());
    Path moved = Files.createTempDirectory("cf-moved").resolve("train");
    org.apache.commons.io.FileUtils.copyDirectory(original.toFile(), moved.toFile());
    Path away = original.resolveSibling("train.away");
    Files.move(original, away);
    EvaluateResult again;
    try {
      again =
          EvaluateAction.of(spark, config)
              .trainDir(moved.toString())
              .outputDir(moved.resolveSibling("evaluate").toString())
              .execute();
    } finally {
      Files.move(away, original);
    }
    EvaluateResult.ModelEvaluation late =
        again.models().stream().filter(m -> m.name().equals("late")).findFirst().orElseThrow();
    assertEquals(
        result.models().stream()
            .filter(m -> m.name().equals("late"))
            .findFirst()
            .orElseThrow()
            .test(),
        late.test());
  }

  @Test
  void everyTrainedModelIsEvaluatedOnTheTestSplit() {
    assertEquals(
        MODELS, result.models().stream().map(EvaluateResult.ModelEvaluation::name).toList());
    long testSubjects =
        spark
            .read()
            .parquet(config.embeddingsDir() + "/table")
            .where(col("split").equalTo("test").and(col("label").isNotNull()))
            .count();
    assertEquals(testSubjects, result.subjects());
    // The Bayes-optimal AUROC and every model's distance to it, computed apart: pair counting over
    // the table's true
    // probabilities and over the predictions file.
    List<Row> truth =
        spark
            .read()
            .parquet(config.embeddingsDir() + "/table")
            .where(col("split").equalTo("test").and(col("label").isNotNull()))
            .select("true_probability", "label")
            .collectAsList();
    double bayes =
        EvaluateResultTest.pairCountingAuroc(
            truth.stream().mapToDouble(r -> r.getDouble(0)).toArray(),
            truth.stream().mapToInt(r -> r.getInt(1)).toArray());
    Map<String, Double> plain = plainAurocs(null);
    for (EvaluateResult.ModelEvaluation m : result.models()) {
      assertEquals(testSubjects, m.test().n(), m.name());
      assertTrue(m.test().auroc() > 0.6, m.name() + " AUROC " + m.test().auroc());
      assertEquals(result.removalRates().size(), m.robustness().size());
      assertEquals(Set.of("clinical", "labs", "imaging"), m.ablation().keySet());
      assertNotNull(m.describe());
      assertEquals(bayes - plain.get(m.name()), m.distanceToBayes(), 1e-9, m.name());
    }
    assertEquals(bayes, result.bayesOptimalAuroc(), 1e-9);
    // The truth is known: the generator's probability ranks better than any model trained for 3
    // epochs.
    assertTrue(result.bayesOptimalAuroc() > result.best().test().auroc(), result.summary());
    // metrics.json reads back to the same result.
    assertEquals(
        result,
        EvaluateAction.read(
            spark.sparkContext().hadoopConfiguration(), config.evaluateOutputDir()));
  }

  @Test
  void predictionsAndPerPatternMetricsAgreeWithTheFilteredSubsets() {
    Dataset<Row> predictions = spark.read().parquet(result.predictionsPath());
    assertEquals(
        List.of("subject_id", "model", "probability", "label", "pattern"),
        List.of(predictions.columns()));
    assertEquals(result.subjects() * MODELS.size(), predictions.count());
    EvaluateResult.ModelEvaluation mean = result.get("mean");
    assertEquals(
        result.subjects(),
        mean.patterns().stream().mapToLong(EvaluateResult.PatternMetrics::n).sum());
    for (EvaluateResult.PatternMetrics p : mean.patterns()) {
      List<Row> subset =
          predictions
              .where(col("model").equalTo("mean").and(col("pattern").equalTo(p.pattern())))
              .select("probability", "label")
              .collectAsList();
      assertEquals(p.n(), subset.size(), p.pattern());
      assertEquals(p.n() < 25, p.tooSmall(), p.pattern());
      double[][] probs = new double[subset.size()][];
      int[] labels = new int[subset.size()];
      for (int i = 0; i < subset.size(); i++) {
        double p1 = subset.get(i).getDouble(0);
        probs[i] = new double[] {1 - p1, p1};
        labels[i] = subset.get(i).getInt(1);
      }
      ClassificationMetrics direct = ClassificationMetrics.of(probs, labels, 2);
      assertEquals(direct.auroc(), p.metrics().auroc(), 1e-6, p.pattern());
      assertEquals(direct.brier(), p.metrics().brier(), 1e-6, p.pattern());
      assertEquals(direct.ece(), p.metrics().ece(), 1e-6, p.pattern());
    }
    // The 7 non-empty patterns of three MCAR modalities, named in the embeddings' modality order.
    assertTrue(
        mean.patterns().stream()
            .anyMatch(p -> p.pattern().equals(String.join("+", embeddings.modalityNames()))));
  }

  /**
   * AUROC by pair counting ({@link EvaluateResultTest#pairCountingAuroc}) over the predictions
   * file: per model, or with {@code model} given, per missingness pattern of that model, leaving
   * out patterns under min-pattern-size subjects or of one class.
   */
  private static Map<String, Double> plainAurocs(String model) {
    Dataset<Row> predictions = spark.read().parquet(result.predictionsPath());
    if (model != null) {
      predictions = predictions.where(col("model").equalTo(model));
    }
    Map<String, List<Row>> groups = new java.util.TreeMap<>();
    for (Row r :
        predictions
            .select(model == null ? "model" : "pattern", "probability", "label")
            .collectAsList()) {
      groups.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(r);
    }
    Map<String, Double> out = new java.util.TreeMap<>();
    groups.forEach(
        (key, rows) -> {
          int[] labels = rows.stream().mapToInt(r -> r.getInt(2)).toArray();
          boolean bothClasses = java.util.Arrays.stream(labels).distinct().count() == 2;
          if (model == null || (rows.size() >= 25 && bothClasses)) {
            out.put(
                key,
                EvaluateResultTest.pairCountingAuroc(
                    rows.stream().mapToDouble(r -> r.getDouble(1)).toArray(), labels));
          }
        });
    return out;
  }

  /**
   * Removing modalities at test time hurts models that use several of them, more the higher the
   * rate. One set of removals is one draw: between adjacent rates the AUROC may rise by sampling
   * noise, so a step may rise by at most one standard error of the AUROC (Hanley and McNeil 1982,
   * from the test split's class counts), not by a fixed figure.
   */
  @Test
  void robustnessCurvesFallAsModalitiesAreRemoved() {
    long positives =
        spark
            .read()
            .parquet(result.predictionsPath())
            .where(col("model").equalTo("mean").and(col("label").equalTo(1)))
            .count();
    long negatives = result.subjects() - positives;
    for (String name : List.of("mean", "early", "late")) {
      List<ClassificationMetrics> curve = result.get(name).robustness();
      String shown =
          curve.stream()
              .map(c -> String.format(Locale.ROOT, "%.3f", c.auroc()))
              .collect(Collectors.joining(" "));
      assertTrue(
          curve.get(curve.size() - 1).auroc() < curve.get(0).auroc() - 0.1, name + ": " + shown);
      for (int i = 1; i < curve.size(); i++) {
        double se = hanleyMcNeil(curve.get(i - 1).auroc(), positives, negatives);
        assertTrue(
            curve.get(i).auroc() <= curve.get(i - 1).auroc() + se,
            name + " at rate index " + i + ": " + shown + " (standard error " + se + ")");
      }
      assertEquals(result.get(name).test(), curve.get(0));
    }
    // A unimodal model only loses when its own modality is ablated.
    EvaluateResult.ModelEvaluation labs = result.get("unimodal:labs");
    assertEquals(labs.test().auroc(), labs.ablation().get("clinical").auroc(), 1e-12);
    assertTrue(labs.ablation().get("labs").auroc() < labs.test().auroc() - 0.1);
  }

  /** Standard error of an AUROC {@code a} on these class counts (Hanley and McNeil 1982). */
  static double hanleyMcNeil(double a, long positives, long negatives) {
    double q1 = a / (2 - a);
    double q2 = 2 * a * a / (1 + a);
    double variance =
        (a * (1 - a) + (positives - 1) * (q1 - a * a) + (negatives - 1) * (q2 - a * a))
            / ((double) positives * negatives);
    return Math.sqrt(variance);
  }

  @Test
  void reportEmbedsEveryPlotAndListsEveryModel() throws Exception {
    String html = Files.readString(Path.of(report.indexHtml()));
    List<String> expected =
        List.of(
            ReportAction.FIG_ROC,
            ReportAction.FIG_TRAINING,
            ReportAction.FIG_PATTERNS,
            ReportAction.FIG_ROBUSTNESS);
    assertEquals(expected, report.figures());
    for (String id : expected) {
      Matcher img =
          Pattern.compile(
                  "<img id=\"" + id + "\"[^>]* src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"")
              .matcher(html);
      assertTrue(img.find(), "no image " + id);
      byte[] png = java.util.Base64.getDecoder().decode(img.group(1));
      java.awt.image.BufferedImage image =
          javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png));
      assertNotNull(image, id + " does not decode as PNG");
      assertEquals(800, image.getWidth(), id);
      assertEquals(500, image.getHeight(), id);
      assertTrue(png.length > 10_000, id + " has only " + png.length + " bytes");
    }
    String table =
        html.substring(html.indexOf("<table id=\"comparison\">"), html.indexOf("</table>"));
    for (EvaluateResult.ModelEvaluation m : result.models()) {
      assertTrue(table.contains("<td class=\"l\">" + m.name() + "</td>"), m.name());
      assertTrue(table.contains(m.describe()), m.describe());
      assertTrue(report.comparisonTable().contains(m.name()), m.name());
    }
    assertTrue(table.contains("<tr class=\"bayes\">"));
    // The paired interval of every model but the best unimodal one sits beside its margin.
    String unimodal = result.bestUnimodal().orElseThrow().name();
    for (EvaluateResult.ModelEvaluation m : result.models()) {
      result
          .comparison(m.name(), unimodal)
          .ifPresent(
              p ->
                  assertTrue(
                      table.contains(
                          String.format(
                              Locale.ROOT,
                              "<span class=\"ci\">[%+.3f, %+.3f]</span>",
                              p.lower(),
                              p.upper())),
                      m.name()));
    }
    assertEquals(
        result.models().size() - 1,
        result.comparisons().stream().filter(c -> c.reference().equals(unimodal)).count());
    // Train records every epoch, so the report draws real training curves, not the fallback bars.
    assertTrue(
        html.contains("Validation AUROC after every epoch"), "training-curve caption missing");
    assertTrue(
        report.notes().stream().noneMatch(n -> n.contains("No per-epoch history")),
        report.notes().toString());
  }

  @Test
  void cliReportPrintsTheComparisonTableAndThePath() throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int reportCode;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      reportCode = CohortFusion.run("report", "-c", conf.toString());
    } finally {
      System.setOut(stdout);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    assertEquals(0, reportCode);
    assertTrue(out.contains(ReportAction.comparisonTable(result)), out);
    assertTrue(out.contains(result.summary()), out);
    assertTrue(out.contains("Report written to " + config.reportOutputDir() + "/index.html"), out);
    List<String> leftovers = new ArrayList<>();
    try (var s = Files.list(Path.of(config.output().dir()))) {
      s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).forEach(leftovers::add);
    }
    assertFalse(
        leftovers.stream().anyMatch(n -> n.contains(".tmp-") || n.contains(".old-")),
        leftovers.toString());
  }
}
