package org.cohortfusion.retrain;

import static org.apache.spark.sql.functions.col;

import java.util.List;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.evaluate.EvaluateAction;
import org.cohortfusion.evaluate.EvaluateResult;
import org.cohortfusion.evaluate.PairedAuroc;
import org.cohortfusion.evaluate.SurvivalEvaluation;
import org.cohortfusion.registry.ModelRegistry;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.EvaluateOutputs;

/**
 * The evidence a retrain's {@link Gate} judges, gathered for a class-label or a survival outcome:
 * the challenger's test metrics from evaluate, the champion scored on the same test subjects (or,
 * without a champion, the best unimodal model), and their paired comparison on those subjects
 * (DeLong for AUROC, a bootstrap of the subjects for Harrell's C).
 */
final class ChallengerJudge {
  private final SparkSession spark;
  private final PipelineConfig config;
  private final ModelRegistry registry;
  private final String model;
  private final Integer champion;
  private final Consumer<String> progress;

  ChallengerJudge(
      SparkSession spark,
      PipelineConfig config,
      ModelRegistry registry,
      String model,
      Integer champion,
      Consumer<String> progress) {
    this.spark = spark;
    this.config = config;
    this.registry = registry;
    this.model = model;
    this.champion = champion;
    this.progress = progress;
  }

  /** The gate's decision on the challenger, {@code championName} null when there is no champion. */
  Judged judge(
      Configuration hconf,
      Dataset<Row> table,
      boolean survival,
      String championName,
      CohortProfile.Drift drift) {
    return survival
        ? judgeSurvival(hconf, championName, drift)
        : judgeClasses(hconf, table, championName, drift);
  }

  /**
   * The gate's decision and what the report shows of it.
   *
   * @param reference without a champion, the name of the best unimodal model the challenger met
   *     (null: none)
   * @param metric the name of the test metric of the pattern table
   */
  record Judged(
      Gate.Decision decision,
      String reference,
      String metric,
      List<RetrainReport.PatternRow> patterns) {}

  private Judged judgeClasses(
      Configuration hconf, Dataset<Row> table, String championName, CohortProfile.Drift drift) {
    EvaluateResult evaluated = EvaluateAction.read(hconf, config.evaluateOutputDir());
    EvaluateResult.ModelEvaluation challenger = evaluated.get(model);
    EvaluateResult.ModelEvaluation championEval =
        championName == null
            ? null
            : EvaluateAction.of(spark, config)
                .model(championName, registry.modelPath(model, champion))
                .outputDir(RetrainAction.championEvaluateDir(config))
                .progress(progress)
                .execute()
                .get(championName);
    EvaluateResult.ModelEvaluation reference =
        champion == null ? evaluated.bestUnimodal().orElse(null) : null;
    String against = champion != null ? championName : reference == null ? null : reference.name();
    Paired paired = against == null ? null : paired(against);
    PairedAuroc auroc =
        paired == null
            ? null
            : PairedAuroc.of(
                paired.challenger,
                paired.other,
                paired.labels,
                config.retrain().gate().confidence());
    long positives =
        paired != null ? java.util.Arrays.stream(paired.labels).filter(y -> y == 1).count() : 0;
    long negatives = paired != null ? paired.labels.length - positives : 0;
    if (paired == null) {
      int[] counts = labelCounts(table);
      negatives = counts[0];
      positives = counts[1];
    }
    Gate.Decision decision =
        new Gate(config.retrain().gate())
            .judge(
                new Gate.Evidence(
                    challenger, championEval, reference, auroc, positives, negatives, drift));
    return new Judged(
        decision,
        reference == null ? null : reference.name(),
        "AUROC",
        RetrainReport.patterns(challenger, championEval));
  }

  /**
   * The gate on a survival outcome: Harrell's C of the challenger and of the champion (scored on
   * the same test subjects) or, without one, of the best unimodal model, paired by a bootstrap of
   * the subjects both predicted.
   */
  private Judged judgeSurvival(
      Configuration hconf, String championName, CohortProfile.Drift drift) {
    SurvivalEvaluation.Result evaluated =
        EvaluateAction.readSurvival(hconf, config.evaluateOutputDir());
    SurvivalEvaluation.ModelSurvival challenger = evaluated.get(model);
    SurvivalEvaluation.ModelSurvival championEval =
        championName == null
            ? null
            : EvaluateAction.of(spark, config)
                .model(championName, registry.modelPath(model, champion))
                .outputDir(RetrainAction.championEvaluateDir(config))
                .progress(progress)
                .executeSurvival()
                .get(championName);
    SurvivalEvaluation.ModelSurvival reference =
        champion != null ? null : evaluated.bestUnimodal().orElse(null);
    String against = champion != null ? championName : reference == null ? null : reference.name();
    double confidence = config.retrain().gate().confidence();
    SurvivalEvaluation.PairedC paired = null;
    if (against != null) {
      PairedRisk p = pairedRisk(against);
      paired =
          SurvivalEvaluation.pairedOnRisk(
              model,
              p.challenger,
              against,
              p.other,
              p.time,
              p.event,
              confidence,
              config.evaluate().seed());
    }
    long events = evaluated.events();
    Gate.Decision decision =
        new Gate(config.retrain().gate())
            .judgeSurvival(
                new Gate.SurvivalEvidence(
                    challenger,
                    championEval,
                    reference,
                    paired,
                    confidence,
                    events,
                    evaluated.subjects() - events,
                    drift));
    return new Judged(
        decision,
        reference == null ? null : reference.name(),
        "C-index",
        RetrainReport.survivalPatterns(challenger, championEval));
  }

  /**
   * Challenger and {@code other} scores of the same labeled test subjects, joined by subject on the
   * executors.
   */
  private record Paired(double[] challenger, double[] other, int[] labels) {}

  /** The same for survival predictions: both risks, the follow-up time and the event. */
  private record PairedRisk(double[] challenger, double[] other, double[] time, boolean[] event) {}

  /**
   * The challenger's and {@code other}'s predictions of the same test subjects, as rows (challenger
   * value, other value, outcome columns...), ordered by subject; one pass over both tables.
   */
  private List<Row> joinPredictions(String other, String value, String... outcome) {
    String dir =
        champion != null ? RetrainAction.championEvaluateDir(config) : config.evaluateOutputDir();
    List<org.apache.spark.sql.Column> a = new java.util.ArrayList<>();
    a.add(col(Columns.SUBJECT_ID));
    a.add(col(value).as("pa"));
    for (String c : outcome) {
      a.add(col(c));
    }
    Dataset<Row> mine =
        spark
            .read()
            .parquet(config.evaluateOutputDir() + "/" + EvaluateOutputs.PREDICTIONS)
            .where(col(EvaluateOutputs.MODEL).equalTo(model))
            .select(a.toArray(new org.apache.spark.sql.Column[0]));
    Dataset<Row> theirs =
        spark
            .read()
            .parquet(dir + "/" + EvaluateOutputs.PREDICTIONS)
            .where(col(EvaluateOutputs.MODEL).equalTo(other))
            .select(col(Columns.SUBJECT_ID), col(value).as("pb"));
    List<String> columns = new java.util.ArrayList<>(List.of("pa", "pb"));
    columns.addAll(List.of(outcome));
    // A left join, so the challenger's subjects the other did not score show up as a null, without
    // a second pass to count them.
    List<Row> rows =
        mine.join(theirs, Columns.SUBJECT_ID, "left")
            .orderBy(Columns.SUBJECT_ID)
            .select(columns.get(0), columns.subList(1, columns.size()).toArray(new String[0]))
            .collectAsList();
    long unpaired = rows.stream().filter(r -> r.isNullAt(1)).count();
    if (unpaired > 0) {
      throw new IllegalStateException(
          "Cannot pair the predictions of "
              + model
              + " and "
              + other
              + ": "
              + (rows.size() - unpaired)
              + " of "
              + rows.size()
              + " test subjects have both");
    }
    return rows;
  }

  private Paired paired(String other) {
    List<Row> rows = joinPredictions(other, EvaluateOutputs.PROBABILITY, Columns.LABEL);
    double[] pa = new double[rows.size()];
    double[] pb = new double[rows.size()];
    int[] y = new int[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      pa[i] = rows.get(i).getDouble(0);
      pb[i] = rows.get(i).getDouble(1);
      y[i] = rows.get(i).getInt(2);
    }
    return new Paired(pa, pb, y);
  }

  private PairedRisk pairedRisk(String other) {
    List<Row> rows =
        joinPredictions(other, EvaluateOutputs.RISK, Columns.DURATION, EvaluateOutputs.EVENT);
    int n = rows.size();
    double[] pa = new double[n];
    double[] pb = new double[n];
    double[] time = new double[n];
    boolean[] event = new boolean[n];
    for (int i = 0; i < n; i++) {
      pa[i] = rows.get(i).getDouble(0);
      pb[i] = rows.get(i).getDouble(1);
      time[i] = rows.get(i).getDouble(2);
      event[i] = rows.get(i).getInt(3) == 1;
    }
    return new PairedRisk(pa, pb, time, event);
  }

  private static int[] labelCounts(Dataset<Row> table) {
    int[] counts = new int[2];
    for (Row r :
        table
            .where(
                col(Columns.SPLIT).equalTo(Columns.Splits.TEST).and(col(Columns.LABEL).isNotNull()))
            .groupBy(col(Columns.LABEL).cast("int"))
            .count()
            .collectAsList()) {
      counts[r.getInt(0)] = (int) r.getLong(1);
    }
    return counts;
  }
}
