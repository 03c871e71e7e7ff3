package org.cohortfusion.evaluate;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.ModalitySpec;
import org.cohortfusion.train.classical.ClassicalModels;

/**
 * Scores a classical baseline (a Spark ML pipeline over the aligned cohort) under the same
 * scenarios as the DL4J models: the presence each scenario leaves to a subject (read from its
 * batches, so removals are exactly those every other model sees) is applied to the subject's
 * aligned row ({@code has_<m>} false: the features of that modality are imputed and its indicator
 * is 0), and all scenarios are scored in one Spark job. A baseline of a survival outcome returns
 * the hazard of every interval per subject, as a survival graph does.
 */
final class ClassicalScorer implements Scorer {
  private static final String SCENARIO = "cf_scenario";
  private final ClassicalModels.Loaded model;
  private final Dataset<Row> aligned;
  private final TestSplit test;

  /**
   * @param model the loaded baseline
   * @param labeled the labeled rows of the aligned cohort
   * @param test the test subjects, in the order results are returned
   */
  ClassicalScorer(ClassicalModels.Loaded model, Dataset<Row> labeled, TestSplit test) {
    this.model = model;
    this.aligned = labeled.where(col(Columns.SPLIT).equalTo(EvaluateAction.SPLIT));
    this.test = test;
  }

  @Override
  public List<double[][]> score(Scenarios scenarios, List<float[]> presence) {
    List<ModalitySpec> mods = model.description().modalities();
    List<String> names = test.modalities();
    int m = names.size();
    StructType schema =
        new StructType()
            .add(SCENARIO, DataTypes.IntegerType, false)
            .add(Columns.SUBJECT_ID, DataTypes.StringType, false);
    for (ModalitySpec mod : mods) {
      schema = schema.add(keep(mod), DataTypes.BooleanType, false);
    }
    List<Row> keep = new ArrayList<>();
    for (int s = 0; s < presence.size(); s++) {
      float[] p = presence.get(s);
      for (int row = 0; row < test.size(); row++) {
        Object[] v = new Object[2 + mods.size()];
        v[0] = s;
        v[1] = test.subjectIds().get(row);
        for (int j = 0; j < mods.size(); j++) {
          int i = names.indexOf(mods.get(j).name());
          // A modality the embeddings do not carry is never removed; one they carry follows their
          // presence.
          v[2 + j] = i < 0 || p[row * m + i] != 0f;
        }
        keep.add(RowFactory.create(v));
      }
    }
    Dataset<Row> rows =
        aligned.join(aligned.sparkSession().createDataFrame(keep, schema), Columns.SUBJECT_ID);
    for (ModalitySpec mod : mods) {
      rows = rows.withColumn(mod.presenceColumn(), col(mod.presenceColumn()).and(col(keep(mod))));
    }
    // The scenario rides along in subject_id ("<scenario>:<id>") through the pipeline, which keeps
    // only its keys.
    Dataset<Row> keyed =
        rows.withColumn(
            Columns.SUBJECT_ID,
            org.apache.spark.sql.functions.concat_ws(
                ":", col(SCENARIO).cast("string"), col(Columns.SUBJECT_ID)));
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < test.subjectIds().size(); i++) {
      index.put(test.subjectIds().get(i), i);
    }
    List<double[][]> out = new ArrayList<>();
    for (int s = 0; s < presence.size(); s++) {
      out.add(new double[test.size()][]);
    }
    boolean survival = model.description().survival();
    Dataset<Row> scored = survival ? model.hazards(keyed) : model.score(keyed);
    for (Row r : scored.collectAsList()) {
      String[] key = r.getString(0).split(":", 2);
      Integer i = index.get(key[1]);
      if (i == null) {
        continue;
      }
      double[] row;
      if (survival) {
        // The hazard of every interval, as a survival graph's outputs are.
        row = r.<Double>getList(1).stream().mapToDouble(Double::doubleValue).toArray();
      } else {
        double p = r.getDouble(1);
        row = new double[] {1 - p, p};
      }
      out.get(Integer.parseInt(key[0]))[i] = row;
    }
    for (double[][] scenario : out) {
      for (int i = 0; i < scenario.length; i++) {
        if (scenario[i] == null) {
          throw new IllegalStateException(
              "Cannot evaluate classical baseline '"
                  + model.description().name()
                  + "': test subject "
                  + (i + 1)
                  + " of "
                  + scenario.length
                  + " is not in the aligned cohort's test split");
        }
      }
    }
    return out;
  }

  private static String keep(ModalitySpec m) {
    return "cf_keep_" + m.name();
  }
}
