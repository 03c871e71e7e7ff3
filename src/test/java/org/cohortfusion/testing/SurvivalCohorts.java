package org.cohortfusion.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Survival outcomes with a known true risk, drawn over a generated cohort. */
public final class SurvivalCohorts {
  private SurvivalCohorts() {}

  /**
   * Writes {@code <cohort>/subjects_survival}: the subjects with an event time drawn from an
   * exponential model whose log-rate is the standardised age plus the standardised systolic blood
   * pressure (0 where missing), censored at a uniform time on [0, 2]; label is the event indicator.
   * Returns Harrell's C of that true risk over all subjects: the reference the models are held to.
   */
  public static double withSurvivalFromClinical(Path cohort) {
    SparkSession spark = SparkSession.builder().getOrCreate();
    org.apache.spark.sql.Dataset<Row> clinical =
        spark
            .read()
            .parquet(cohort.resolve("clinical").toString())
            .groupBy("subject_id")
            .agg(
                org.apache.spark.sql.functions.first("age", true).as("age"),
                org.apache.spark.sql.functions.first("sbp", true).as("sbp"));
    clinical.createOrReplaceTempView("c");
    spark.read().parquet(cohort.resolve("subjects").toString()).createOrReplaceTempView("s");
    org.apache.spark.sql.Dataset<Row> drawn =
        spark
            .sql(
                """
            WITH z AS (
              SELECT subject_id,
                     coalesce((age - avg(age) OVER ()) / stddev(age) OVER (), 0)
                   + coalesce((sbp - avg(sbp) OVER ()) / stddev(sbp) OVER (), 0) AS risk
              FROM c),
            t AS (
              SELECT s.*, coalesce(z.risk, 0) AS risk,
                     -ln(1 - rand(11)) * exp(-coalesce(z.risk, 0)) AS event_after,
                     2 * rand(12) AS censor_after
              FROM s LEFT JOIN z ON s.subject_id = z.subject_id)
            SELECT *, index_time + least(event_after, censor_after) AS event_time,
                   CASE WHEN event_after <= censor_after THEN 1 ELSE 0 END AS event
            FROM t
            """)
            .cache();
    drawn
        .drop("label", "risk", "event_after", "censor_after")
        .withColumnRenamed("event", "label")
        .write()
        .parquet(cohort.resolve("subjects_survival").toString());
    List<double[]> truth = new ArrayList<>();
    for (Row r :
        drawn.selectExpr("risk", "least(event_after, censor_after)", "event").collectAsList()) {
      truth.add(new double[] {r.getDouble(0), r.getDouble(1), r.getInt(2)});
    }
    drawn.unpersist();
    return AllPairsC.of(truth);
  }
}
