package org.cohortfusion.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.stage.TrainOutputs;
import org.cohortfusion.train.Batch;
import org.cohortfusion.train.EmbeddingsData;
import org.cohortfusion.train.Metrics;
import org.cohortfusion.train.TrainAction;
import org.cohortfusion.train.TrainResult;
import org.cohortfusion.train.TrainedModels;

/**
 * Fusion against unimodal baselines and against zero-filled concatenation, over a list of seeds:
 * each seed generates its own {@link SyntheticEmbeddings} cohort and trains every model of a
 * condition with that seed, and the test-split AUROC of each model and the differences between
 * models are printed per seed with their mean, min and max. Nothing is asserted: on about 300 test
 * subjects per seed the differences move by about 0.02 between seeds, so whether a claim holds is
 * read from the spread over seeds, not decided by a margin.
 */
public final class FusionSeedsBench {
  private FusionSeedsBench() {}

  /** What the no-interaction and complete conditions compare: the operations and early fusion. */
  private static final List<Difference> OPERATION_DIFFERENCES =
      List.of(
          new Difference(List.of("attention"), "concat"),
          new Difference(List.of("concat"), "early"),
          new Difference(List.of("attention"), "early"),
          new Difference(List.of("tensor"), "concat"));

  /** The default seeds: the two the train tests used and three more. */
  public static final List<Long> SEEDS = List.of(11L, 23L, 5L, 37L, 41L);

  /**
   * A difference of test AUROCs: the best of {@code left} minus {@code right}.
   *
   * @param left one model, or several of which the best counts (e.g. the masked fusions)
   */
  public record Difference(List<String> left, String right) {
    public Difference {
      left = List.copyOf(left);
    }

    public String label() {
      String l = left.size() == 1 ? left.get(0) : "max(" + String.join(",", left) + ")";
      return l + " - " + right;
    }

    double of(Map<String, Double> auroc) {
      return left.stream().mapToDouble(auroc::get).max().orElseThrow() - auroc.get(right);
    }
  }

  /**
   * One cohort generator setting and the models trained on it.
   *
   * @param subjects subjects of each seed's cohort (60% train, 20% validation, 20% test)
   * @param missing MCAR missing rate of each modality at test (and in development unless the
   *     scenario says otherwise)
   * @param offset the generator's non-centring offset (zero is not a neutral value)
   * @param fusionAndTrain the config's fusion and train sections; {@code %1$d} is the seed
   */
  public record Condition(
      String name,
      String description,
      int subjects,
      double[] missing,
      double offset,
      SyntheticEmbeddings.Scenario scenario,
      String fusionAndTrain,
      List<Difference> differences) {
    public Condition {
      missing = missing.clone();
      differences = List.copyOf(differences);
    }

    public Condition withSubjects(int n) {
      return new Condition(
          name, description, n, missing, offset, scenario, fusionAndTrain, differences);
    }
  }

  /**
   * The three comparisons TrainActionTest asserted with margins of 0.02 to 0.05 on seeds 11 and 23,
   * and the first of them on a label without the interaction term and on a cohort without missing
   * modalities.
   */
  public static List<Condition> conditions() {
    return List.of(
        new Condition(
            "fusion-vs-unimodal",
            "20% of each modality missing (MCAR); attention and concat with modality dropout 0.1"
                + " against the default baselines",
            2000,
            new double[] {0.2, 0.2, 0.2},
            1.0,
            SyntheticEmbeddings.Scenario.MCAR,
            threeOperations("default = attention"),
            List.of(
                new Difference(List.of("attention"), "unimodal:clinical"),
                new Difference(List.of("attention"), "unimodal:labs"),
                new Difference(List.of("attention"), "unimodal:imaging"),
                new Difference(List.of("attention"), "early"),
                new Difference(List.of("attention"), "late"),
                new Difference(List.of("attention"), "concat"),
                new Difference(List.of("concat"), "early"),
                new Difference(List.of("tensor"), "concat"))),
        new Condition(
            "no-interaction",
            "fusion-vs-unimodal's cohort without the clinical x labs term in the label (b = 0):"
                + " whether attention's gap to concat and early fusion is the interaction",
            2000,
            new double[] {0.2, 0.2, 0.2},
            1.0,
            SyntheticEmbeddings.Scenario.MCAR.withInteraction(0),
            threeOperations("baselines = [early]"),
            OPERATION_DIFFERENCES),
        new Condition(
            "complete",
            "fusion-vs-unimodal's cohort with no modality missing: whether attention's gap to concat"
                + " and early fusion comes from re-weighting over the modalities a subject has",
            2000,
            new double[] {0, 0, 0},
            1.0,
            SyntheticEmbeddings.Scenario.MCAR,
            threeOperations("baselines = [early]"),
            OPERATION_DIFFERENCES),
        new Condition(
            "normalisation",
            "fusion-vs-unimodal's cohort: attention with softmax weights (a convex combination of"
                + " the present modalities) against sigmoid weights (a sum that grows with them), and"
                + " the masked mean against the sum, whether attention's gap to concat is the"
                + " normalisation",
            2000,
            new double[] {0.2, 0.2, 0.2},
            1.0,
            SyntheticEmbeddings.Scenario.MCAR,
            """
            fusion {
              models {
                attention { what = [clinical, labs, imaging], how = attention, projection = 16, head = [32], modality-dropout = 0.1 }
                attention-sigmoid { what = [clinical, labs, imaging], how = attention, options = { normalised = false }, projection = 16, head = [32], modality-dropout = 0.1 }
                concat { what = [clinical, labs, imaging], how = concat, projection = 16, head = [32], modality-dropout = 0.1 }
                mean { what = [clinical, labs, imaging], how = mean, projection = 16, head = [32], modality-dropout = 0.1 }
                sum { what = [clinical, labs, imaging], how = sum, projection = 16, head = [32], modality-dropout = 0.1 }
              }
              baselines = [early]
            }
            train { mode = local, epochs = 15, batch-size = 32, learning-rate = 0.005, patience = 4, seed = %1$d }
            """,
            List.of(
                new Difference(List.of("attention"), "concat"),
                new Difference(List.of("attention-sigmoid"), "concat"),
                new Difference(List.of("attention-sigmoid"), "attention"),
                new Difference(List.of("sum"), "mean"),
                new Difference(List.of("sum"), "concat"),
                new Difference(List.of("attention-sigmoid"), "early"))),
        new Condition(
            "half-missing",
            "half of each modality missing (MCAR) in every split; masked fusion (mean, attention,"
                + " attention with sigmoid weights) against zero-filled concatenation (concat, early)",
            1500,
            new double[] {0.5, 0.5, 0.5},
            3.0,
            SyntheticEmbeddings.Scenario.MCAR,
            """
            fusion {
              models {
                mean { what = [clinical, labs, imaging], how = mean, projection = 16, head = [32] }
                attention { what = [clinical, labs, imaging], how = attention, projection = 16, head = [32] }
                attention-sigmoid { what = [clinical, labs, imaging], how = attention, options = { normalised = false }, projection = 16, head = [32] }
                concat { what = [clinical, labs, imaging], how = concat, projection = 16, head = [32] }
              }
              baselines = [early]
            }
            train { mode = local, epochs = 12, batch-size = 32, patience = 4, seed = %1$d }
            """,
            List.of(
                new Difference(List.of("mean", "attention"), "concat"),
                new Difference(List.of("mean", "attention"), "early"),
                new Difference(List.of("attention-sigmoid"), "attention"),
                new Difference(List.of("attention-sigmoid"), "concat"))),
        new Condition(
            "missingness-shift",
            "development splits complete, half of each modality missing at test (MCAR), latents"
                + " sharing one factor (rho 0.9); modality dropout 0.3 except attention-nodrop;"
                + " attention-sigmoid: unnormalised weights, whose sum shifts with the missingness",
            1500,
            new double[] {0.5, 0.5, 0.5},
            3.0,
            new SyntheticEmbeddings.Scenario(0.9, 0, new double[] {0, 0, 0}),
            """
            fusion {
              models {
                attention { what = [clinical, labs, imaging], how = attention, projection = 16, head = [32], modality-dropout = 0.3 }
                attention-nodrop { what = [clinical, labs, imaging], how = attention, projection = 16, head = [32] }
                attention-sigmoid { what = [clinical, labs, imaging], how = attention, options = { normalised = false }, projection = 16, head = [32], modality-dropout = 0.3 }
                concat { what = [clinical, labs, imaging], how = concat, projection = 16, head = [32], modality-dropout = 0.3 }
              }
              baselines = []
            }
            train { mode = local, epochs = 12, batch-size = 32, patience = 4, seed = %1$d, early-stopping = auroc }
            """,
            List.of(
                new Difference(List.of("attention"), "attention-nodrop"),
                new Difference(List.of("attention"), "concat"),
                new Difference(List.of("attention-sigmoid"), "attention"),
                new Difference(List.of("attention-sigmoid"), "concat"))));
  }

  /**
   * The fusion and train sections of the 20%-missing conditions: attention, concat and tensor
   * fusion with the same projections, head and modality dropout, and {@code baselines} (a line of
   * the fusion section).
   */
  private static String threeOperations(String baselines) {
    return """
        fusion {
          models {
            attention { what = [clinical, labs, imaging], how = attention, projection = 16, head = [32], modality-dropout = 0.1 }
            concat { what = [clinical, labs, imaging], how = concat, projection = 16, head = [32], modality-dropout = 0.1 }
            tensor { what = [clinical, labs, imaging], how = tensor, projection = 16, head = [32], modality-dropout = 0.1 }
          }
          %s
        }
        train { mode = local, epochs = 15, batch-size = 32, learning-rate = 0.005, patience = 4, seed = %%1$d }
        """
        .formatted(baselines);
  }

  /** Test AUROC of every model, by seed (in run order) and model name. */
  public record ConditionResult(Condition condition, Map<Long, Map<String, Double>> aurocs) {
    public ConditionResult {
      aurocs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(aurocs));
    }

    /**
     * A row per seed: each model's test AUROC, then each difference; then their mean, min and max
     * over the seeds.
     */
    public String table() {
      List<String> models = new ArrayList<>(aurocs.values().iterator().next().keySet());
      List<String> header = new ArrayList<>(List.of("seed"));
      header.addAll(models);
      condition.differences().forEach(d -> header.add(d.label()));
      List<List<String>> rows = new ArrayList<>();
      rows.add(header);
      int columns = models.size() + condition.differences().size();
      double[][] values = new double[aurocs.size()][columns];
      int i = 0;
      for (Map.Entry<Long, Map<String, Double>> e : aurocs.entrySet()) {
        for (int m = 0; m < models.size(); m++) {
          values[i][m] = e.getValue().get(models.get(m));
        }
        for (int d = 0; d < condition.differences().size(); d++) {
          values[i][models.size() + d] = condition.differences().get(d).of(e.getValue());
        }
        rows.add(row(Long.toString(e.getKey()), values[i], models.size()));
        i++;
      }
      double[] mean = new double[columns];
      double[] min = new double[columns];
      double[] max = new double[columns];
      for (int c = 0; c < columns; c++) {
        final int col = c;
        java.util.DoubleSummaryStatistics s =
            java.util.Arrays.stream(values).mapToDouble(r -> r[col]).summaryStatistics();
        mean[c] = s.getAverage();
        min[c] = s.getMin();
        max[c] = s.getMax();
      }
      rows.add(row("mean", mean, models.size()));
      rows.add(row("min", min, models.size()));
      rows.add(row("max", max, models.size()));
      int[] width = new int[header.size()];
      for (List<String> r : rows) {
        for (int c = 0; c < r.size(); c++) {
          width[c] = Math.max(width[c], r.get(c).length());
        }
      }
      StringBuilder out = new StringBuilder();
      for (List<String> r : rows) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < r.size(); c++) {
          String cell = r.get(c);
          String pad = " ".repeat(width[c] - cell.length());
          line.append(c == 0 ? cell + pad : "  " + pad + cell);
        }
        out.append(line.toString().stripTrailing()).append('\n');
      }
      return out.toString();
    }

    private static List<String> row(String first, double[] values, int aurocColumns) {
      List<String> r = new ArrayList<>(List.of(first));
      for (int c = 0; c < values.length; c++) {
        r.add(String.format(Locale.ROOT, c < aurocColumns ? "%.4f" : "%+.4f", values[c]));
      }
      return r;
    }
  }

  /**
   * Trains every condition on every seed under {@code workDir} and returns the test AUROCs; {@code
   * subjects} (null: each condition's own) replaces every condition's cohort size.
   */
  public static List<ConditionResult> run(
      SparkSession spark,
      String workDir,
      List<Long> seeds,
      Integer subjects,
      List<Condition> conditions,
      Consumer<String> out) {
    List<ConditionResult> results = new ArrayList<>();
    for (Condition given : conditions) {
      Condition c = subjects == null ? given : given.withSubjects(subjects);
      Map<Long, Map<String, Double>> aurocs = new LinkedHashMap<>();
      for (long seed : seeds) {
        long t0 = System.nanoTime();
        aurocs.put(seed, once(spark, workDir + "/" + c.name() + "/seed-" + seed, c, seed));
        out.accept(
            String.format(
                Locale.ROOT,
                "%s, seed %d: trained in %.0f s",
                c.name(),
                seed,
                (System.nanoTime() - t0) / 1e9));
      }
      results.add(new ConditionResult(c, aurocs));
    }
    return results;
  }

  /**
   * Generates the seed's cohort, trains the condition's models with that seed, scores the test
   * split.
   */
  private static Map<String, Double> once(SparkSession spark, String dir, Condition c, long seed) {
    String output = dir + "/out";
    PipelineConfig config =
        PipelineConfigLoader.parse(
            "subjects { path = unused }\n"
                + "modalities { clinical { kind = tabular, path = unused } }\n"
                + "output { dir = \""
                + output
                + "\" }\n"
                + c.fusionAndTrain().formatted(seed),
            List.of());
    EmbeddingsSpec emb =
        SyntheticEmbeddings.write(
            spark,
            config.embeddingsDir(),
            c.subjects(),
            c.missing(),
            c.offset(),
            seed,
            2,
            c.scenario());
    TrainResult r = TrainAction.of(spark, config).progress(line -> {}).execute();
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    List<Batch> test =
        EmbeddingsData.collect(
            EmbeddingsData.table(spark, config.embeddingsDir()), emb, Columns.Splits.TEST, 1024);
    Map<String, Double> auroc = new TreeMap<>();
    for (TrainResult.ModelResult m : r.models()) {
      Metrics.Predictor p =
          TrainedModels.load(hconf, config.trainOutputDir(), TrainOutputs.dirName(m.name()), emb);
      auroc.put(m.name(), Metrics.evaluate(p, test, emb.numClasses()).auroc());
    }
    return auroc;
  }
}
