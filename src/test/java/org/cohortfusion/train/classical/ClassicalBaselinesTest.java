package org.cohortfusion.train.classical;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.ImputerModel;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.config.ClassicalConfig;
import org.cohortfusion.evaluate.ClassificationMetrics;
import org.cohortfusion.features.FeatureTestCohorts;
import org.cohortfusion.stage.ModalityKind;
import org.cohortfusion.stage.ModalitySpec;
import org.cohortfusion.testing.SparkTestSession;
import org.cohortfusion.train.ClassicalBaselines;
import org.cohortfusion.train.TrainResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classical baselines' features against hand computations, the train-only fitting of their
 * transforms, and the linear baseline on a planted signal (FeatureTestCohorts: modality 'vec'
 * carries the label).
 */
class ClassicalBaselinesTest {
  private static final ClassicalConfig LINEAR_ONLY =
      new ClassicalConfig(
          List.of("linear"),
          new ClassicalConfig.Linear(List.of(0.01), List.of(0.0), null),
          null,
          4,
          64,
          null);

  @TempDir Path tmp;

  /**
   * One time-series modality, two channels, three steps (channel-major), observed at times -60, -30
   * and 0 relative to the index time (delta_time 60, 30, 0). Expected values worked out by hand in
   * the comments.
   */
  @Test
  void timeSeriesSummariesEqualAHandComputation() {
    SparkSession spark = SparkTestSession.get();
    ModalitySpec ts =
        new ModalitySpec("ts", ModalityKind.TIMESERIES, null, null, 6, null, List.of("a", "b"), 3);
    org.apache.spark.sql.types.StructType schema =
        new org.apache.spark.sql.types.StructType()
            .add("subject_id", "string")
            .add("label", "int")
            .add("split", "string")
            .add("has_ts", "boolean")
            .add("ts", FeatureTestCohorts.TIMESERIES, true);
    float[] delta = {60f, 30f, 0f};
    List<Row> rows =
        List.of(
            // s1: a = 1, 2, 4 all observed; b = 3, (unobserved 99), 5
            RowFactory.create(
                "s1",
                1,
                "train",
                true,
                RowFactory.create(
                    new float[] {1, 2, 4, 3, 99, 5},
                    new float[] {1, 1, 1, 1, 0, 1},
                    new float[] {1, 1, 1},
                    delta)),
            // s2: left-padded, only the last step: a = 7 observed, b never observed
            RowFactory.create(
                "s2",
                0,
                "train",
                true,
                RowFactory.create(
                    new float[] {0, 0, 7, 0, 0, 0},
                    new float[] {0, 0, 1, 0, 0, 0},
                    new float[] {0, 0, 1},
                    new float[] {0, 0, 0})),
            // s3: has the column but the presence mask says absent (as after a test-time removal)
            RowFactory.create(
                "s3",
                0,
                "test",
                false,
                RowFactory.create(
                    new float[] {1, 2, 4, 3, 99, 5},
                    new float[] {1, 1, 1, 1, 0, 1},
                    new float[] {1, 1, 1},
                    delta)));
    Map<String, Row> out = new java.util.HashMap<>();
    List<String> cols = new ArrayList<>(List.of("subject_id", ClassicalFeatures.presenceColumn(0)));
    for (int c = 0; c < 2; c++) {
      for (String s : List.of("count", "mean", "last", "slope")) {
        cols.add(ClassicalFeatures.feature(0, s, c));
      }
    }
    ClassicalFeatures.prepare(spark.createDataFrame(rows, schema), List.of(ts))
        .selectExpr(cols.toArray(new String[0]))
        .collectAsList()
        .forEach(r -> out.put(r.getString(0), r));
    double eps = 1e-9;
    Row s1 = out.get("s1");
    assertEquals(1.0, s1.getDouble(1));
    // a: n = 3, mean = 7/3, last = 4; OLS slope: x mean -30, y mean 7/3, Sxy = 90, Sxx = 1800 ->
    // 0.05
    assertEquals(3.0, s1.getDouble(2), eps);
    assertEquals(7.0 / 3, s1.getDouble(3), eps);
    assertEquals(4.0, s1.getDouble(4), eps);
    assertEquals(0.05, s1.getDouble(5), eps);
    // b: observed at -60 (3) and 0 (5): n = 2, mean 4, last 5, slope 2 / 60
    assertEquals(2.0, s1.getDouble(6), eps);
    assertEquals(4.0, s1.getDouble(7), eps);
    assertEquals(5.0, s1.getDouble(8), eps);
    assertEquals(2.0 / 60, s1.getDouble(9), eps);
    Row s2 = out.get("s2");
    // a: one observation: n 1, mean = last = 7, no trend (0); b: never observed: n 0, mean and last
    // missing
    assertEquals(1.0, s2.getDouble(2), eps);
    assertEquals(7.0, s2.getDouble(3), eps);
    assertEquals(7.0, s2.getDouble(4), eps);
    assertEquals(0.0, s2.getDouble(5), eps);
    assertEquals(0.0, s2.getDouble(6), eps);
    assertTrue(s2.isNullAt(7));
    assertTrue(s2.isNullAt(8));
    assertEquals(0.0, s2.getDouble(9), eps);
    Row s3 = out.get("s3");
    assertEquals(0.0, s3.getDouble(1));
    for (int i = 2; i < 10; i++) {
      assertTrue(
          s3.isNullAt(i),
          "absent modality: feature " + cols.get(i) + " must be missing (imputed later)");
    }
  }

  /**
   * Validation and test subjects get values 1000 above the train ones in every 'vec' element and in
   * 'tab.age': a transform that saw them would have a mean far from the train mean computed here
   * from the rows themselves.
   */
  @Test
  void transformsAreFittedOnTheTrainSplitOnly() {
    SparkSession spark = SparkTestSession.get();
    List<Row> rows = new ArrayList<>();
    for (Row r : FeatureTestCohorts.rows(120, 3)) {
      rows.add("train".equals(r.getString(3)) ? r : shifted(r, 1000));
    }
    String cohort =
        FeatureTestCohorts.writeCohort(spark, rows, tmp.resolve("cohort").toString(), "fp");
    String out = tmp.resolve("train").toString();
    new ClassicalBaselines(spark, cohort, out, LINEAR_ONLY, System.out::println)
        .train(List.of("linear"));

    double[] vecMean = new double[FeatureTestCohorts.VECTOR_LENGTH];
    double ageSum = 0;
    int ageN = 0;
    int n = 0;
    for (Row r : rows) {
      if (!"train".equals(r.getString(3))) {
        continue;
      }
      n++;
      float[] v = (float[]) r.get(FeatureTestCohorts.SCHEMA.fieldIndex("vec"));
      for (int j = 0; j < v.length; j++) {
        vecMean[j] += v[j];
      }
      Row tab = r.getStruct(FeatureTestCohorts.SCHEMA.fieldIndex("tab"));
      if (!tab.isNullAt(0)) {
        ageSum += tab.getDouble(0);
        ageN++;
      }
    }
    ClassicalModels.Loaded loaded =
        ClassicalModels.load(new Configuration(), out + "/linear/" + ClassicalModels.DIR);
    PipelineModel features = (PipelineModel) loaded.pipeline().stages()[0];
    ImputerModel imputer = stage(features, ImputerModel.class);
    StandardScalerModel scaler = stage(features, StandardScalerModel.class);
    List<String> names = loaded.description().numericFeatures();
    // The imputer's surrogate of tab.age: the mean of the train subjects that have an age.
    Row surrogate = imputer.surrogateDF().first();
    assertEquals(
        ageSum / ageN,
        surrogate.getDouble(surrogate.fieldIndex(ClassicalFeatures.feature(1, "n", 0))),
        1e-9);
    for (int j = 0; j < vecMean.length; j++) {
      int i = names.indexOf("vec[" + j + "]");
      assertEquals(vecMean[j] / n, scaler.mean().apply(i), 1e-4, "scaler mean of vec[" + j + "]");
    }
  }

  /**
   * The planted signal: 'vec' elements 0 and 1 are shifted by 2 for label 1 (unit Gaussian noise),
   * i.e. a class separation of 2 * sqrt(2) standard deviations, Bayes AUROC Phi(2) = 0.977.
   * Threshold fixed before running: the linear baseline's test AUROC (60 test subjects of 300) must
   * exceed 0.8.
   */
  @Test
  void linearFindsAPlantedSignal() {
    SparkSession spark = SparkTestSession.get();
    String cohort =
        FeatureTestCohorts.writeCohort(
            spark, FeatureTestCohorts.rows(300, 11), tmp.resolve("cohort").toString(), "fp");
    String out = tmp.resolve("train").toString();
    List<TrainResult.ModelResult> results =
        new ClassicalBaselines(spark, cohort, out, LINEAR_ONLY, System.out::println)
            .train(List.of("linear"));
    assertEquals("classical", results.get(0).kind());
    ClassicalModels.Loaded loaded =
        ClassicalModels.load(new Configuration(), results.get(0).modelDir());
    assertEquals(results.get(0).sha256(), loaded.sha256());
    List<Row> scored =
        loaded
            .score(ClassicalBaselines.labeled(spark, cohort).where("split = 'test'"))
            .join(
                ClassicalBaselines.labeled(spark, cohort).select("subject_id", "label"),
                "subject_id")
            .collectAsList();
    double[] p =
        scored.stream()
            .mapToDouble(r -> r.getDouble(r.fieldIndex(ClassicalModels.PROBABILITY)))
            .toArray();
    int[] y = scored.stream().mapToInt(r -> r.getInt(r.fieldIndex("label"))).toArray();
    assertEquals(60, p.length);
    double auroc = ClassificationMetrics.binaryAuroc(p, y);
    assertTrue(auroc > 0.8, "linear test AUROC " + auroc);
  }

  /**
   * The grid is fitted in a fixed order, the strongest regularisation outermost, whatever uid Spark
   * gave the estimator: the order decides which of two tied points is kept.
   */
  @Test
  void theGridIsFittedStrongestRegularisationFirstOnEveryRun() {
    SparkSession spark = SparkTestSession.get();
    String cohort =
        FeatureTestCohorts.writeCohort(
            spark, FeatureTestCohorts.rows(120, 12), tmp.resolve("cohort").toString(), "fp");
    ClassicalConfig grid =
        new ClassicalConfig(
            List.of("linear"),
            new ClassicalConfig.Linear(List.of(0.01, 1.0), List.of(0.0, 0.5), null),
            null,
            4,
            64,
            null);
    List<List<Object>> expected = new ArrayList<>();
    for (double reg : new double[] {1.0, 0.01}) {
      for (double net : new double[] {0.0, 0.5}) {
        expected.add(List.of(reg, net));
      }
    }
    for (int run = 0; run < 3; run++) {
      String out = tmp.resolve("train-" + run).toString();
      List<TrainResult.ModelResult> results =
          new ClassicalBaselines(spark, cohort, out, grid, s -> {}).train(List.of("linear"));
      List<List<Object>> fitted = new ArrayList<>();
      for (ClassicalModels.GridPoint p :
          ClassicalModels.load(new Configuration(), results.get(0).modelDir())
              .description()
              .grid()) {
        fitted.add(List.of(p.params().get("regParam"), p.params().get("elasticNetParam")));
      }
      assertEquals(expected, fitted, "run " + run);
    }
  }

  /**
   * A retrain that fails (here: no train subject has an age, so the imputer has no mean; the error
   * names the feature) leaves the published model in place, whole: the same SHA-256 and still
   * loadable.
   */
  @Test
  void aFailedRetrainKeepsThePublishedModel() {
    SparkSession spark = SparkTestSession.get();
    String out = tmp.resolve("train").toString();
    String good =
        FeatureTestCohorts.writeCohort(
            spark, FeatureTestCohorts.rows(100, 7), tmp.resolve("good").toString(), "fp");
    String sha =
        new ClassicalBaselines(spark, good, out, LINEAR_ONLY, System.out::println)
            .train(List.of("linear"))
            .get(0)
            .sha256();
    List<Row> noAge = new ArrayList<>();
    for (Row r : FeatureTestCohorts.rows(100, 7)) {
      noAge.add("train".equals(r.getString(3)) ? withoutAge(r) : r);
    }
    String bad = FeatureTestCohorts.writeCohort(spark, noAge, tmp.resolve("bad").toString(), "fp");
    IllegalStateException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class,
            () ->
                new ClassicalBaselines(spark, bad, out, LINEAR_ONLY, System.out::println)
                    .train(List.of("linear")));
    assertTrue(e.getMessage().contains("'tab.age'"), e.getMessage());
    ClassicalModels.Loaded kept =
        ClassicalModels.load(new Configuration(), out + "/linear/" + ClassicalModels.DIR);
    assertEquals(sha, kept.sha256());
  }

  private static Row withoutAge(Row r) {
    Object[] v = new Object[r.length()];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.get(i);
    }
    int ti = FeatureTestCohorts.SCHEMA.fieldIndex("tab");
    Row tab = r.getStruct(ti);
    v[ti] = RowFactory.create(null, tab.get(1), tab.get(2));
    return RowFactory.create(v);
  }

  /** The first stage of a type, depth first through nested pipelines. */
  private static <T extends Transformer> T stage(PipelineModel model, Class<T> type) {
    for (Transformer t : model.stages()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
      if (t instanceof PipelineModel nested) {
        try {
          return stage(nested, type);
        } catch (AssertionError notThere) {
          // keep looking in the next stages
        }
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in the pipeline");
  }

  /** The same row with every 'vec' element and tab.age (when present) increased by {@code by}. */
  private static Row shifted(Row r, double by) {
    Object[] v = new Object[r.length()];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.get(i);
    }
    int vi = FeatureTestCohorts.SCHEMA.fieldIndex("vec");
    float[] vec = ((float[]) v[vi]).clone();
    for (int j = 0; j < vec.length; j++) {
      vec[j] += (float) by;
    }
    v[vi] = vec;
    int ti = FeatureTestCohorts.SCHEMA.fieldIndex("tab");
    Row tab = r.getStruct(ti);
    v[ti] =
        RowFactory.create(tab.isNullAt(0) ? null : tab.getDouble(0) + by, tab.get(1), tab.get(2));
    return RowFactory.create(v);
  }
}
