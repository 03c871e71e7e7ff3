package org.cohortfusion.evaluate.report;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.evaluate.ClassificationMetrics;
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.evaluate.SurvivalEvaluation;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.Json;
import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.EvaluateOutputs;
import org.cohortfusion.stage.QcReport;
import org.cohortfusion.stage.TrainOutputs;
import org.cohortfusion.stage.TrainState;
import org.cohortfusion.train.TrainedModels;

/**
 * The report stage: a self-contained {@code <output.dir>/report/index.html} (PNG charts embedded as
 * base64 data URIs) from evaluate's {@code metrics.json} and predictions: ROC curves of every model
 * on the test split (at most {@link RocPoints#MAX_POINTS} points each, aggregated on the executors,
 * so the page and the driver's memory do not grow with the cohort; the best fusion, unimodal and
 * classical models bold, see {@link Emphasis}), the training metric per model, the missingness
 * patterns, robustness curves under test-time modality removal, the ablation table and the
 * comparison table of every fusion model against the baselines with its spec in the notation of the
 * review (what / when / how many / how, arXiv 2408.02686), with the Bayes-optimal AUROC row for
 * generated cohorts.
 */
public final class ReportAction {
  /** The report page inside the report directory. */
  public static final String INDEX = "index.html";

  /** Figure ids, in page order. */
  public static final String FIG_ROC = "roc-curves";

  public static final String FIG_TRAINING = "training";
  public static final String FIG_PATTERNS = "missingness-patterns";
  public static final String FIG_ROBUSTNESS = "robustness";

  /** Id of the script element holding the drawn ROC points as JSON. */
  public static final String ROC_POINTS = "roc-points";

  private final SparkSession spark;
  private final String evaluateDir;
  private final String reportDir;
  private final String cohortDir;
  private final String title;
  private final String trainDir;

  private ReportAction(
      SparkSession spark,
      String evaluateDir,
      String reportDir,
      String cohortDir,
      String title,
      String trainDir) {
    this.spark = spark;
    this.trainDir = trainDir;
    this.evaluateDir = evaluateDir;
    this.reportDir = reportDir;
    this.cohortDir = cohortDir;
    this.title = title;
  }

  public static ReportAction of(SparkSession spark, PipelineConfig config) {
    return new ReportAction(
        spark,
        config.evaluateOutputDir(),
        config.reportOutputDir(),
        config.cohortOutputDir(),
        config.name() == null ? "cohort-fusion" : config.name(),
        config.trainOutputDir());
  }

  /** Write to this directory instead of {@code <output.dir>/report}. */
  public ReportAction reportDir(String dir) {
    return new ReportAction(spark, evaluateDir, dir, cohortDir, title, trainDir);
  }

  /** Validation AUROC per epoch of every model whose train state kept its history. */
  private List<Charts.Line> trainingCurves(Configuration hconf, EvaluateResult eval) {
    Map<String, Charts.Line> lines = new LinkedHashMap<>();
    for (EvaluateResult.ModelEvaluation m : eval.models()) {
      String state = TrainOutputs.state(trainDir, m.name());
      if (!TrainedModels.exists(hconf, state)) {
        continue;
      }
      List<TrainState.Epoch> history = Json.read(hconf, state, TrainState.class).history();
      if (history.isEmpty()) {
        continue;
      }
      double[] x = history.stream().mapToDouble(TrainState.Epoch::epoch).toArray();
      double[] y = history.stream().mapToDouble(TrainState.Epoch::validationAuroc).toArray();
      lines.put(m.name(), new Charts.Line(m.name(), x, y));
    }
    return Emphasis.styled(lines, Emphasis.of(eval));
  }

  public ReportResult execute() {
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    if (!TrainedModels.exists(hconf, evaluateDir + "/" + EvaluateOutputs.METRICS)) {
      throw new IllegalStateException(
          "Cannot write the report: no "
              + evaluateDir
              + "/"
              + EvaluateOutputs.METRICS
              + " (run evaluate first)");
    }
    com.fasterxml.jackson.databind.JsonNode metrics =
        Json.read(
            hconf,
            evaluateDir + "/" + EvaluateOutputs.METRICS,
            com.fasterxml.jackson.databind.JsonNode.class);
    // evaluate marks a survival evaluation with outcome = survival; class metrics carry no such
    // field.
    if ("survival".equals(metrics.path("outcome").asText())) {
      SurvivalEvaluation.Result r;
      try {
        r = Json.MAPPER.treeToValue(metrics, SurvivalEvaluation.Result.class);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(
            "Cannot write the report: "
                + evaluateDir
                + "/"
                + EvaluateOutputs.METRICS
                + " is not a survival evaluation: "
                + e.getOriginalMessage(),
            e);
      }
      String html = SurvivalReport.html(r, SurvivalReport.robustnessChart(r));
      AtomicDirectory.write(
          hconf,
          reportDir,
          tmp -> {
            Json.writeText(hconf, tmp + "/" + INDEX, html);
            return null;
          });
      return new ReportResult(
          reportDir + "/" + INDEX,
          SurvivalReport.table(r),
          r.summary(),
          List.of(SurvivalReport.FIG_ROBUSTNESS),
          List.of());
    }
    EvaluateResult eval = EvaluateAction.read(hconf, evaluateDir);
    List<String> notes = new ArrayList<>();
    Map<String, byte[]> figures = new LinkedHashMap<>();
    Map<String, String> captions = new LinkedHashMap<>();

    Map<String, RocPoints.Curve> roc = rocPoints(eval);
    figures.put(FIG_ROC, rocChart(eval, roc));
    String emphasis = " " + Emphasis.caption(Emphasis.of(eval));
    captions.put(
        FIG_ROC,
        (eval.numClasses() == 2
                ? "ROC curves of every model on the test split"
                : "One-vs-rest ROC curves of class "
                    + (eval.numClasses() - 1)
                    + " on the test split")
            + ", each drawn through at "
            + "most "
            + RocPoints.MAX_POINTS
            + " points (thresholds at score quantiles); the legend gives the exact test "
            + (eval.numClasses() == 2 ? "AUROC" : "macro one-vs-rest AUROC")
            + " of metrics.json."
            + emphasis
            + " The points are in the page as JSON (script id=\""
            + ROC_POINTS
            + "\").");

    List<Charts.Line> curves = trainingCurves(hconf, eval);
    if (!curves.isEmpty()) {
      double maxEpoch = curves.stream().mapToDouble(l -> l.x()[l.x().length - 1]).max().orElse(1);
      figures.put(
          FIG_TRAINING,
          Charts.lines("Training curves", "epoch", "validation AUROC", curves, false, maxEpoch));
      captions.put(
          FIG_TRAINING,
          "Validation AUROC after every epoch of each trained network (train's checkpoints/state.json); "
              + "late fusion has no training of its own."
              + emphasis);
    } else {
      Map<String, Double> validation = new LinkedHashMap<>();
      eval.models()
          .forEach(
              m ->
                  validation.put(
                      m.name(), m.validationAuroc() == null ? Double.NaN : m.validationAuroc()));
      figures.put(
          FIG_TRAINING,
          Charts.bars(
              "Validation AUROC of the published model", "model", "validation AUROC", validation));
      String noHistory =
          "No per-epoch history was found under "
              + trainDir
              + " (models trained by an older version): "
              + "the validation AUROC of each published (best-epoch) model is shown instead of training curves.";
      notes.add(noHistory);
      captions.put(FIG_TRAINING, noHistory);
    }

    Map<String, Long> patterns = patternCounts(hconf, eval, notes);
    figures.put(FIG_PATTERNS, Charts.bars("Missingness patterns", "pattern", "subjects", patterns));
    captions.put(FIG_PATTERNS, notes.get(notes.size() - 1));

    Map<String, Charts.Line> robustness = new LinkedHashMap<>();
    double[] rates = eval.removalRates().stream().mapToDouble(Double::doubleValue).toArray();
    for (EvaluateResult.ModelEvaluation m : eval.models()) {
      robustness.put(
          m.name(),
          new Charts.Line(
              m.name(),
              rates,
              m.robustness().stream().mapToDouble(ClassificationMetrics::auroc).toArray()));
    }
    figures.put(
        FIG_ROBUSTNESS,
        Charts.lines(
            "Test AUROC as modalities are removed (MCAR)",
            "removal rate",
            "AUROC",
            Emphasis.styled(robustness, Emphasis.of(eval)),
            false,
            rates[rates.length - 1]));
    captions.put(
        FIG_ROBUSTNESS,
        "Every present modality of every test subject removed independently with the given "
            + "probability (presence mask and input), the same removals for every model."
            + emphasis);

    String table = comparisonTable(eval);
    String html = html(eval, figures, captions, notes, rocJson(eval, roc));
    AtomicDirectory.write(
        hconf,
        reportDir,
        tmp -> {
          Json.writeText(hconf, tmp + "/" + INDEX, html);
          return null;
        });
    return new ReportResult(
        reportDir + "/" + INDEX, table, eval.summary(), new ArrayList<>(figures.keySet()), notes);
  }

  /**
   * Pattern counts of the cohort's qc.json when ingest wrote one, else of the evaluated test
   * subjects.
   */
  private Map<String, Long> patternCounts(
      Configuration hconf, EvaluateResult eval, List<String> notes) {
    String qc = cohortDir + "/" + CohortManifest.QC_JSON;
    Map<String, Long> counts = new LinkedHashMap<>();
    if (TrainedModels.exists(hconf, qc)) {
      QcReport report = QcReport.read(hconf, cohortDir);
      report.patterns().entrySet().stream()
          .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
          .forEach(e -> counts.put(e.getKey(), e.getValue()));
      notes.add("Missingness patterns of the whole aligned cohort (ingest's qc.json).");
    } else {
      eval.models().get(0).patterns().forEach(p -> counts.put(p.pattern(), p.n()));
      notes.add(
          "Missingness patterns of the labeled test subjects (no qc.json from ingest at "
              + qc
              + ").");
    }
    return counts;
  }

  /**
   * ROC curves of every model, at most {@link RocPoints#MAX_POINTS} points each, computed on the
   * executors ({@link RocPoints}); the legend shows each model's exact test AUROC from
   * metrics.json, not the area of the drawn points.
   */
  private Map<String, RocPoints.Curve> rocPoints(EvaluateResult eval) {
    Map<String, RocPoints.Curve> all =
        RocPoints.of(spark.read().parquet(eval.predictionsPath()), eval.numClasses());
    Map<String, RocPoints.Curve> curves = new LinkedHashMap<>();
    eval.models()
        .forEach(
            m -> {
              if (all.containsKey(m.name())) {
                curves.put(m.name(), all.get(m.name()));
              }
            });
    return curves;
  }

  private byte[] rocChart(EvaluateResult eval, Map<String, RocPoints.Curve> curves) {
    Map<String, Charts.Line> byModel = new LinkedHashMap<>();
    curves.forEach(
        (name, c) ->
            byModel.put(
                name,
                new Charts.Line(
                    String.format(
                        Locale.ROOT,
                        "%s (%sAUROC %.4f)",
                        name,
                        eval.numClasses() == 2 ? "" : "macro ",
                        eval.get(name).test().auroc()),
                    c.fpr(),
                    c.tpr())));
    return Charts.lines(
        "ROC curves, test split",
        "false positive rate",
        "true positive rate",
        Emphasis.styled(byModel, Emphasis.of(eval)),
        true,
        1.0);
  }

  /**
   * The drawn ROC points as JSON ({@code {"model": {"auroc": ..., "fpr": [...], "tpr": [...]}}}:
   * the exact test AUROC of metrics.json, the points to 4 decimals), for a reader who wants to
   * redraw or compare them: bounded like the chart.
   */
  static String rocJson(EvaluateResult eval, Map<String, RocPoints.Curve> curves) {
    StringBuilder j = new StringBuilder("{");
    curves.forEach(
        (name, c) -> {
          j.append(j.length() > 1 ? ",\n" : "\n")
              .append(Json.MAPPER.valueToTree(name).toString())
              .append(": {\"auroc\": ")
              .append(
                  Double.isNaN(eval.get(name).test().auroc())
                      ? "null"
                      : Double.toString(eval.get(name).test().auroc()))
              .append(", \"fpr\": ")
              .append(array(c.fpr()))
              .append(", \"tpr\": ")
              .append(array(c.tpr()))
              .append('}');
        });
    // "</" would end the script element early whatever the JSON says.
    return j.append("\n}").toString().replace("</", "<\\/");
  }

  private static String array(double[] v) {
    StringBuilder a = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      a.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.4f", v[i]));
    }
    return a.append(']').toString();
  }

  /**
   * Every model against the baselines: test metrics, margin over the best unimodal model, distance
   * to Bayes.
   */
  public static String comparisonTable(EvaluateResult eval) {
    StringBuilder s =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%-22s %-9s %7s %7s %7s %7s %7s %7s %8s %8s %8s  %s%n",
                "model",
                "kind",
                "AUROC",
                "AUPRC",
                "acc",
                "balacc",
                "Brier",
                "ECE",
                "vs-uni",
                "to-Bayes",
                "to-obs",
                "spec"));
    double bestUni = eval.bestUnimodal().map(u -> u.test().auroc()).orElse(Double.NaN);
    String bestUniName = eval.bestUnimodal().map(EvaluateResult.ModelEvaluation::name).orElse("");
    for (EvaluateResult.ModelEvaluation m : eval.models()) {
      ClassificationMetrics t = m.test();
      s.append(
          String.format(
              Locale.ROOT,
              "%-22s %-9s %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f %+8.4f %8s %8s  %s%n",
              m.name(),
              m.kind(),
              t.auroc(),
              t.auprc(),
              t.accuracy(),
              t.balancedAccuracy(),
              t.brier(),
              t.ece(),
              t.auroc() - bestUni,
              m.distanceToBayes() == null
                  ? "-"
                  : String.format(Locale.ROOT, "%.4f", m.distanceToBayes()),
              m.toObservable() == null
                  ? "-"
                  : String.format(Locale.ROOT, "%.4f", m.toObservable().aurocGap()),
              m.describe()));
    }
    if (eval.bayesOptimalAuroc() != null) {
      s.append(
          String.format(
              Locale.ROOT,
              "%-22s %-9s %7.4f%n",
              "bayes-optimal",
              "truth",
              eval.bayesOptimalAuroc()));
    }
    if (eval.observableOptimalAuroc() != null) {
      s.append(
          String.format(
              Locale.ROOT,
              "%-22s %-9s %7.4f%n",
              "observable-optimal",
              "truth",
              eval.observableOptimalAuroc()));
    }
    s.append(baselineNote(eval));
    return s.toString();
  }

  /**
   * Which unimodal model is each modality's baseline (vs-uni is against the best of them), or
   * nothing.
   */
  static String baselineNote(EvaluateResult eval) {
    if (eval.unimodalBaselines().isEmpty()) {
      return "";
    }
    StringBuilder s =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "vs-uni: against %s; each modality's unimodal baseline is the stronger on VALIDATION AUROC of pretrain's encoder"
                    + " with its softmax head and a head on the frozen embedding:%n",
                eval.bestUnimodal().map(EvaluateResult.ModelEvaluation::name).orElse("-")));
    for (EvaluateResult.UnimodalBaseline b : eval.unimodalBaselines()) {
      s.append(
          String.format(
              Locale.ROOT,
              "  %-12s %-22s (%s; validation AUROC encoder head %s, frozen-embedding head %s)%n",
              b.modality(),
              b.chosen(),
              b.describeChoice(),
              fmt(b.encoderHeadValidationAuroc()),
              b.frozenHead() == null ? "not trained" : fmt(b.frozenHeadValidationAuroc())));
    }
    return s.toString();
  }

  private static String fmt(Double v) {
    return v == null ? "-" : String.format(Locale.ROOT, "%.4f", v);
  }

  private String html(
      EvaluateResult eval,
      Map<String, byte[]> figures,
      Map<String, String> captions,
      List<String> notes,
      String rocJson) {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
        .append(esc(title))
        .append(
            " - cohort-fusion report</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
                + "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
                + "td.l,th.l{text-align:left}tr.bayes{font-style:italic;background:#f4f4f4}.small{color:#999}</style></head><body>\n");
    h.append("<h1>")
        .append(esc(title))
        .append(": evaluation on the ")
        .append(esc(eval.split()))
        .append(" split</h1>\n");
    h.append("<p>")
        .append(eval.subjects())
        .append(" labeled subjects, ")
        .append(eval.numClasses())
        .append(
            " classes. Fusion specs in the notation of the review arXiv 2408.02686 (what / when / how many / how).</p>\n");
    h.append("<pre>").append(esc(eval.summary())).append("</pre>\n");

    h.append(
        "<h2>Comparison of every model against the baselines</h2>\n<table id=\"comparison\">\n<tr><th class=\"l\">model</th>"
            + "<th class=\"l\">kind</th><th>AUROC</th><th>AUPRC</th><th>accuracy</th><th>balanced accuracy</th><th>Brier</th>"
            + "<th>ECE</th><th>AUROC vs best unimodal [paired 95% CI]</th><th>distance to Bayes</th><th>distance to observable-optimal</th><th>validation AUROC</th>"
            + "<th class=\"l\">spec</th></tr>\n");
    double bestUni = eval.bestUnimodal().map(u -> u.test().auroc()).orElse(Double.NaN);
    String bestUniName = eval.bestUnimodal().map(EvaluateResult.ModelEvaluation::name).orElse("");
    for (EvaluateResult.ModelEvaluation m : eval.models()) {
      ClassificationMetrics t = m.test();
      h.append("<tr class=\"model\"><td class=\"l\">")
          .append(esc(m.name()))
          .append("</td><td class=\"l\">")
          .append(esc(m.kind()))
          .append("</td>");
      for (double v :
          new double[] {
            t.auroc(), t.auprc(), t.accuracy(), t.balancedAccuracy(), t.brier(), t.ece()
          }) {
        h.append("<td>").append(num(v)).append("</td>");
      }
      h.append("<td>")
          .append(
              Double.isNaN(bestUni)
                  ? "-"
                  : String.format(Locale.ROOT, "%+.4f", t.auroc() - bestUni))
          .append(
              eval.comparison(m.name(), bestUniName)
                  .map(
                      p ->
                          String.format(
                              Locale.ROOT,
                              " <span class=\"ci\">[%+.3f, %+.3f]</span>",
                              p.lower(),
                              p.upper()))
                  .orElse(""))
          .append("</td><td>")
          .append(m.distanceToBayes() == null ? "-" : num(m.distanceToBayes()))
          .append("</td><td>")
          .append(m.toObservable() == null ? "-" : num(m.toObservable().aurocGap()))
          .append("</td><td>")
          .append(m.validationAuroc() == null ? "-" : num(m.validationAuroc()))
          .append("</td><td class=\"l\">")
          .append(esc(m.describe()))
          .append("</td></tr>\n");
    }
    if (eval.bayesOptimalAuroc() != null) {
      h.append(
              "<tr class=\"bayes\"><td class=\"l\">bayes-optimal</td><td class=\"l\">truth</td><td>")
          .append(num(eval.bayesOptimalAuroc()))
          .append(
              "</td><td colspan=\"10\" class=\"l\">AUROC of the generator's "
                  + "true probability: the best any model can reach on these subjects</td></tr>\n");
    }
    if (eval.observableOptimalAuroc() != null) {
      h.append(
              "<tr class=\"bayes\"><td class=\"l\">observable-optimal</td><td class=\"l\">truth</td><td>")
          .append(num(eval.observableOptimalAuroc()))
          .append(
              "</td><td colspan=\"10\" class=\"l\">AUROC of P(label | the "
                  + "modality rows each subject has, and which it has) under the generator's model: the best any model of "
                  + "the observed data can reach</td></tr>\n");
    }
    h.append("</table>\n");
    if (!eval.unimodalBaselines().isEmpty()) {
      h.append("<pre id=\"unimodal-baselines\">")
          .append(esc(baselineNote(eval)))
          .append("</pre>\n");
    }

    for (Map.Entry<String, byte[]> f : figures.entrySet()) {
      h.append("<h2>")
          .append(esc(heading(f.getKey())))
          .append("</h2>\n<figure><img id=\"")
          .append(f.getKey())
          .append("\" alt=\"")
          .append(esc(heading(f.getKey())))
          .append("\" width=\"")
          .append(Charts.WIDTH)
          .append("\" src=\"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(f.getValue()))
          .append("\"><figcaption>")
          .append(esc(captions.get(f.getKey())))
          .append("</figcaption></figure>\n");
      if (f.getKey().equals(FIG_ROC)) {
        h.append("<script type=\"application/json\" id=\"")
            .append(ROC_POINTS)
            .append("\">")
            .append(rocJson)
            .append("</script>\n");
      }
    }

    h.append(
        "<h2>Ablation: test AUROC with one modality removed from every subject</h2>\n<table id=\"ablation\"><tr>"
            + "<th class=\"l\">model</th><th>none removed</th>");
    List<String> modalities = new ArrayList<>(eval.models().get(0).ablation().keySet());
    java.util.Collections.sort(modalities);
    modalities.forEach(mod -> h.append("<th>without ").append(esc(mod)).append("</th>"));
    h.append("</tr>\n");
    for (EvaluateResult.ModelEvaluation m : eval.models()) {
      h.append("<tr><td class=\"l\">")
          .append(esc(m.name()))
          .append("</td><td>")
          .append(num(m.test().auroc()))
          .append("</td>");
      modalities.forEach(
          mod -> h.append("<td>").append(num(m.ablation().get(mod).auroc())).append("</td>"));
      h.append("</tr>\n");
    }
    h.append("</table>\n");

    patternTable(h, eval);
    h.append("<h2>Notes</h2>\n<ul>\n");
    notes.forEach(n -> h.append("<li>").append(esc(n)).append("</li>\n"));
    h.append("</ul>\n</body></html>\n");
    return h.toString();
  }

  /**
   * Per model, its missingness patterns by subject count, largest first; the patterns with fewer
   * than evaluate.min-pattern-size subjects (metrics not to be trusted) folded into one "other
   * patterns" row, listed in a collapsed block below the table.
   */
  private static void patternTable(StringBuilder h, EvaluateResult eval) {
    h.append(
            "<h2>Test AUROC per missingness pattern</h2>\n<p>Patterns by subject count, largest first; those with fewer"
                + " than ")
        .append(eval.minPatternSize())
        .append(
            " subjects (evaluate.min-pattern-size) are folded into one row"
                + " per model.</p>\n<table id=\"patterns\"><tr><th class=\"l\">model</th><th class=\"l\">pattern</th><th>n</th>"
                + "<th>AUROC</th><th>AUPRC</th><th>Brier</th></tr>\n");
    Map<String, Long> small = new LinkedHashMap<>();
    for (EvaluateResult.ModelEvaluation m : eval.models()) {
      List<EvaluateResult.PatternMetrics> patterns = bySize(m.patterns());
      long foldedSubjects = 0;
      int folded = 0;
      for (EvaluateResult.PatternMetrics p : patterns) {
        if (p.tooSmall()) {
          foldedSubjects += p.n();
          folded++;
          small.putIfAbsent(p.pattern(), p.n());
          continue;
        }
        h.append("<tr><td class=\"l\">")
            .append(esc(m.name()))
            .append("</td><td class=\"l\">")
            .append(esc(p.pattern()))
            .append("</td><td>")
            .append(p.n())
            .append("</td><td>")
            .append(num(p.metrics().auroc()))
            .append("</td><td>")
            .append(num(p.metrics().auprc()))
            .append("</td><td>")
            .append(num(p.metrics().brier()))
            .append("</td></tr>\n");
      }
      if (folded > 0) {
        h.append("<tr class=\"small\"><td class=\"l\">")
            .append(esc(m.name()))
            .append("</td><td class=\"l\">")
            .append(otherPatterns(foldedSubjects, folded))
            .append("</td><td>")
            .append(foldedSubjects)
            .append("</td><td>-</td><td>-</td><td>-</td></tr>\n");
      }
    }
    h.append("</table>\n");
    if (!small.isEmpty()) {
      h.append("<details id=\"small-patterns\"><summary>")
          .append(
              otherPatterns(small.values().stream().mapToLong(Long::longValue).sum(), small.size()))
          .append(": fewer than ")
          .append(eval.minPatternSize())
          .append(
              " subjects each</summary>\n<table><tr><th class=\"l\">pattern</th><th>n</th></tr>\n");
      small.forEach(
          (pattern, n) ->
              h.append("<tr><td class=\"l\">")
                  .append(esc(pattern))
                  .append("</td><td>")
                  .append(n)
                  .append("</td></tr>\n"));
      h.append("</table></details>\n");
    }
  }

  /**
   * Patterns by subject count, largest first (ties by name, so the page does not depend on
   * evaluate's order).
   */
  static List<EvaluateResult.PatternMetrics> bySize(List<EvaluateResult.PatternMetrics> patterns) {
    return patterns.stream()
        .sorted(
            java.util.Comparator.comparingLong(EvaluateResult.PatternMetrics::n)
                .reversed()
                .thenComparing(EvaluateResult.PatternMetrics::pattern))
        .toList();
  }

  /** The label of a folded row. */
  static String otherPatterns(long subjects, int patterns) {
    return String.format(
        Locale.ROOT,
        "other patterns (%d subject%s, %d pattern%s)",
        subjects,
        subjects == 1 ? "" : "s",
        patterns,
        patterns == 1 ? "" : "s");
  }

  private static String heading(String figure) {
    return switch (figure) {
      case FIG_ROC -> "ROC curves";
      case FIG_TRAINING -> "Training: validation AUROC per model";
      case FIG_PATTERNS -> "Missingness patterns";
      case FIG_ROBUSTNESS -> "Robustness to missing modalities";
      default -> figure;
    };
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
  }

  static String esc(String s) {
    return s == null
        ? ""
        : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
