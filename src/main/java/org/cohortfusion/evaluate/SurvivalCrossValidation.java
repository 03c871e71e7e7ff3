package org.cohortfusion.evaluate;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.Json;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EvaluateOutputs;

/**
 * Pools k-fold cross-validation of a survival outcome (the counterpart of {@link
 * CrossValidationAction} for class labels, with which it shares the fold layout and the reading and
 * checking of out-of-fold predictions): per model, each fold's Harrell's C (read from the fold's
 * metrics.json, {@link SurvivalEvaluation.Result}) with their mean ± sd, and Harrell's C of the
 * POOLED out-of-fold predictions (risk, duration, event of every subject, from each fold's
 * predictions/) with a bootstrap interval ({@link SurvivalMetrics#bootstrapHarrellC}), and the
 * paired bootstrap difference in pooled C of every model against the reference on the same subjects
 * (the best by pooled C among the unimodal baselines each fold chose on validation C, as for class
 * labels, {@link CrossValidationResult.FoldBaseline}); per missingness pattern, Harrell's C of the
 * pooled out-of-fold risks of the subjects with that pattern (too small below
 * evaluate.min-pattern-size times k, as in the class pooling). Every labeled subject must have
 * exactly one out-of-fold prediction per model; anything else stops the pooling. Writes {@code
 * <output.dir>/cv/metrics.json} (per repeat, {@code <output.dir>/repeats/<r>/cv}) atomically. With
 * splits.repeats, each repeat is pooled on its own and repeat 0's file also carries, per model, the
 * pooled C of every repeat with their mean ± sd.
 *
 * <p><b>What the pooled C is.</b> Each fold's model ranks only its own held-out subjects; the
 * pooled C also compares subjects of different folds, whose risks come from different models on
 * possibly different scales. It is the usual approximation (it uses every subject's out-of-fold
 * prediction once and has a narrower interval), not the C of one model; the per-fold mean ± sd is
 * the other view and both are reported. Only counts and metrics are logged, never subject-level
 * values.
 */
public final class SurvivalCrossValidation {
  private final SparkSession spark;
  private final List<List<String>> repeats;
  private final List<String> outputDirs;
  private final long seed;
  private final int minPatternSize;

  private SurvivalCrossValidation(
      SparkSession spark,
      List<List<String>> repeats,
      List<String> outputDirs,
      long seed,
      int minPatternSize) {
    this.spark = spark;
    this.repeats = repeats.stream().map(List::copyOf).toList();
    this.outputDirs = List.copyOf(outputDirs);
    this.seed = seed;
    this.minPatternSize = minPatternSize;
  }

  /**
   * The folds of every repeat of {@code config}; the bootstrap seed is evaluate.seed, as in each
   * fold's evaluation.
   */
  public static SurvivalCrossValidation of(SparkSession spark, PipelineConfig config) {
    return new SurvivalCrossValidation(
        spark,
        CrossValidationAction.foldEvaluateDirs(config),
        CrossValidationAction.cvOutputDirs(config),
        config.evaluate().seed(),
        config.evaluate().minPatternSize());
  }

  /**
   * Pools the fold evaluate directories of every repeat (fold f = index f) into that repeat's
   * output directory.
   *
   * @param minPatternSize evaluate.min-pattern-size (the pooled threshold is k times it)
   */
  public static SurvivalCrossValidation of(
      SparkSession spark,
      List<List<String>> foldEvaluateDirs,
      List<String> outputDirs,
      long seed,
      int minPatternSize) {
    if (foldEvaluateDirs.isEmpty() || foldEvaluateDirs.size() != outputDirs.size()) {
      throw new IllegalArgumentException(
          "Cannot pool survival folds: "
              + foldEvaluateDirs.size()
              + " repeats of folds and "
              + outputDirs.size()
              + " output directories");
    }
    return new SurvivalCrossValidation(spark, foldEvaluateDirs, outputDirs, seed, minPatternSize);
  }

  /**
   * One model across the folds.
   *
   * @param pooledC Harrell's C of the pooled out-of-fold risks (risk scales of k models mixed; see
   *     the class comment)
   * @param pooledCLower lower bound of its bootstrap interval
   * @param pooledCUpper upper bound
   * @param foldC each fold's test C, in fold order
   * @param foldValidationC each fold's validation C of the model (from train, as the fold's
   *     metrics.json records it), in fold order; an entry is null where the fold recorded none
   * @param foldCIndex their mean ± sd
   * @param patterns pooled C per missingness pattern, largest first (too small below the result's
   *     minPatternSize)
   */
  public record Model(
      String name,
      String kind,
      String describe,
      double pooledC,
      double pooledCLower,
      double pooledCUpper,
      List<Double> foldC,
      List<Double> foldValidationC,
      CrossValidationResult.MeanSd foldCIndex,
      List<SurvivalEvaluation.PatternScores> patterns) {

    /**
     * The mean over the folds of the model's validation C: what the folds' validation splits say of
     * it without their test parts. NaN unless every fold recorded one.
     */
    public double meanValidationC() {
      if (foldValidationC == null
          || foldValidationC.isEmpty()
          || foldValidationC.stream().anyMatch(c -> c == null || c.isNaN())) {
        return Double.NaN;
      }
      return foldValidationC.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
  }

  /** The model of {@code kind} (fusion, classical, ...) with the highest pooled C, if any. */
  static Optional<Model> bestPooled(List<Model> models, String kind) {
    return models.stream()
        .filter(m -> kind.equals(m.kind()))
        .filter(m -> !Double.isNaN(m.pooledC()))
        .max(Comparator.comparingDouble(Model::pooledC));
  }

  /**
   * The model of {@code kind} with the highest mean validation C over the folds ({@link
   * Model#meanValidationC}): the choice made without the test parts, unlike {@link #bestPooled},
   * whose maximum over pooled C is optimistic when many models compete.
   */
  static Optional<Model> chosenOnValidation(List<Model> models, String kind) {
    return models.stream()
        .filter(m -> kind.equals(m.kind()))
        .filter(m -> !Double.isNaN(m.pooledC()) && !Double.isNaN(m.meanValidationC()))
        .max(Comparator.comparingDouble(Model::meanValidationC));
  }

  /**
   * One model over the repeats of repeated k-fold.
   *
   * @param pooledC the pooled out-of-fold C of each repeat, in repeat order
   * @param pooledCOverRepeats their mean ± sd
   * @param foldC mean ± sd of the test C of every fold of every repeat
   */
  public record Repeated(
      List<Double> pooledC,
      CrossValidationResult.MeanSd pooledCOverRepeats,
      CrossValidationResult.MeanSd foldC) {}

  /**
   * The content of cv/metrics.json for a survival outcome.
   *
   * @param outcome always "survival", so a reader can tell this file from a class-label one
   * @param subjects labeled subjects with an out-of-fold prediction (each exactly once per model)
   * @param events those with an observed event
   * @param minPatternSize the per-pattern threshold: evaluate.min-pattern-size times k, since the
   *     pooled predictions cover k test parts
   * @param comparisons paired bootstrap differences in pooled C: every model against {@code
   *     reference}, and the fusion against the classical baseline both by pooled C ({@link
   *     #bestPooled}) and chosen on mean validation C ({@link #chosenOnValidation})
   * @param skipped models missing from some fold's evaluation (not pooled), with those folds
   * @param repeated repeated k-fold (splits.repeats &gt; 1), by model; this file's other figures
   *     are repeat 0's; empty without repeats
   * @param unimodalBaselines per modality, the unimodal baseline each fold chose on validation C
   *     and the pooled model standing for them (as for class labels, {@link
   *     CrossValidationResult.FoldBaseline}); empty when the folds recorded none
   * @param reference the comparisons' reference ({@link #bestUnimodal()}), null without one
   * @param referenceRule how {@code reference} was chosen, in words
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Result(
      String outcome,
      int folds,
      long subjects,
      long events,
      String validation,
      int minPatternSize,
      List<Model> models,
      List<SurvivalEvaluation.PairedC> comparisons,
      Map<String, List<Integer>> skipped,
      Map<String, Repeated> repeated,
      String metricsPath,
      List<CrossValidationResult.FoldBaseline> unimodalBaselines,
      String reference,
      String referenceRule) {
    @com.fasterxml.jackson.annotation.JsonCreator
    public Result {
      unimodalBaselines = unimodalBaselines == null ? List.of() : List.copyOf(unimodalBaselines);
    }

    /**
     * The reference of the paired comparisons: among the unimodal baselines chosen on validation C
     * in each fold (every unimodal model when the folds recorded none), the highest pooled C.
     */
    public Optional<Model> bestUnimodal() {
      return CrossValidationResult.bestChosen(
          models, unimodalBaselines, Model::name, Model::kind, Model::pooledC);
    }

    public Optional<Model> best() {
      return models.stream()
          .filter(m -> !Double.isNaN(m.pooledC()))
          .max(Comparator.comparingDouble(Model::pooledC));
    }

    /** The model of {@code kind} (fusion, classical, ...) with the highest pooled C, if any. */
    public Optional<Model> bestPooled(String kind) {
      return SurvivalCrossValidation.bestPooled(models, kind);
    }

    /** The model of {@code kind} with the highest mean validation C over the folds, if any. */
    public Optional<Model> chosenOnValidation(String kind) {
      return SurvivalCrossValidation.chosenOnValidation(models, kind);
    }

    /** The paired comparison of {@code model} with {@code reference}, if it was computed. */
    public Optional<SurvivalEvaluation.PairedC> comparison(String model, String reference) {
      return comparisons.stream()
          .filter(c -> c.model().equals(model) && c.reference().equals(reference))
          .findFirst();
    }

    /**
     * The console lines comparing fusion with the classical baselines on the pooled subjects: the
     * best of each by pooled C, and the two chosen on mean validation C; empty without both kinds.
     * Public for the cv page, which prints them under the reference.
     */
    public String fusionAgainstClassical() {
      return FusionAgainstClassical.pooled("C")
          .lines(
              bestPooled("fusion").map(Result::pick),
              bestPooled("classical").map(Result::pick),
              chosenOnValidation("fusion").map(Result::pick),
              chosenOnValidation("classical").map(Result::pick),
              (model, reference) ->
                  comparison(model, reference)
                      .map(c -> new FusionAgainstClassical.Interval(c.lower(), c.upper())));
    }

    /** A model's mean validation and pooled C for the fusion-against-classical lines. */
    private static FusionAgainstClassical.Pick pick(Model m) {
      return new FusionAgainstClassical.Pick(m.name(), m.meanValidationC(), m.pooledC());
    }

    /** The console summary: every model's pooled C with its interval and the per-fold C. */
    public String summary() {
      StringBuilder s =
          new StringBuilder(
              String.format(
                  Locale.ROOT,
                  "Survival cross-validation: %d folds, %d subjects, %d events; pooled out-of-fold"
                      + " C-index [95%% bootstrap CI], per-fold C mean ± sd%n",
                  folds,
                  subjects,
                  events));
      models.stream()
          .sorted(Comparator.comparingDouble((Model m) -> -m.pooledC()))
          .forEach(
              m ->
                  s.append(
                      String.format(
                          Locale.ROOT,
                          "  %-22s C %.3f [%.3f, %.3f]  folds %.3f ± %.3f%n",
                          m.name(),
                          m.pooledC(),
                          m.pooledCLower(),
                          m.pooledCUpper(),
                          m.foldCIndex().mean(),
                          m.foldCIndex().sd())));
      s.append(
          CrossValidationResult.referenceLine(
              bestUnimodal().map(Model::name).orElse(null), unimodalBaselines, "C"));
      best()
          .flatMap(b -> comparison(b.name(), reference))
          .ifPresent(
              c ->
                  s.append(
                      String.format(
                          Locale.ROOT,
                          "%s against the reference (%s): %+.3f pooled C [%+.3f, %+.3f]%n",
                          c.model(),
                          c.reference(),
                          c.difference(),
                          c.lower(),
                          c.upper())));
      s.append(fusionAgainstClassical());
      if (repeated != null && !repeated.isEmpty()) {
        Map<String, CrossValidationResult.MeanSd> overRepeats = new java.util.LinkedHashMap<>();
        repeated.forEach((name, r) -> overRepeats.put(name, r.pooledCOverRepeats()));
        s.append(
            CrossValidationResult.repeatsSummary(
                "C", repeated.values().iterator().next().pooledC().size(), overRepeats));
      }
      return s.toString();
    }
  }

  /** One subject's out-of-fold prediction of one model. */
  private record Oof(double risk, double duration, boolean event, String pattern) {}

  /**
   * Pools every repeat into its directory and returns repeat 0's result, which with repeats also
   * summarises every model's pooled C over the repeats.
   */
  public Result execute() {
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    List<Result> pooled = new ArrayList<>();
    for (int r = 0; r < repeats.size(); r++) {
      pooled.add(pool(repeats.get(r), outputDirs.get(r)));
    }
    Map<String, Repeated> repeated = new TreeMap<>();
    CrossValidationAction.overRepeats(
            pooled.stream().map(Result::models).toList(), Model::name, Model::pooledC, Model::foldC)
        .forEach(
            (name, o) -> repeated.put(name, new Repeated(o.pooled(), o.overRepeats(), o.folds())));
    Result p = pooled.get(0);
    pooled.set(
        0,
        new Result(
            p.outcome(),
            p.folds(),
            p.subjects(),
            p.events(),
            p.validation(),
            p.minPatternSize(),
            p.models(),
            p.comparisons(),
            p.skipped(),
            repeated,
            p.metricsPath(),
            p.unimodalBaselines(),
            p.reference(),
            p.referenceRule()));
    for (int r = 0; r < pooled.size(); r++) {
      Result result = pooled.get(r);
      AtomicDirectory.write(
          hconf,
          outputDirs.get(r),
          tmp -> {
            Json.write(hconf, tmp + "/" + EvaluateOutputs.METRICS, result);
            return null;
          });
    }
    return pooled.get(0);
  }

  private Result pool(List<String> foldEvaluateDirs, String outputDir) {
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    List<SurvivalEvaluation.Result> perFold = new ArrayList<>();
    for (String dir : foldEvaluateDirs) {
      SurvivalEvaluation.Result r =
          Json.read(hconf, dir + "/" + EvaluateOutputs.METRICS, SurvivalEvaluation.Result.class);
      if (!"survival".equals(r.outcome())) {
        throw new IllegalStateException(
            "Cannot pool survival folds: "
                + dir
                + "/"
                + EvaluateOutputs.METRICS
                + " is not a survival evaluation");
      }
      perFold.add(r);
    }
    int k = foldEvaluateDirs.size();
    Map<String, List<Integer>> skipped = new TreeMap<>();
    List<String> names =
        CrossValidationAction.inEveryFold(
            perFold.stream()
                .map(r -> r.models().stream().map(SurvivalEvaluation.ModelSurvival::name).toList())
                .toList(),
            skipped);
    List<CrossValidationResult.FoldBaseline> baselines =
        CrossValidationAction.foldBaselines(
            perFold.stream().map(SurvivalEvaluation.Result::unimodalBaselines).toList(),
            perFold.stream()
                .map(r -> r.models().stream().map(SurvivalEvaluation.ModelSurvival::name).toList())
                .toList(),
            skipped,
            EvaluateResult.UnimodalBaseline.C);
    List<String> columns =
        List.of(
            EvaluateOutputs.RISK, Columns.DURATION, EvaluateOutputs.EVENT, EvaluateOutputs.PATTERN);
    java.util.function.BiFunction<Integer, org.apache.spark.sql.Row, Oof> read =
        (f, row) ->
            new Oof(row.getDouble(2), row.getDouble(3), row.getInt(4) == 1, row.getString(5));
    Map<String, TreeMap<String, Oof>> pooled =
        CrossValidationAction.readOutOfFold(spark, foldEvaluateDirs, names, columns, read);
    // Each fold's model name per pooled model: itself, or for baseline:<m> the fold's choice.
    Map<String, List<String>> perFoldNames = new java.util.LinkedHashMap<>();
    Map<String, CrossValidationResult.FoldBaseline> composites = new TreeMap<>();
    names.forEach(name -> perFoldNames.put(name, java.util.Collections.nCopies(k, name)));
    for (CrossValidationResult.FoldBaseline b : baselines) {
      if (!b.unanimous()) {
        perFoldNames.put(b.pooledAs(), b.chosenPerFold());
        composites.put(b.pooledAs(), b);
        pooled.put(
            b.pooledAs(),
            CrossValidationAction.readChosen(
                spark, foldEvaluateDirs, b.chosenPerFold(), columns, read));
      }
    }
    List<String> subjects = null;
    SurvivalEvaluation.Outcomes outcomes = null;
    Map<String, double[]> risks = new TreeMap<>();
    List<Model> models = new ArrayList<>();
    for (String name : perFoldNames.keySet()) {
      TreeMap<String, Oof> byId = pooled.get(name);
      subjects = CrossValidationAction.sameSubjects(name, subjects, List.copyOf(byId.keySet()));
      int n = byId.size();
      double[] risk = new double[n];
      double[] time = new double[n];
      boolean[] event = new boolean[n];
      String[] patterns = new String[n];
      int i = 0;
      for (Oof o : byId.values()) {
        risk[i] = o.risk();
        time[i] = o.duration();
        patterns[i] = o.pattern();
        event[i++] = o.event();
      }
      outcomes = new SurvivalEvaluation.Outcomes(time, event);
      risks.put(name, risk);
      SurvivalMetrics.BootstrapInterval c =
          SurvivalMetrics.bootstrapHarrellC(
              time,
              event,
              risk,
              SurvivalEvaluation.REPLICATES,
              SurvivalEvaluation.CONFIDENCE,
              seed);
      double[] foldC = new double[k];
      List<Double> foldValidationC = new ArrayList<>();
      SurvivalEvaluation.ModelSurvival first = null;
      for (int f = 0; f < k; f++) {
        SurvivalEvaluation.ModelSurvival m = get(perFold.get(f), perFoldNames.get(name).get(f));
        first = first == null ? m : first;
        foldC[f] = m.test().cIndex();
        foldValidationC.add(m.validationConcordance());
      }
      models.add(
          new Model(
              name,
              composites.containsKey(name) ? "unimodal" : first.kind(),
              composites.containsKey(name)
                  ? CrossValidationAction.compositeDescription(composites.get(name))
                  : first.describe(),
              c.estimate(),
              c.lower(),
              c.upper(),
              java.util.Arrays.stream(foldC).boxed().toList(),
              java.util.Collections.unmodifiableList(foldValidationC),
              CrossValidationResult.MeanSd.of(foldC),
              SurvivalEvaluation.perPattern(risk, outcomes, patterns, minPatternSize * k)));
    }
    List<SurvivalEvaluation.PairedC> comparisons = new ArrayList<>();
    SurvivalEvaluation.Outcomes o = outcomes;
    // The reference as in single-split evaluate: only the baselines chosen on validation compete.
    java.util.Optional<Model> reference =
        CrossValidationResult.bestChosen(
            models, baselines, Model::name, Model::kind, Model::pooledC);
    reference.ifPresent(
        u ->
            models.forEach(
                m -> {
                  if (!m.name().equals(u.name())) {
                    comparisons.add(
                        SurvivalEvaluation.pairedOnRisk(
                            m.name(), risks.get(m.name()), u.name(), risks.get(u.name()), o, seed));
                  }
                }));
    // As for class labels: the best fusion against the best classical baseline by pooled C, and
    // the pair chosen on mean validation C over the folds.
    addPaired(comparisons, bestPooled(models, "fusion"), bestPooled(models, "classical"), risks, o);
    addPaired(
        comparisons,
        chosenOnValidation(models, "fusion"),
        chosenOnValidation(models, "classical"),
        risks,
        o);
    return new Result(
        "survival",
        k,
        subjects == null ? 0 : subjects.size(),
        o == null ? 0 : SurvivalEvaluation.countEvents(o),
        CrossValidationAction.VALIDATION,
        minPatternSize * k,
        models,
        comparisons,
        skipped,
        Map.of(),
        outputDir + "/" + EvaluateOutputs.METRICS,
        baselines,
        reference.map(Model::name).orElse(null),
        CrossValidationResult.referenceRule(!baselines.isEmpty(), "C"));
  }

  /**
   * Adds the paired bootstrap difference in pooled C of {@code fusion} minus {@code classical} when
   * both are present and the pair is not there yet (the best by pooled C and the pair chosen on
   * validation may be the same models).
   */
  private void addPaired(
      List<SurvivalEvaluation.PairedC> comparisons,
      Optional<Model> fusion,
      Optional<Model> classical,
      Map<String, double[]> risks,
      SurvivalEvaluation.Outcomes o) {
    if (fusion.isEmpty() || classical.isEmpty()) {
      return;
    }
    String f = fusion.get().name();
    String c = classical.get().name();
    if (comparisons.stream().anyMatch(x -> x.model().equals(f) && x.reference().equals(c))) {
      return;
    }
    comparisons.add(SurvivalEvaluation.pairedOnRisk(f, risks.get(f), c, risks.get(c), o, seed));
  }

  private static SurvivalEvaluation.ModelSurvival get(SurvivalEvaluation.Result r, String name) {
    return r.models().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
  }
}
