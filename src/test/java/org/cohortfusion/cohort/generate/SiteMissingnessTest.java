package org.cohortfusion.cohort.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SITE_RISING / SITE_FALLING missingness: the absence probability by hand at a few sites, and the
 * per-site presence fractions of a written cohort against the formula, with factors written out
 * here rather than computed by the code under test.
 */
class SiteMissingnessTest {
  private static final double RATE = 0.4;

  /** Absence factor of each site, site-0..site-4: rising is 2 * s / 4, falling its mirror. */
  private static final double[] RISING = {0.0, 0.5, 1.0, 1.5, 2.0};

  private static final double[] FALLING = {2.0, 1.5, 1.0, 0.5, 0.0};

  /**
   * Tolerance in binomial standard errors, fixed before running: 10 (site, modality) checks at 4.5
   * standard errors each have a two-sided false-alarm chance of about 7e-6 each (7e-5 together), so
   * the seeded test does not flake when the generator's streams change, while a swapped or
   * mis-scaled mechanism (a difference of at least 0.2 at some site, against a tolerance of about
   * 0.08 at ~800 subjects a site) still fails. Where the expected absence is 0 the standard error
   * is 0 and presence must be exact: an absence probability of 0 can never draw absent.
   */
  private static final double Z = 4.5;

  @TempDir Path tmp;

  @Test
  void absenceRisesOrFallsLinearlyWithTheSite() {
    Missingness rising = new Missingness(RATE, Missingness.Mechanism.SITE_RISING);
    Missingness falling = new Missingness(RATE, Missingness.Mechanism.SITE_FALLING);
    double[] risingExpected = {0.0, 0.2, 0.4, 0.6, 0.8};
    double[] fallingExpected = {0.8, 0.6, 0.4, 0.2, 0.0};
    for (int s = 0; s < 5; s++) {
      // Neither the label nor the latent may matter.
      for (int label = 0; label <= 1; label++) {
        for (double latent : new double[] {-2.0, 0.0, 3.0}) {
          assertEquals(
              risingExpected[s], rising.absentProbability(label, latent, s), 1e-12, "site " + s);
          assertEquals(
              fallingExpected[s], falling.absentProbability(label, latent, s), 1e-12, "site " + s);
        }
      }
    }
  }

  @Test
  void absenceClipsAtOneAndItsSiteAverageIsTheRateUpToOneHalf() {
    Missingness rising = new Missingness(0.8, Missingness.Mechanism.SITE_RISING);
    // 0.8 * {0, 0.5, 1, 1.5, 2} = {0, 0.4, 0.8, 1.2, 1.6}, clipped to {0, 0.4, 0.8, 1, 1}.
    assertEquals(1.0, rising.absentProbability(0, 0.0, 3), 1e-12);
    assertEquals(1.0, rising.absentProbability(0, 0.0, 4), 1e-12);
    assertEquals(0.64, rising.absentProbabilityGivenLabelAndLatent(1, 0.0), 1e-12);
    assertEquals(
        RATE,
        new Missingness(RATE, Missingness.Mechanism.SITE_FALLING)
            .absentProbabilityGivenLabelAndLatent(0, 1.5),
        1e-12);
    assertThrows(IllegalArgumentException.class, () -> rising.absentProbability(0, 0.0, 5));
    assertThrows(IllegalArgumentException.class, () -> rising.absentProbability(0, 0.0, -1));
  }

  @Test
  void siteMissingnessLeavesTheObservableProbabilityAsUnderMcar() {
    // The site is independent of the label and the latents, so the presence factor cancels: the
    // posterior must be the one of MCAR at the same rate, for present and absent omics.
    GenerateOptions mcar =
        GenerateOptions.defaults().withMissingness(Modality.OMICS, Missingness.mcar(RATE));
    GenerateOptions site =
        GenerateOptions.defaults()
            .withMissingness(
                Modality.OMICS, new Missingness(RATE, Missingness.Mechanism.SITE_RISING));
    for (boolean omics : new boolean[] {false, true}) {
      ObservablePosterior.Evidence e =
          new ObservablePosterior.Evidence()
              .present(Modality.CLINICAL)
              .present(Modality.LABS)
              .gaussian(0, 0.7, 0.6, 0.8)
              .gaussian(3, -0.5, 0.3, 0.2);
      if (omics) {
        e.present(Modality.OMICS).gaussian(1, 0.4, 0.8, 0.6 / Math.sqrt(8));
      }
      assertEquals(
          ObservablePosterior.probability(mcar, e), ObservablePosterior.probability(site, e), 0.0);
    }
  }

  @Test
  void aWrittenCohortMissesEachModalityAtItsSitesRate() {
    SparkSession spark = SparkTestSession.get();
    // No planted bad rows: their targets have every modality whatever the site. Omics and notes,
    // not clinical, which a subject keeps when its draws remove everything.
    GenerateOptions options =
        GenerateOptions.defaults()
            .withSubjects(4000)
            .withSeed(23)
            .withPartitions(2)
            .withBadRows(0)
            .withMissingness(
                Modality.OMICS, new Missingness(RATE, Missingness.Mechanism.SITE_RISING))
            .withMissingness(
                Modality.NOTES, new Missingness(RATE, Missingness.Mechanism.SITE_FALLING));
    GenerateResult result =
        new SyntheticCohortGenerator().generate(spark, options, tmp.resolve("cohort").toString());
    Dataset<Row> subjects =
        spark.read().parquet(result.outputDir() + "/subjects").select("subject_id", "group");
    assertPresenceBySite(spark, result, subjects, "omics", RISING);
    assertPresenceBySite(spark, result, subjects, "notes", FALLING);
  }

  /** Compares, per site, the fraction of subjects with a row in the table to 1 - RATE * factor. */
  private static void assertPresenceBySite(
      SparkSession spark,
      GenerateResult result,
      Dataset<Row> subjects,
      String table,
      double[] factor) {
    Dataset<Row> has =
        spark
            .read()
            .parquet(result.outputDir() + "/" + table)
            .selectExpr("subject_id AS has_id")
            .distinct();
    // Only per-site counts leave Spark, never a subject's values.
    Map<String, long[]> counts = new HashMap<>();
    for (Row r :
        subjects
            .join(has, subjects.col("subject_id").equalTo(has.col("has_id")), "left")
            .groupBy("group")
            .agg(
                org.apache.spark.sql.functions.count("*").alias("n"),
                org.apache.spark.sql.functions.count("has_id").alias("present"))
            .collectAsList()) {
      counts.put(r.getString(0), new long[] {r.getLong(1), r.getLong(2)});
    }
    assertEquals(5, counts.size(), table + ": sites seen " + counts.keySet());
    for (int s = 0; s < 5; s++) {
      long[] c = counts.get("site-" + s);
      assertTrue(c != null && c[0] > 0, table + ": no subjects at site-" + s);
      double expected = 1.0 - Math.min(1.0, RATE * factor[s]);
      double observed = (double) c[1] / c[0];
      double tolerance = Z * Math.sqrt(expected * (1.0 - expected) / c[0]);
      assertEquals(
          expected,
          observed,
          tolerance,
          table + " at site-" + s + " (n = " + c[0] + "): present fraction");
    }
  }
}
