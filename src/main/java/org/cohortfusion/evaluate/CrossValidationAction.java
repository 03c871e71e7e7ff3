package org.cohortfusion.evaluate;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.Json;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EvaluateOutputs;

/**
 * Pools k-fold cross-validation: reads every fold's evaluate output ({@code
 * <output.dir>/folds/<f>/evaluate}: its metrics.json and its predictions of the fold's held-out
 * part) and computes, per model, the mean ± sd of the per-fold metrics and the metrics of the
 * POOLED out-of-fold predictions — overall ({@link ClassificationMetrics}: AUROC with ties one
 * half), with DeLong's 95% interval of the pooled AUROC, per missingness pattern
 * (evaluate.min-pattern-size times k), and paired DeLong differences against the reference on the
 * same pooled subjects: the best by pooled AUROC among the unimodal baselines each fold chose on
 * validation ({@link CrossValidationResult.FoldBaseline}), never a unimodal model picked on test.
 * Every labeled subject must have exactly one out-of-fold prediction per model; anything else stops
 * the pooling. Writes {@code <output.dir>/cv/metrics.json} atomically. Only counts and metrics are
 * logged, never subject-level values. A survival outcome is pooled by {@link
 * SurvivalCrossValidation}, which shares the fold layout and the reading and checking of
 * out-of-fold predictions defined here.
 */
public final class CrossValidationAction {
  /** How each fold's validation split is chosen (see cohort.FoldView). */
  public static final String VALIDATION =
      "validation = fold (f + 1) mod k, train = the other k - 2 folds";

  private final SparkSession spark;

  /** Per repeat: the fold evaluate directories (fold f = index f). */
  private final List<List<String>> repeats;

  /**
   * Per repeat: where its pooled metrics.json goes (repeat 0's also carries the summary over
   * repeats).
   */
  private final List<String> outputDirs;

  private final int minPatternSize;

  private CrossValidationAction(
      SparkSession spark, List<List<String>> repeats, List<String> outputDirs, int minPatternSize) {
    this.spark = spark;
    this.repeats = repeats.stream().map(List::copyOf).toList();
    this.outputDirs = List.copyOf(outputDirs);
    this.minPatternSize = minPatternSize;
  }

  /**
   * The folds (splits.folds) of every repeat (splits.repeats) of {@code config}, written to {@code
   * <output.dir>/cv}.
   */
  public static CrossValidationAction of(SparkSession spark, PipelineConfig config) {
    return new CrossValidationAction(
        spark, foldEvaluateDirs(config), cvOutputDirs(config), config.evaluate().minPatternSize());
  }

  /**
   * Per repeat (splits.repeats) of {@code config}, its folds' evaluate directories (fold f = index
   * f); shared with {@link SurvivalCrossValidation}.
   */
  static List<List<String>> foldEvaluateDirs(PipelineConfig config) {
    int k = config.splits().folds();
    if (k < 2) {
      throw new IllegalArgumentException(
          "Cannot pool cross-validation folds: splits.folds is " + k + ", expected 2 or more");
    }
    List<List<String>> repeats = new ArrayList<>();
    for (int r = 0; r < config.splits().repeats(); r++) {
      List<String> dirs = new ArrayList<>();
      for (int f = 0; f < k; f++) {
        dirs.add(config.foldOutputDir(r, f) + "/evaluate");
      }
      repeats.add(dirs);
    }
    return repeats;
  }

  /** Per repeat of {@code config}, where its pooled metrics.json goes. */
  static List<String> cvOutputDirs(PipelineConfig config) {
    List<String> outs = new ArrayList<>();
    for (int r = 0; r < config.splits().repeats(); r++) {
      outs.add(config.cvOutputDir(r));
    }
    return outs;
  }

  /** Pools these fold evaluate directories (fold f = index f) into {@code outputDir}. */
  public static CrossValidationAction of(
      SparkSession spark, List<String> foldEvaluateDirs, String outputDir, int minPatternSize) {
    return new CrossValidationAction(
        spark, List.of(foldEvaluateDirs), List.of(outputDir), minPatternSize);
  }

  /** One subject's out-of-fold prediction of one model. */
  private record Oof(int fold, double[] probability, int label, String pattern) {}

  /**
   * Pools every repeat into its directory and returns repeat 0's result, which with repeats also
   * summarises every model's pooled AUROC over the repeats.
   */
  public CrossValidationResult execute() {
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    List<CrossValidationResult> pooled = new ArrayList<>();
    for (int r = 0; r < repeats.size(); r++) {
      pooled.add(pool(repeats.get(r), outputDirs.get(r)));
    }
    Map<String, CrossValidationResult.Repeated> repeated = new TreeMap<>();
    overRepeats(
            pooled.stream().map(CrossValidationResult::models).toList(),
            CrossValidationResult.Model::name,
            m -> m.pooled().auroc(),
            m -> m.perFold().stream().map(f -> f.test().auroc()).toList())
        .forEach(
            (name, o) ->
                repeated.put(
                    name,
                    new CrossValidationResult.Repeated(o.pooled(), o.overRepeats(), o.folds())));
    for (int r = pooled.size() - 1; r >= 0; r--) {
      CrossValidationResult p = pooled.get(r);
      CrossValidationResult result = r > 0 ? p : p.withRepeated(repeated);
      AtomicDirectory.write(
          hconf,
          outputDirs.get(r),
          tmp -> {
            Json.write(hconf, tmp + "/" + EvaluateOutputs.METRICS, result);
            return null;
          });
      pooled.set(r, result);
    }
    return pooled.get(0);
  }

  /**
   * One model over the repeats of repeated k-fold.
   *
   * @param pooled its pooled metric in each repeat, in repeat order
   * @param overRepeats their mean ± sd
   * @param folds mean ± sd of its metric in every fold of every repeat
   */
  record OverRepeats(
      List<Double> pooled,
      CrossValidationResult.MeanSd overRepeats,
      CrossValidationResult.MeanSd folds) {}

  /**
   * Every model of repeat 0 that was pooled in every repeat, by name, over the repeats; empty with
   * one repeat. Shared with {@link SurvivalCrossValidation}.
   *
   * @param modelsPerRepeat per repeat, its pooled models
   * @param pooled a model's pooled metric
   * @param folds a model's metric in each fold
   */
  static <M> Map<String, OverRepeats> overRepeats(
      List<List<M>> modelsPerRepeat,
      Function<M, String> name,
      ToDoubleFunction<M> pooled,
      Function<M, List<Double>> folds) {
    Map<String, OverRepeats> out = new TreeMap<>();
    if (modelsPerRepeat.size() < 2) {
      return out;
    }
    for (M m : modelsPerRepeat.get(0)) {
      String n = name.apply(m);
      List<Double> each = new ArrayList<>();
      List<Double> all = new ArrayList<>();
      for (List<M> repeat : modelsPerRepeat) {
        repeat.stream()
            .filter(x -> name.apply(x).equals(n))
            .findFirst()
            .ifPresent(
                x -> {
                  each.add(pooled.applyAsDouble(x));
                  all.addAll(folds.apply(x));
                });
      }
      if (each.size() == modelsPerRepeat.size()) {
        out.put(
            n,
            new OverRepeats(
                each,
                CrossValidationResult.MeanSd.of(
                    each.stream().mapToDouble(Double::doubleValue).toArray()),
                CrossValidationResult.MeanSd.of(
                    all.stream().mapToDouble(Double::doubleValue).toArray())));
      }
    }
    return out;
  }

  /** One repeat's folds pooled (not written). */
  private CrossValidationResult pool(List<String> foldEvaluateDirs, String outputDir) {
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    int k = foldEvaluateDirs.size();
    List<EvaluateResult> perFold = new ArrayList<>();
    for (String dir : foldEvaluateDirs) {
      perFold.add(EvaluateAction.read(hconf, dir));
    }
    int numClasses = perFold.get(0).numClasses();
    Map<String, List<Integer>> skipped = new TreeMap<>();
    List<String> names =
        inEveryFold(
            perFold.stream().map(r -> r.models().stream().map(m -> m.name()).toList()).toList(),
            skipped);
    List<CrossValidationResult.FoldBaseline> baselines =
        foldBaselines(
            perFold.stream().map(EvaluateResult::unimodalBaselines).toList(),
            perFold.stream().map(r -> r.models().stream().map(m -> m.name()).toList()).toList(),
            skipped,
            EvaluateResult.UnimodalBaseline.AUROC);
    Map<String, TreeMap<String, Oof>> pooled = readPredictions(foldEvaluateDirs, names, numClasses);
    // Each fold's model name per pooled model: itself, or for baseline:<m> the fold's choice.
    Map<String, List<String>> perFoldNames = new LinkedHashMap<>();
    names.forEach(name -> perFoldNames.put(name, java.util.Collections.nCopies(k, name)));
    for (CrossValidationResult.FoldBaseline b : baselines) {
      if (!b.unanimous()) {
        perFoldNames.put(b.pooledAs(), b.chosenPerFold());
        pooled.put(
            b.pooledAs(),
            readChosen(
                spark,
                foldEvaluateDirs,
                b.chosenPerFold(),
                List.of(EvaluateOutputs.PROBABILITY, Columns.LABEL, EvaluateOutputs.PATTERN),
                oofReader(numClasses)));
      }
    }
    List<CrossValidationResult.Model> models = new ArrayList<>();
    Map<String, double[][]> probabilities = new LinkedHashMap<>();
    int[] labels = null;
    List<String> subjects = null;
    for (String name : perFoldNames.keySet()) {
      TreeMap<String, Oof> byId = pooled.get(name);
      List<String> ids = new ArrayList<>(byId.keySet());
      subjects = sameSubjects(name, subjects, ids);
      double[][] p = new double[ids.size()][];
      int[] y = new int[ids.size()];
      String[] patterns = new String[ids.size()];
      int i = 0;
      for (Oof o : byId.values()) {
        p[i] = o.probability();
        y[i] = o.label();
        patterns[i++] = o.pattern();
      }
      labels = y;
      probabilities.put(name, p);
      models.add(
          model(
              name,
              perFoldNames.get(name),
              baselines.stream().filter(b -> b.pooledAs().equals(name)).findFirst().orElse(null),
              perFold,
              p,
              y,
              patterns,
              numClasses,
              k));
    }
    long n = subjects == null ? 0 : subjects.size();
    List<EvaluateResult.Comparison> comparisons = new ArrayList<>();
    CrossValidationResult draft =
        new CrossValidationResult(
            k,
            numClasses,
            n,
            VALIDATION,
            minPatternSize * k,
            perFold.get(0).removalRates(),
            models,
            List.of(),
            skipped,
            Map.of(),
            outputDir + "/" + EvaluateOutputs.METRICS,
            baselines,
            null,
            null);
    String reference = draft.bestUnimodal().map(CrossValidationResult.Model::name).orElse(null);
    if (numClasses == 2 && labels != null && bothClasses(labels)) {
      PairedComparisons paired = new PairedComparisons(probabilities, labels);
      draft.bestUnimodal().ifPresent(u -> models.forEach(m -> paired.add(m.name(), u.name())));
      draft
          .bestPooled("fusion")
          .ifPresent(
              f -> draft.bestPooled("classical").ifPresent(c -> paired.add(f.name(), c.name())));
      draft
          .chosenOnValidation("fusion")
          .ifPresent(
              f ->
                  draft
                      .chosenOnValidation("classical")
                      .ifPresent(c -> paired.add(f.name(), c.name())));
      comparisons.addAll(paired.list());
    }
    return draft.withComparisons(
        comparisons, reference, CrossValidationResult.referenceRule(!baselines.isEmpty(), "AUROC"));
  }

  /**
   * Per modality, the unimodal baseline each fold chose on validation ({@code choicesPerFold}, each
   * fold's metrics.json {@code unimodalBaselines}) and the pooled model standing for them: the
   * chosen model itself when every fold chose it, else {@code baseline:<m>}. A fold that recorded
   * no choice for a modality another fold did scored no encoder head, so train's head on the frozen
   * embedding was its only baseline and counts as its choice. A modality whose choice a fold did
   * not evaluate gets no baseline and goes to {@code skipped} as {@code baseline:<m>} with those
   * folds. Empty when no fold recorded a choice. Shared with {@link SurvivalCrossValidation}.
   *
   * @param modelsPerFold per fold, the names of the models it evaluated
   * @param metric the validation metric of the choices
   */
  static List<CrossValidationResult.FoldBaseline> foldBaselines(
      List<List<EvaluateResult.UnimodalBaseline>> choicesPerFold,
      List<List<String>> modelsPerFold,
      Map<String, List<Integer>> skipped,
      String metric) {
    java.util.LinkedHashSet<String> modalities = new java.util.LinkedHashSet<>();
    choicesPerFold.forEach(c -> c.forEach(b -> modalities.add(b.modality())));
    List<CrossValidationResult.FoldBaseline> out = new ArrayList<>();
    for (String m : modalities) {
      List<String> chosen = new ArrayList<>();
      List<Integer> missing = new ArrayList<>();
      for (int f = 0; f < choicesPerFold.size(); f++) {
        String c =
            choicesPerFold.get(f).stream()
                .filter(b -> b.modality().equals(m))
                .map(EvaluateResult.UnimodalBaseline::chosen)
                .findFirst()
                .orElse(EncoderHeads.FROZEN_PREFIX + m);
        chosen.add(c);
        if (!modelsPerFold.get(f).contains(c)) {
          missing.add(f);
        }
      }
      String composite = CrossValidationResult.BASELINE_PREFIX + m;
      if (!missing.isEmpty()) {
        skipped.put(composite, missing);
        continue;
      }
      boolean unanimous = chosen.stream().distinct().count() == 1;
      out.add(
          new CrossValidationResult.FoldBaseline(
              m, unanimous ? chosen.get(0) : composite, chosen, metric));
    }
    return out;
  }

  /**
   * The out-of-fold rows of a pooled baseline: from fold f, those of the model fold f chose ({@code
   * chosenPerFold.get(f)}), by subject id; a subject in two folds stops the pooling as in {@link
   * #readOutOfFold}.
   */
  static <T> TreeMap<String, T> readChosen(
      SparkSession spark,
      List<String> foldEvaluateDirs,
      List<String> chosenPerFold,
      List<String> columns,
      BiFunction<Integer, Row, T> read) {
    TreeMap<String, T> out = new TreeMap<>();
    Map<String, Integer> foldOf = new HashMap<>();
    for (int f = 0; f < foldEvaluateDirs.size(); f++) {
      int fold = f;
      String name = chosenPerFold.get(f);
      Map<String, T> rows =
          readOutOfFold(
                  spark,
                  List.of(foldEvaluateDirs.get(f)),
                  List.of(name),
                  columns,
                  (ignored, r) -> read.apply(fold, r))
              .get(name);
      for (Map.Entry<String, T> e : rows.entrySet()) {
        Integer before = foldOf.put(e.getKey(), f);
        if (before != null) {
          throw new IllegalStateException(
              "Cannot pool the unimodal baselines chosen per fold: a subject has out-of-fold"
                  + " predictions in fold "
                  + before
                  + " and fold "
                  + f
                  + "; every subject must be held out once");
        }
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
  }

  /** Every fold's predictions of {@code names}, by model and subject id (sorted). */
  private Map<String, TreeMap<String, Oof>> readPredictions(
      List<String> foldEvaluateDirs, List<String> names, int numClasses) {
    return readOutOfFold(
        spark,
        foldEvaluateDirs,
        names,
        List.of(EvaluateOutputs.PROBABILITY, Columns.LABEL, EvaluateOutputs.PATTERN),
        oofReader(numClasses));
  }

  private static BiFunction<Integer, Row, Oof> oofReader(int numClasses) {
    return (f, r) -> {
      double[] p;
      if (numClasses == 2) {
        double q = r.getDouble(2);
        p = new double[] {1 - q, q};
      } else {
        p = r.getList(2).stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray();
      }
      return new Oof(f, p, r.getInt(3), r.getString(4));
    };
  }

  /**
   * The models evaluated in every fold, in the first fold's order; the others go to {@code skipped}
   * with the folds that lack them.
   *
   * @param modelsPerFold per fold, the names of the models it evaluated
   */
  static List<String> inEveryFold(
      List<List<String>> modelsPerFold, Map<String, List<Integer>> skipped) {
    List<String> names = new ArrayList<>();
    TreeSet<String> all = new TreeSet<>();
    modelsPerFold.forEach(all::addAll);
    for (String name : all) {
      List<Integer> missing = new ArrayList<>();
      for (int f = 0; f < modelsPerFold.size(); f++) {
        if (!modelsPerFold.get(f).contains(name)) {
          missing.add(f);
        }
      }
      if (missing.isEmpty()) {
        names.add(name);
      } else {
        skipped.put(name, missing);
      }
    }
    List<String> first = modelsPerFold.get(0);
    names.sort(java.util.Comparator.comparingInt(first::indexOf));
    return names;
  }

  /**
   * Every fold's out-of-fold rows of {@code names} (read from each fold's predictions/ as {@code
   * subject_id, model, columns...}, turned into a T by {@code read(fold, row)}), by model and
   * subject id (sorted). A subject predicted twice for a model (in two folds, or twice in one)
   * stops the pooling: the folds would not partition the cohort.
   */
  static <T> Map<String, TreeMap<String, T>> readOutOfFold(
      SparkSession spark,
      List<String> foldEvaluateDirs,
      List<String> names,
      List<String> columns,
      BiFunction<Integer, Row, T> read) {
    Map<String, TreeMap<String, T>> out = new HashMap<>();
    Map<String, Map<String, Integer>> foldOf = new HashMap<>();
    names.forEach(
        n -> {
          out.put(n, new TreeMap<>());
          foldOf.put(n, new HashMap<>());
        });
    List<org.apache.spark.sql.Column> select =
        new ArrayList<>(List.of(col(Columns.SUBJECT_ID), col(EvaluateOutputs.MODEL)));
    columns.forEach(c -> select.add(col(c)));
    for (int f = 0; f < foldEvaluateDirs.size(); f++) {
      List<Row> rows =
          spark
              .read()
              .parquet(foldEvaluateDirs.get(f) + "/" + EvaluateOutputs.PREDICTIONS)
              .where(col(EvaluateOutputs.MODEL).isin(names.toArray()))
              .select(select.toArray(new org.apache.spark.sql.Column[0]))
              .collectAsList();
      for (Row r : rows) {
        Integer before = foldOf.get(r.getString(1)).put(r.getString(0), f);
        if (before != null) {
          throw new IllegalStateException(
              "Cannot pool model '"
                  + r.getString(1)
                  + "': a subject has out-of-fold"
                  + " predictions in fold "
                  + before
                  + " and fold "
                  + f
                  + "; every subject must be held out once");
        }
        out.get(r.getString(1)).put(r.getString(0), read.apply(f, r));
      }
    }
    return out;
  }

  /**
   * {@code ids}, the subjects model {@code name} predicted, when they are those of the models
   * pooled before it ({@code before}, null for the first model); else the pooling stops.
   */
  static List<String> sameSubjects(String name, List<String> before, List<String> ids) {
    if (before != null && !before.equals(ids)) {
      throw new IllegalStateException(
          "Cannot pool model '"
              + name
              + "': its out-of-fold predictions cover "
              + ids.size()
              + " subjects, another model's "
              + before.size()
              + " (or other subjects)");
    }
    return ids;
  }

  /**
   * @param perFoldNames the model of each fold pooled as {@code name} (the fold's chosen baseline
   *     for {@code baseline:<m>}, else {@code name} itself)
   * @param baseline the choices {@code name} pools when it is {@code baseline:<m>}, else null
   */
  private CrossValidationResult.Model model(
      String name,
      List<String> perFoldNames,
      CrossValidationResult.FoldBaseline baseline,
      List<EvaluateResult> perFold,
      double[][] p,
      int[] y,
      String[] patterns,
      int numClasses,
      int k) {
    EvaluateResult.ModelEvaluation first = perFold.get(0).get(perFoldNames.get(0));
    ClassificationMetrics pooled = ClassificationMetrics.of(p, y, numClasses);
    double[] ci =
        numClasses == 2 && bothClasses(y)
            ? aurocInterval(PairedComparisons.positive(p), y, 0.95)
            : new double[] {Double.NaN, Double.NaN};
    List<CrossValidationResult.FoldMetrics> folds = new ArrayList<>();
    double[][] m = new double[4][k];
    int rates = perFold.get(0).removalRates().size();
    double[][] robust = new double[rates][k];
    Map<String, double[]> ablation = new TreeMap<>();
    for (int f = 0; f < k; f++) {
      EvaluateResult.ModelEvaluation e = perFold.get(f).get(perFoldNames.get(f));
      folds.add(new CrossValidationResult.FoldMetrics(f, e.test(), e.validationAuroc()));
      m[0][f] = e.test().auroc();
      m[1][f] = e.test().auprc();
      m[2][f] = e.test().brier();
      m[3][f] = e.test().ece();
      for (int r = 0; r < rates && r < e.robustness().size(); r++) {
        robust[r][f] = e.robustness().get(r).auroc();
      }
      for (Map.Entry<String, ClassificationMetrics> a : e.ablation().entrySet()) {
        ablation.computeIfAbsent(a.getKey(), key -> new double[k])[f] = a.getValue().auroc();
      }
    }
    List<CrossValidationResult.MeanSd> robustness =
        Arrays.stream(robust).map(CrossValidationResult.MeanSd::of).toList();
    Map<String, CrossValidationResult.MeanSd> abl = new TreeMap<>();
    ablation.forEach((mod, v) -> abl.put(mod, CrossValidationResult.MeanSd.of(v)));
    boolean composite =
        baseline != null && name.equals(baseline.pooledAs()) && !baseline.unanimous();
    return new CrossValidationResult.Model(
        name,
        composite ? "unimodal" : first.kind(),
        composite ? compositeDescription(baseline) : first.describe(),
        pooled,
        ci[0],
        ci[1],
        folds,
        CrossValidationResult.MeanSd.of(m[0]),
        CrossValidationResult.MeanSd.of(m[1]),
        CrossValidationResult.MeanSd.of(m[2]),
        CrossValidationResult.MeanSd.of(m[3]),
        EvaluateAction.perPattern(p, y, patterns, numClasses, minPatternSize * k),
        robustness,
        abl);
  }

  /**
   * What a pooled {@code baseline:<m>} is, in words; shared with {@link SurvivalCrossValidation}.
   */
  static String compositeDescription(CrossValidationResult.FoldBaseline b) {
    return "per fold, the unimodal baseline of "
        + b.modality()
        + " chosen on validation ("
        + b.describe()
        + ")";
  }

  /** DeLong's interval of one AUROC: AUROC ± z·sqrt(var(V10)/m + var(V01)/n), clipped to [0, 1]. */
  public static double[] aurocInterval(double[] scores, int[] labels, double confidence) {
    int m = (int) Arrays.stream(labels).filter(v -> v == 1).count();
    int n = labels.length - m;
    PairedAuroc.Components c = PairedAuroc.components(scores, labels, m, n);
    double se = Math.sqrt(variance(c.v10(), c.auroc()) / m + variance(c.v01(), c.auroc()) / n);
    double z = new NormalDistribution().inverseCumulativeProbability(1 - (1 - confidence) / 2);
    return new double[] {Math.max(0, c.auroc() - z * se), Math.min(1, c.auroc() + z * se)};
  }

  private static double variance(double[] v, double mean) {
    double s = 0;
    for (double x : v) {
      s += (x - mean) * (x - mean);
    }
    return s / (v.length - 1);
  }

  private static boolean bothClasses(int[] y) {
    long pos = Arrays.stream(y).filter(v -> v == 1).count();
    return pos >= 2 && y.length - pos >= 2;
  }
}
