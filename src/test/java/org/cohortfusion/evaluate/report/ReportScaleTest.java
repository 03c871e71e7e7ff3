package org.cohortfusion.evaluate.report;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.randn;
import static org.apache.spark.sql.functions.round;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.evaluate.ClassificationMetrics;
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.io.Json;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The report reads the same at any cohort size: two evaluate outputs written here directly
 * (synthetic predictions with Spark, metrics.json constructed by hand), of 300 and 30,000 test
 * subjects with the same models, patterns in the same proportions and the same metrics, give pages
 * of about the same size whose ROC curves have at most {@link RocPoints#MAX_POINTS} points each,
 * drawn close to the exact AUROC counted pair by pair here; the bold models are the ones the
 * constructed metrics make best.
 */
class ReportScaleTest {
  static final int SMALL = 300;
  static final int LARGE = 30_000;
  static final int MIN_PATTERN_SIZE = 25;

  /**
   * Pattern sizes of the small cohort, in an order that is not by size; the large cohort has 100
   * times each.
   */
  static final Map<String, Integer> PATTERNS =
      orderedMap("a+b", 60, "c", 9, "a+b+c", 150, "b", 2, "b+c", 30, "a+c", 4, "a", 45);

  /**
   * Models: name -> kind, separation of the two classes' scores (logit units), whether the scores
   * are rounded to one decimal (ties: the curve must count them one half, as the exact AUROC does).
   */
  static final List<String> MODELS =
      List.of(
          "early",
          "fusion-a",
          "fusion-b",
          "unimodal:a",
          "unimodal:b",
          "encoder:b",
          "linear",
          "gbt");

  static final Map<String, String> KIND =
      Map.of(
          "early",
          "early",
          "fusion-a",
          "fusion",
          "fusion-b",
          "fusion",
          "unimodal:a",
          "unimodal",
          "unimodal:b",
          "unimodal",
          "encoder:b",
          "unimodal",
          "linear",
          "classical",
          "gbt",
          "classical");

  /**
   * Test AUROCs written to metrics.json, chosen so that: early (kind early) is the best model
   * overall but no fusion model; fusion-b beats fusion-a; unimodal:b is the best unimodal model on
   * test but not its modality's chosen baseline (encoder:b is), so the best unimodal baseline is
   * encoder:b; gbt beats linear.
   */
  static final Map<String, Double> AUROC =
      Map.of(
          "early",
          0.91,
          "fusion-a",
          0.80,
          "fusion-b",
          0.85,
          "unimodal:a",
          0.70,
          "unimodal:b",
          0.79,
          "encoder:b",
          0.72,
          "linear",
          0.78,
          "gbt",
          0.82);

  static SparkSession spark;
  static Path root;
  static final Map<Integer, Path> HTML = new HashMap<>();
  static final Map<Integer, Map<String, double[]>> SCORES = new HashMap<>();
  static final Map<Integer, int[]> LABELS = new HashMap<>();

  @BeforeAll
  static void writeTwoCohortsAndReportBoth() throws Exception {
    spark = SparkTestSession.get();
    root = Files.createTempDirectory("cf-report-scale");
    for (int n : new int[] {SMALL, LARGE}) {
      Path out = root.resolve("n" + n);
      Path conf = root.resolve("n" + n + ".conf");
      Files.writeString(
          conf,
          """
          name = report-scale
          subjects { path = s.csv }
          modalities { a { kind = tabular, path = a.csv } }
          output { dir = "%s" }
          evaluate { min-pattern-size = %d }
          """
              .formatted(out, MIN_PATTERN_SIZE));
      PipelineConfig config = PipelineConfigLoader.load(conf.toFile(), List.of());
      String predictions =
          config.evaluateOutputDir() + "/" + org.cohortfusion.stage.EvaluateOutputs.PREDICTIONS;
      writePredictions(n, predictions);
      Configuration hconf = spark.sparkContext().hadoopConfiguration();
      Json.write(
          hconf,
          config.evaluateOutputDir() + "/" + org.cohortfusion.stage.EvaluateOutputs.METRICS,
          metrics(
              n,
              predictions,
              config.evaluateOutputDir() + "/" + org.cohortfusion.stage.EvaluateOutputs.METRICS));
      ReportResult report = ReportAction.of(spark, config).execute();
      HTML.put(n, Path.of(report.indexHtml()));
      // The oracle's copy of the scores, read back from the Parquet the report read.
      List<Row> rows =
          spark
              .read()
              .parquet(predictions)
              .select("model", "subject_id", "probability", "label")
              .orderBy("model", "subject_id")
              .collectAsList();
      Map<String, double[]> scores = new LinkedHashMap<>();
      int[] labels = new int[n];
      for (String m : MODELS) {
        scores.put(m, new double[n]);
      }
      Map<String, Integer> next = new HashMap<>();
      for (Row r : rows) {
        int i = next.merge(r.getString(0), 1, Integer::sum) - 1;
        scores.get(r.getString(0))[i] = r.getDouble(2);
        labels[i] = r.getInt(3);
      }
      SCORES.put(n, scores);
      LABELS.put(n, labels);
    }
  }

  /**
   * n subjects, label 1 for ids ending in 0, 1 or 2 (prevalence exactly 0.3), each model's score
   * the logistic of ±separation/2 plus standard normal noise; linear's rounded to one decimal.
   */
  private static void writePredictions(int n, String path) {
    Dataset<Row> subjects =
        spark
            .range(n)
            .select(
                functions_format(col("id")).as("subject_id"),
                when(col("id").mod(10).lt(3), 1).otherwise(0).as("label"));
    Dataset<Row> all = null;
    double separation = 0.5;
    for (String m : MODELS) {
      separation += 0.25;
      Column logit =
          col("label").minus(0.5).multiply(separation).plus(randn(MODELS.indexOf(m) + 7L));
      Column p = lit(1.0).divide(lit(1.0).plus(exp(logit.multiply(-1))));
      if (m.equals("linear")) {
        p = round(p, 1);
      }
      Dataset<Row> d =
          subjects.select(
              col("subject_id"),
              lit(m).as("model"),
              p.as("probability"),
              col("label"),
              lit("a+b").as("pattern"));
      all = all == null ? d : all.unionByName(d);
    }
    all.repartition(3).write().parquet(path);
  }

  /** Zero-padded ids, so that ordering by subject_id is ordering by id. */
  private static Column functions_format(Column id) {
    return org.apache.spark.sql.functions.format_string("s%06d", id);
  }

  /**
   * metrics.json of the constructed evaluation: the same metrics at both sizes, pattern sizes in
   * proportion.
   */
  private static EvaluateResult metrics(int n, String predictions, String metricsPath) {
    List<EvaluateResult.ModelEvaluation> models = new ArrayList<>();
    for (String m : MODELS) {
      ClassificationMetrics test =
          new ClassificationMetrics(AUROC.get(m), 0.6, 0.7, 0.7, 0.2, 0.05, n);
      List<EvaluateResult.PatternMetrics> patterns = new ArrayList<>();
      PATTERNS.forEach(
          (pattern, size) -> {
            long count = (long) size * n / SMALL;
            patterns.add(
                new EvaluateResult.PatternMetrics(
                    pattern,
                    count,
                    count < MIN_PATTERN_SIZE,
                    new ClassificationMetrics(
                        AUROC.get(m) - 0.01, 0.5, 0.7, 0.7, 0.2, 0.05, count)));
          });
      List<ClassificationMetrics> robustness = new ArrayList<>();
      for (int i = 0; i < EvaluateAction.REMOVAL_RATES.size(); i++) {
        robustness.add(
            new ClassificationMetrics(AUROC.get(m) - 0.03 * i, 0.5, 0.7, 0.7, 0.2, 0.05, n));
      }
      Map<String, ClassificationMetrics> ablation = Map.of("a", test, "b", test, "c", test);
      models.add(
          new EvaluateResult.ModelEvaluation(
              m, KIND.get(m), m + " spec", 0.75, test, null, patterns, robustness, ablation));
    }
    List<EvaluateResult.UnimodalBaseline> baselines =
        List.of(
            new EvaluateResult.UnimodalBaseline(
                "a", "unimodal:a", "encoder:a", 0.60, "unimodal:a", 0.65),
            new EvaluateResult.UnimodalBaseline(
                "b", "encoder:b", "encoder:b", 0.74, "unimodal:b", 0.73));
    return new EvaluateResult(
        "test",
        2,
        n,
        null,
        MIN_PATTERN_SIZE,
        EvaluateAction.REMOVAL_RATES,
        models,
        predictions,
        metricsPath,
        List.of(),
        null,
        baselines);
  }

  private static JsonNode rocPoints(String html) throws Exception {
    Matcher m =
        Pattern.compile(
                "<script type=\"application/json\" id=\""
                    + ReportAction.ROC_POINTS
                    + "\">(.*?)</script>",
                Pattern.DOTALL)
            .matcher(html);
    assertTrue(m.find(), "no embedded ROC points");
    return new ObjectMapper().readTree(m.group(1));
  }

  /**
   * (a) Bounded size. Stated before running: every curve has at most MAX_POINTS points at both
   * sizes, and the two pages differ by less than 64 KB and are each under 600 KB. Why: the pages
   * hold the same tables (pattern sizes differ only in digits), the same robustness,
   * training-fallback and pattern charts (same metrics; pattern bars of proportional lengths), ROC
   * JSON of at most 8 models × 200 points × 2 × 7 characters ≈ 22 KB each, and one ROC PNG of 800 ×
   * 500 pixels whose size depends on the drawn shape, not on the subjects: a stepped 300-subject
   * curve and a smooth 30,000-subject one differ by at most a few tens of KB of compressed pixels.
   * Four PNG charts of a mostly white 800 × 500 canvas compress to well under 100 KB each (base64:
   * × 4/3).
   */
  @Test
  void pageSizeDoesNotGrowWithTheCohort() throws Exception {
    Map<Integer, Long> sizes = new HashMap<>();
    for (int n : new int[] {SMALL, LARGE}) {
      String html = Files.readString(HTML.get(n));
      sizes.put(n, Files.size(HTML.get(n)));
      JsonNode points = rocPoints(html);
      assertEquals(MODELS.size(), points.size(), "one curve per model at n = " + n);
      for (String m : MODELS) {
        int count = points.path(m).path("fpr").size();
        assertEquals(count, points.path(m).path("tpr").size(), m);
        assertTrue(count <= RocPoints.MAX_POINTS, m + " at n = " + n + ": " + count + " points");
        assertTrue(count >= 2, m + " at n = " + n + ": " + count + " points");
        assertEquals(
            AUROC.get(m),
            points.path(m).path("auroc").asDouble(),
            1e-12,
            "legend AUROC is metrics.json's");
      }
    }
    System.out.printf(
        Locale.ROOT,
        "report sizes: %d subjects %d bytes, %d subjects %d bytes%n",
        SMALL,
        sizes.get(SMALL),
        LARGE,
        sizes.get(LARGE));
    assertTrue(sizes.get(SMALL) < 600_000 && sizes.get(LARGE) < 600_000, sizes.toString());
    assertTrue(Math.abs(sizes.get(LARGE) - sizes.get(SMALL)) < 64_000, sizes.toString());
  }

  /**
   * (b) Shape kept. Stated before running: |trapezoid area of the drawn points − exact AUROC| ≤
   * 0.005 for every model at both sizes. Why: replacing the curve by its chord within a bin of
   * pos_j positives and neg_j negatives moves the area by at most pos_j·neg_j / (2PN); with bins of
   * at most a fraction f of the subjects that sums to at most f / (8π(1 − π)) with π = 0.3: f ≤
   * 1/199 + 2/10,000 at 30,000 subjects (0.0031), and at 300 subjects bins of at most 2 subjects, f
   * = 1/150 (0.0040). Ties (linear's rounded scores) fall in one bin and are counted one half on
   * both sides. The exact AUROC is counted here over every positive-negative pair.
   */
  @Test
  void drawnCurveAreaIsCloseToTheExactAuroc() throws Exception {
    for (int n : new int[] {SMALL, LARGE}) {
      JsonNode points = rocPoints(Files.readString(HTML.get(n)));
      int[] labels = LABELS.get(n);
      for (String m : MODELS) {
        double exact = pairCountAuroc(SCORES.get(n).get(m), labels);
        double drawn = trapezoid(points.path(m).path("fpr"), points.path(m).path("tpr"));
        System.out.printf(Locale.ROOT, "n = %d %-10s exact %.5f drawn %.5f%n", n, m, exact, drawn);
        assertEquals(exact, drawn, 0.005, m + " at n = " + n);
      }
    }
  }

  /**
   * The same bound on the curves as computed, with the per-curve bound RocPoints states (4-decimal
   * rounding aside).
   */
  @Test
  void statedErrorBoundHolds() {
    Map<String, RocPoints.Curve> curves =
        RocPoints.of(
            spark
                .read()
                .parquet(
                    root.resolve("n" + LARGE)
                        .resolve("evaluate")
                        .resolve(org.cohortfusion.stage.EvaluateOutputs.PREDICTIONS)
                        .toString()),
            2);
    assertEquals(MODELS.stream().sorted().toList(), new ArrayList<>(curves.keySet()));
    for (String m : MODELS) {
      RocPoints.Curve c = curves.get(m);
      double exact = pairCountAuroc(SCORES.get(LARGE).get(m), LABELS.get(LARGE));
      assertTrue(
          Math.abs(c.trapezoidAuroc() - exact) <= c.maxAurocError() + 1e-12,
          m + ": bound " + c.maxAurocError());
      assertTrue(c.maxAurocError() <= 0.005, m + ": bound " + c.maxAurocError());
      assertEquals(0.0, c.fpr()[0]);
      assertEquals(1.0, c.fpr()[c.fpr().length - 1], 1e-12);
      assertEquals(1.0, c.tpr()[c.tpr().length - 1], 1e-12);
    }
  }

  /**
   * Multiclass: one-vs-rest of the last class from the probability arrays. Four subjects, each its
   * own bin; class-2 probabilities 0.9 (class 2), 0.8 (class 0), 0.3 (class 2), 0.1 (class 1) give,
   * from the highest score down, (0, 0), (0, ½), (½, ½), (½, 1), (1, 1) by hand.
   */
  @Test
  void multiclassCurveIsOneVersusRestOfTheLastClass() {
    org.apache.spark.sql.types.StructType schema =
        new org.apache.spark.sql.types.StructType()
            .add("model", "string")
            .add("probability", "array<double>")
            .add("label", "int");
    List<Row> rows =
        List.of(
            org.apache.spark.sql.RowFactory.create("m", List.of(0.05, 0.05, 0.9), 2),
            org.apache.spark.sql.RowFactory.create("m", List.of(0.1, 0.1, 0.8), 0),
            org.apache.spark.sql.RowFactory.create("m", List.of(0.4, 0.3, 0.3), 2),
            org.apache.spark.sql.RowFactory.create("m", List.of(0.1, 0.8, 0.1), 1));
    RocPoints.Curve c = RocPoints.of(spark.createDataFrame(rows, schema), 3).get("m");
    assertEquals(
        List.of(0.0, 0.0, 0.5, 0.5, 1.0), java.util.Arrays.stream(c.fpr()).boxed().toList());
    assertEquals(
        List.of(0.0, 0.5, 0.5, 1.0, 1.0), java.util.Arrays.stream(c.tpr()).boxed().toList());
    assertEquals(0.75, c.trapezoidAuroc(), 1e-12);
  }

  /**
   * (c) Bold: fusion-b, encoder:b (the chosen baseline, not unimodal:b) and gbt; early is best
   * overall but grey.
   */
  @Test
  void emphasisedModelsAreTheBestFusionUnimodalBaselineAndClassical() throws Exception {
    String expected =
        "Bold: fusion-b (best fusion, blue), encoder:b (best unimodal, vermillion), gbt (best classical,"
            + " bluish green); thin grey: every other model.";
    for (int n : new int[] {SMALL, LARGE}) {
      String html = Files.readString(HTML.get(n));
      String roc = html.substring(html.indexOf("<img id=\"" + ReportAction.FIG_ROC + "\""));
      assertTrue(
          roc.substring(0, roc.indexOf("</figcaption>")).contains(expected),
          "ROC caption at n = " + n);
      String robustness =
          html.substring(html.indexOf("<img id=\"" + ReportAction.FIG_ROBUSTNESS + "\""));
      assertTrue(
          robustness.substring(0, robustness.indexOf("</figcaption>")).contains(expected),
          "robustness caption");
    }
    // The legend order: emphasised first, in role order, each naming its role; the rest after,
    // grey.
    Map<String, Charts.Line> byModel = new LinkedHashMap<>();
    MODELS.forEach(
        m -> byModel.put(m, new Charts.Line(m, new double[] {0, 1}, new double[] {0, 1})));
    EvaluateResult eval =
        EvaluateAction.read(
            spark.sparkContext().hadoopConfiguration(),
            root.resolve("n" + SMALL).resolve("evaluate").toString());
    List<Charts.Line> lines = Emphasis.styled(byModel, Emphasis.of(eval));
    assertEquals(
        List.of(
            "fusion-b — best fusion",
            "encoder:b — best unimodal",
            "gbt — best classical",
            "early",
            "fusion-a",
            "unimodal:a",
            "unimodal:b",
            "linear"),
        lines.stream().map(Charts.Line::name).toList());
    assertEquals(Charts.Style.BLUE, lines.get(0).style().paint());
    assertEquals(Charts.Style.VERMILLION, lines.get(1).style().paint());
    assertEquals(Charts.Style.BLUISH_GREEN, lines.get(2).style().paint());
    lines.subList(0, 3).forEach(l -> assertEquals(Charts.Style.BOLD, l.style().width(), l.name()));
    lines
        .subList(3, lines.size())
        .forEach(l -> assertEquals(Charts.Style.BACKGROUND, l.style(), l.name()));
  }

  /**
   * Per-pattern rows by size, largest first; at 300 subjects the three patterns under 25 folded
   * into one row.
   */
  @Test
  void patternTableIsSortedBySizeWithSmallPatternsFolded() throws Exception {
    String html = Files.readString(HTML.get(SMALL));
    String table = html.substring(html.indexOf("<table id=\"patterns\">"));
    table = table.substring(0, table.indexOf("</table>"));
    List<String> rows = new ArrayList<>();
    Matcher row =
        Pattern.compile(
                "<tr[^>]*><td class=\"l\">fusion-a</td><td class=\"l\">([^<]*)</td><td>(\\d+)</td>")
            .matcher(table);
    while (row.find()) {
      rows.add(row.group(1) + "=" + row.group(2));
    }
    assertEquals(
        List.of(
            "a+b+c=150", "a+b=60", "a=45", "b+c=30", "other patterns (15 subjects, 3 patterns)=15"),
        rows);
    assertTrue(
        html.contains("<details id=\"small-patterns\">"),
        "folded patterns listed in a collapsed block");
    String large = Files.readString(HTML.get(LARGE));
    assertTrue(!large.contains("other patterns"), "nothing to fold at 30,000 subjects");
  }

  /**
   * AUROC as the share of positive-negative pairs ranked right, ties one half: O(P·N), no sorting.
   */
  static double pairCountAuroc(double[] scores, int[] labels) {
    List<Double> pos = new ArrayList<>();
    List<Double> neg = new ArrayList<>();
    for (int i = 0; i < scores.length; i++) {
      (labels[i] == 1 ? pos : neg).add(scores[i]);
    }
    double[] n = neg.stream().mapToDouble(Double::doubleValue).toArray();
    double right = 0.0;
    for (double p : pos) {
      for (double q : n) {
        right += p > q ? 1.0 : p == q ? 0.5 : 0.0;
      }
    }
    return right / ((double) pos.size() * n.length);
  }

  static double trapezoid(JsonNode x, JsonNode y) {
    double area = 0.0;
    for (int i = 1; i < x.size(); i++) {
      area +=
          (x.get(i).asDouble() - x.get(i - 1).asDouble())
              * (y.get(i).asDouble() + y.get(i - 1).asDouble())
              / 2;
    }
    return area;
  }

  private static Map<String, Integer> orderedMap(Object... kv) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], (Integer) kv[i + 1]);
    }
    return m;
  }
}
