package org.cohortfusion.evaluate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.io.AtomicDirectory;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.stage.EvaluateOutputs;
import org.cohortfusion.stage.TrainOutputs;
import org.cohortfusion.train.ClassicalBaselines;
import org.cohortfusion.train.TrainedModels;

/**
 * The survival half of the evaluate stage ({@link EvaluateAction#executeSurvival}): every model of
 * the summary scored on the test split's scenarios as hazards ({@link SurvivalEvaluation} computes
 * the metrics), pretrain's encoders with their hazard heads as unimodal baselines, the paired
 * comparisons, and the predictions and metrics.json it writes. The inputs and how each model is
 * scored are the class-label evaluation's ({@link EvaluateAction}).
 */
final class SurvivalEvaluateRun {
  private final SparkSession spark;
  private final EvaluateAction.Options o;

  /** subjects.outcome.horizons; empty: the last interval bound. */
  private final List<Double> horizons;

  private final BiFunction<TrainOutputs.Entry, EvaluateAction.Inputs, Scorer> scorerOf;

  SurvivalEvaluateRun(
      SparkSession spark,
      EvaluateAction.Options o,
      List<Double> horizons,
      BiFunction<TrainOutputs.Entry, EvaluateAction.Inputs, Scorer> scorerOf) {
    this.spark = spark;
    this.o = o;
    this.horizons = horizons;
    this.scorerOf = scorerOf;
  }

  /**
   * Evaluates every completed model of {@code in}'s summary, then pretrain's hazard heads, and
   * writes predictions and metrics.json atomically ({@link EvaluateAction#executeSurvival}).
   */
  SurvivalEvaluation.Result execute(EvaluateAction.Inputs in) {
    EmbeddingsSpec emb = in.emb();
    if (!emb.survival()) {
      throw new IllegalStateException(
          "Cannot evaluate a survival outcome: " + o.embeddingsDir() + " holds class labels");
    }
    TestSplit test = in.test();
    org.cohortfusion.cohort.survival.DiscreteTimeHazard model =
        new org.cohortfusion.cohort.survival.DiscreteTimeHazard(
            emb.survivalIntervals().stream().mapToDouble(Double::doubleValue).toArray());
    SurvivalEvaluation.Outcomes outcomes = SurvivalEvaluation.Outcomes.of(test);
    List<Double> horizons =
        this.horizons.isEmpty()
            ? List.of(emb.survivalIntervals().get(emb.survivalIntervals().size() - 1))
            : this.horizons;
    String[] patterns = test.patterns();
    List<SurvivalEvaluation.ModelSurvival> evaluated = new ArrayList<>();
    Map<String, double[][]> hazards = new LinkedHashMap<>();
    SurvivalInputs si = new SurvivalInputs(model, outcomes, horizons, patterns);
    for (TrainOutputs.Entry entry : in.summary().models()) {
      if (!entry.completed() || entry.modelDir() == null) {
        continue;
      }
      SurvivalEvaluation.ModelSurvival m =
          survivalModel(entry, scorerOf.apply(entry, in), in, si, hazards);
      evaluated.add(m);
      o.progress()
          .accept(
              String.format(
                  java.util.Locale.ROOT,
                  "[%s] test C-index %.4f [%.4f, %.4f]  IBS %.4f",
                  entry.name(),
                  m.test().cIndex(),
                  m.test().cLower(),
                  m.test().cUpper(),
                  m.test().integratedBrier()));
    }
    if (evaluated.isEmpty()) {
      throw new IllegalStateException(
          "Cannot evaluate: " + in.summaryPath() + " lists no completed survival model");
    }
    List<EvaluateResult.UnimodalBaseline> baselines =
        o.modelDir() == null ? hazardHeads(in, si, evaluated, hazards) : List.of();
    List<SurvivalEvaluation.PairedC> comparisons = new ArrayList<>();
    // The reference: the best of the unimodal baselines chosen on validation C, as for class
    // labels.
    SurvivalEvaluation.bestUnimodal(evaluated, baselines)
        .ifPresent(
            u ->
                evaluated.forEach(
                    m -> {
                      if (!m.name().equals(u.name())) {
                        comparisons.add(
                            SurvivalEvaluation.paired(
                                m.name(),
                                hazards.get(m.name()),
                                u.name(),
                                hazards.get(u.name()),
                                outcomes,
                                model,
                                o.evaluate().seed()));
                      }
                    }));
    // As for class labels: the best fusion against the best classical baseline by test C, and the
    // pair chosen on validation C, each paired on the same subjects when there is one.
    java.util.Set<List<String>> pairs = new java.util.LinkedHashSet<>();
    SurvivalEvaluation.best(evaluated, "fusion")
        .ifPresent(
            f ->
                SurvivalEvaluation.best(evaluated, ClassicalBaselines.KIND)
                    .ifPresent(c -> pairs.add(List.of(f.name(), c.name()))));
    SurvivalEvaluation.chosenOnValidation(evaluated, "fusion")
        .ifPresent(
            f ->
                SurvivalEvaluation.chosenOnValidation(evaluated, ClassicalBaselines.KIND)
                    .ifPresent(c -> pairs.add(List.of(f.name(), c.name()))));
    for (List<String> pair : pairs) {
      comparisons.add(
          SurvivalEvaluation.paired(
              pair.get(0),
              hazards.get(pair.get(0)),
              pair.get(1),
              hazards.get(pair.get(1)),
              outcomes,
              model,
              o.evaluate().seed()));
    }
    SurvivalEvaluation.Result result =
        new SurvivalEvaluation.Result(
            "survival",
            test.size(),
            SurvivalEvaluation.countEvents(outcomes),
            emb.survivalIntervals(),
            horizons,
            EvaluateAction.REMOVAL_RATES,
            evaluated,
            comparisons,
            baselines);
    String out = o.outputDir();
    AtomicDirectory.write(
        in.hconf(),
        out,
        tmp -> {
          writeSurvivalPredictions(
              tmp + "/" + EvaluateOutputs.PREDICTIONS, test, patterns, hazards, outcomes, model);
          Json.write(in.hconf(), tmp + "/" + EvaluateOutputs.METRICS, result);
          return null;
        });
    return result;
  }

  /** What every survival model is scored against: the hazard model, the test outcomes. */
  private record SurvivalInputs(
      org.cohortfusion.cohort.survival.DiscreteTimeHazard model,
      SurvivalEvaluation.Outcomes outcomes,
      List<Double> horizons,
      String[] patterns) {}

  /**
   * One survival model on every scenario ({@link Scenarios}): C with its bootstrap interval and the
   * other scores on the test split as it is, C per missingness pattern, under MCAR removal and with
   * each modality removed. Puts its test hazards into {@code hazards}.
   */
  private SurvivalEvaluation.ModelSurvival survivalModel(
      TrainOutputs.Entry entry,
      Scorer scorer,
      EvaluateAction.Inputs in,
      SurvivalInputs si,
      Map<String, double[][]> hazards) {
    EmbeddingsSpec emb = in.emb();
    List<double[][]> scored = in.score(scorer);
    double[][] h = scored.get(0);
    List<Double> robustness = new ArrayList<>();
    for (int r = 0; r < EvaluateAction.REMOVAL_RATES.size(); r++) {
      robustness.add(SurvivalEvaluation.cIndex(scored.get(r), si.outcomes(), si.model()));
    }
    Map<String, Double> ablation = new java.util.TreeMap<>();
    for (int i = 0; i < emb.modalityNames().size(); i++) {
      ablation.put(
          emb.modalityNames().get(i),
          SurvivalEvaluation.cIndex(
              scored.get(EvaluateAction.REMOVAL_RATES.size() + i), si.outcomes(), si.model()));
    }
    SurvivalEvaluation.Scores scores =
        SurvivalEvaluation.scores(h, si.outcomes(), si.model(), si.horizons(), o.evaluate().seed());
    Double validation = entry.validation() == null ? null : entry.validation().get("auroc");
    hazards.put(entry.name(), h);
    return new SurvivalEvaluation.ModelSurvival(
        entry.name(),
        entry.kind(),
        entry.describe(),
        validation,
        scores,
        SurvivalEvaluation.perPattern(
            h, si.outcomes(), si.patterns(), si.model(), o.evaluate().minPatternSize()),
        robustness,
        ablation);
  }

  /**
   * Pretrain's encoders with their own hazard heads as unimodal survival models ("encoder:m", from
   * the hazards extract wrote as {@code head_<m>}; subjects without the modality at the train
   * split's hazards), scored like the others, and per modality the choice between it and train's
   * head on the frozen embedding ("unimodal:m") on validation C ({@link EncoderHeads}). Refuses an
   * encoder pretrained over other intervals. Adds to {@code evaluated} and {@code hazards}.
   */
  private List<EvaluateResult.UnimodalBaseline> hazardHeads(
      EvaluateAction.Inputs in,
      SurvivalInputs si,
      List<SurvivalEvaluation.ModelSurvival> evaluated,
      Map<String, double[][]> hazards) {
    org.apache.spark.sql.Dataset<Row> table = in.table();
    EmbeddingsSpec emb = in.emb();
    List<String> names = emb.modalityNames();
    if (!EncoderHeads.available(table, names)) {
      o.progress()
          .accept(
              "No encoder-head hazards in "
                  + o.embeddingsDir()
                  + " (extracted by an older version): the unimodal survival baselines are train's"
                  + " heads on the frozen embeddings only");
      return List.of();
    }
    org.cohortfusion.cohort.survival.DiscreteTimeHazard model = si.model();
    int j = model.intervals();
    // An old encoder's head is not read at all: as hazards it would be nonsense (or refused for
    // its width), and the other models need not wait for a new pretrain.
    Map<String, String> skippedHeads = new LinkedHashMap<>();
    for (EmbeddingsSpec.Modality m : emb.modalities()) {
      String skip =
          EncoderHeads.checkOutcome(
              m.name(),
              m.encoderDir(),
              encoderProvenance(in.hconf(), m.encoderDir()),
              emb.survivalIntervals());
      if (skip != null) {
        skippedHeads.put(m.name(), skip);
        o.progress().accept(skip);
      }
    }
    List<String> scored = names.stream().filter(m -> !skippedHeads.containsKey(m)).toList();
    double[] fill = EncoderHeads.trainHazards(table, model);
    int[] validationCodes = EncoderHeads.codes(table, Columns.Splits.VALIDATION, model);
    Map<String, Double> validationC =
        scored.isEmpty()
            ? Map.of()
            : EncoderHeads.validationC(table, scored, validationCodes, fill, model);
    List<EvaluateResult.UnimodalBaseline> out = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      String m = names.get(i);
      Double encoderValidation = validationC.get(m);
      String frozenName = EncoderHeads.FROZEN_PREFIX + m;
      TrainOutputs.Entry frozen =
          in.summary().models().stream()
              .filter(e -> e.name().equals(frozenName) && e.completed() && e.modelDir() != null)
              .findFirst()
              .orElse(null);
      Double frozenValidation =
          frozen == null || frozen.validation() == null ? null : frozen.validation().get("auroc");
      if (skippedHeads.containsKey(m)) {
        // The frozen head is the modality's only candidate; without one there is no baseline.
        if (frozen != null) {
          out.add(
              new EvaluateResult.UnimodalBaseline(
                  m,
                  frozenName,
                  EncoderHeads.NAME_PREFIX + m,
                  null,
                  frozenName,
                  frozenValidation,
                  EvaluateResult.UnimodalBaseline.C,
                  skippedHeads.get(m)));
        }
        continue;
      }
      TrainOutputs.Entry entry =
          new TrainOutputs.Entry(
              EncoderHeads.NAME_PREFIX + m,
              "unimodal",
              "pretrain encoder + its hazard head (" + m + ")",
              null,
              null,
              0,
              0,
              false,
              true,
              encoderValidation == null ? Map.of() : Map.of("auroc", encoderValidation));
      SurvivalEvaluation.ModelSurvival e =
          survivalModel(
              entry,
              EncoderHeads.scorer(
                  EncoderHeads.checkedWidth(
                      EncoderHeads.read(table, m, EvaluateAction.SPLIT), m, j, true),
                  i,
                  fill,
                  names.size()),
              in,
              si,
              hazards);
      evaluated.add(e);
      EvaluateResult.UnimodalBaseline choice =
          EncoderHeads.choose(
              m,
              encoderValidation,
              frozenValidation,
              frozen != null,
              EvaluateResult.UnimodalBaseline.C);
      out.add(choice);
      o.progress()
          .accept(
              String.format(
                  java.util.Locale.ROOT,
                  "[%s] test C-index %.4f [%.4f, %.4f]; %s",
                  entry.name(),
                  e.test().cIndex(),
                  e.test().cLower(),
                  e.test().cUpper(),
                  choice.describe()));
    }
    return out;
  }

  /**
   * The provenance of the encoder extract read from {@code dir}; null when extract did not record
   * the directory or it is gone (then only the head's width is checked).
   */
  private static ModelArtifact.Provenance encoderProvenance(Configuration hconf, String dir) {
    if (dir == null) {
      return null;
    }
    String path = dir + "/" + ModelArtifact.PROVENANCE;
    return TrainedModels.exists(hconf, path)
        ? Json.read(hconf, path, ModelArtifact.Provenance.class)
        : null;
  }

  private void writeSurvivalPredictions(
      String path,
      TestSplit test,
      String[] patterns,
      Map<String, double[][]> hazards,
      SurvivalEvaluation.Outcomes outcomes,
      org.cohortfusion.cohort.survival.DiscreteTimeHazard model) {
    Map<String, double[]> risk = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, double[][]> e : hazards.entrySet()) {
      risk.put(e.getKey(), SurvivalEvaluation.risk(e.getValue()));
    }
    PredictionsTable.writeSurvival(
        spark, path, test, patterns, risk, outcomes.time(), outcomes.event());
  }
}
