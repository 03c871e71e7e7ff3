package org.cohortfusion.train.classical;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.cohortfusion.io.Hashing;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.ModalitySpec;

/**
 * A published classical baseline: {@code <train>/<name>/classical/} holds the fitted Spark ML
 * {@code PipelineModel} ({@code pipeline/}: the feature transforms fitted on the train split, then
 * the classifier), {@code classical.json} ({@link Description}) and {@code manifest.json} (SHA-256
 * of every file); the manifest's own SHA-256 identifies the model in summary.json.
 */
public final class ClassicalModels {
  /** Directory of a classical model inside {@code <train>/<name>/}. */
  public static final String DIR = "classical";

  /** The saved PipelineModel inside {@link #DIR}. */
  public static final String PIPELINE = "pipeline";

  /** The description inside {@link #DIR}. */
  public static final String FILE = "classical.json";

  /** Probability of the positive class, as {@link #score} returns it. */
  public static final String PROBABILITY = "probability_1";

  private ClassicalModels() {}

  /**
   * What a classical model is, for the report and provenance.
   *
   * @param name linear or gbt
   * @param estimator the Spark ML estimator's class
   * @param describe one line: estimator, chosen parameters, inputs
   * @param chosen the chosen grid point (parameter name to value)
   * @param grid every grid point with its validation AUROC, in grid order
   * @param modalities the aligned cohort's modalities it reads
   * @param numericFeatures names of the standardised numeric features (tabular, vector elements,
   *     time-series summaries)
   * @param featureSize length of the assembled feature vector
   * @param cohortFingerprint cohort.json's input fingerprint
   * @param codeVersion cohort-fusion version
   * @param validation validation metrics of the chosen model
   * @param survivalIntervals for a survival outcome, the intervals' upper bounds: the model is a
   *     discrete-time hazard model over {@link PersonPeriod} rows; null for a class label
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Description(
      String name,
      String estimator,
      String describe,
      Map<String, Object> chosen,
      List<GridPoint> grid,
      List<ModalitySpec> modalities,
      List<String> numericFeatures,
      int featureSize,
      String cohortFingerprint,
      String codeVersion,
      Map<String, Double> validation,
      List<Double> survivalIntervals) {
    /** Whether the model predicts hazards of a survival outcome. */
    public boolean survival() {
      return survivalIntervals != null;
    }
  }

  /** One grid point and its validation AUROC. */
  public record GridPoint(Map<String, Object> params, double validationAuroc) {}

  /**
   * A loaded model: its description and pipeline, after checking every file against the manifest.
   */
  public record Loaded(Description description, PipelineModel pipeline, String sha256) {
    /**
     * Subject id and positive-class probability ({@link #PROBABILITY}) of aligned rows (any split,
     * any presence).
     */
    public Dataset<Row> score(Dataset<Row> aligned) {
      if (description.survival()) {
        throw new IllegalStateException(
            "Cannot score classical baseline '"
                + description.name()
                + "' as a classifier: it predicts hazards (use hazards)");
      }
      return ClassicalModels.score(pipeline, description.modalities(), aligned);
    }

    /**
     * Subject id and the hazard of every interval ({@link PersonPeriod#HAZARDS}, in interval order)
     * of aligned rows: a survival model only.
     */
    public Dataset<Row> hazards(Dataset<Row> aligned) {
      if (!description.survival()) {
        throw new IllegalStateException(
            "Cannot predict hazards with classical baseline '"
                + description.name()
                + "': it classifies a class label");
      }
      return ClassicalModels.hazards(
          pipeline, description.modalities(), aligned, description.survivalIntervals().size());
    }
  }

  static Dataset<Row> score(
      PipelineModel pipeline, List<ModalitySpec> modalities, Dataset<Row> aligned) {
    return pipeline
        .transform(ClassicalFeatures.prepare(aligned, modalities))
        .select(
            col(Columns.SUBJECT_ID),
            org.apache
                .spark
                .ml
                .functions
                .vector_to_array(col("probability"), "float64")
                .getItem(1)
                .as(PROBABILITY));
  }

  /**
   * The hazards of {@code aligned}'s subjects under a fitted pipeline whose stages are the feature
   * transforms, {@link PersonPeriod#assembler} and a classifier of {@link PersonPeriod#EVENT}.
   */
  public static Dataset<Row> hazards(
      PipelineModel pipeline, List<ModalitySpec> modalities, Dataset<Row> aligned, int intervals) {
    // The feature transforms (the first stage) run once per subject, the rest once per interval.
    org.apache.spark.ml.Transformer[] stages = pipeline.stages();
    Dataset<Row> rows =
        PersonPeriod.everyInterval(
            stages[0].transform(ClassicalFeatures.prepare(aligned, modalities)), intervals);
    for (int i = 1; i < stages.length; i++) {
      rows = stages[i].transform(rows);
    }
    return PersonPeriod.hazards(
        rows,
        org.apache.spark.ml.functions.vector_to_array(col("probability"), "float64").getItem(1));
  }

  /**
   * Loads {@code dir} (a train output's {@code <name>/classical}), verified against its manifest
   * first.
   */
  public static Loaded load(Configuration conf, String dir) {
    ModelArtifact.Verified v = ModelArtifact.verify(conf, dir, FILE);
    Description d;
    try {
      d = Json.MAPPER.readValue(v.files().get(FILE), Description.class);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + dir + "/" + FILE, e);
    }
    return new Loaded(d, PipelineModel.load(dir + "/" + PIPELINE), sha256(conf, dir));
  }

  /** The SHA-256 that identifies a published classical model: its manifest's. */
  public static String sha256(Configuration conf, String dir) {
    return Hashing.sha256(Json.readText(conf, dir + "/" + ModelArtifact.MANIFEST));
  }
}
