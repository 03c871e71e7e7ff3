package org.cohortfusion.cohort.generate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticCohortGeneratorTest {
  private static final int N = 5000;

  @TempDir static Path tmp;

  private static SparkSession spark;
  private static GenerateOptions cleanOptions;
  private static GenerateResult clean;
  private static final int K = 2;
  private static GenerateOptions plantedOptions;
  private static GenerateResult planted;

  @BeforeAll
  static void generateCleanCohort() {
    spark = SparkTestSession.get();
    cleanOptions = GenerateOptions.defaults().withSubjects(N).withSeed(7).withPartitions(2);
    clean =
        new SyntheticCohortGenerator()
            .generate(spark, cleanOptions, tmp.resolve("clean").toString());
    // Shared by the planted-row and determinism tests: one cohort write fewer per suite run.
    plantedOptions =
        GenerateOptions.defaults().withSubjects(600).withSeed(3).withBadRows(K).withPartitions(3);
    planted =
        new SyntheticCohortGenerator()
            .generate(spark, plantedOptions, tmp.resolve("planted").toString());
  }

  private static Dataset<Row> read(GenerateResult r, String table) {
    return spark.read().parquet(r.outputDir() + "/" + table);
  }

  @Test
  void tablesMatchTheDataContracts() throws IOException {
    Path schemas = Path.of(System.getProperty("cohortfusion.repo", "."), "data-schemas");
    ObjectMapper json = new ObjectMapper();
    Map<String, String> kindOf =
        Map.of(
            "subjects",
            "subjects",
            "clinical",
            "tabular",
            "omics",
            "vector",
            "imaging",
            "image",
            "labs",
            "timeseries",
            "notes",
            "text");
    for (String table : CohortPlan.TABLES) {
      JsonNode contract = json.readTree(schemas.resolve(kindOf.get(table) + ".json").toFile());
      Map<String, String> actual = new java.util.LinkedHashMap<>();
      for (StructField f : read(clean, table).schema().fields()) {
        actual.put(f.name(), f.dataType().simpleString());
      }
      Set<String> declared = new HashSet<>();
      for (JsonNode column : contract.get("columns")) {
        String name = column.get("name").asText();
        declared.add(name);
        List<String> types = new ArrayList<>();
        column.get("types").forEach(t -> types.add(t.asText()));
        if (column.path("required").asBoolean(false)) {
          assertTrue(actual.containsKey(name), table + " lacks required column " + name);
        }
        if (actual.containsKey(name)) {
          assertTrue(
              types.contains(actual.get(name)),
              table + "." + name + " has type " + actual.get(name));
        }
      }
      String others = contract.get("other_columns").asText();
      for (Map.Entry<String, String> e : actual.entrySet()) {
        if (declared.contains(e.getKey())) {
          continue;
        }
        assertEquals("features", others, table + " has undeclared column " + e.getKey());
        List<String> featureTypes = new ArrayList<>();
        contract.get("feature_types").forEach(t -> featureTypes.add(t.asText()));
        assertTrue(
            featureTypes.contains(e.getValue()),
            table + "." + e.getKey() + " has type " + e.getValue());
      }
    }
    // The generator's own columns, in order, so downstream code can rely on them.
    assertEquals(
        List.of(
            "subject_id",
            "label",
            "index_time",
            "group",
            "true_probability",
            "observable_probability"),
        Arrays.asList(read(clean, "subjects").columns()));
    assertEquals(List.of("subject_id", "values"), Arrays.asList(read(clean, "omics").columns()));
    assertEquals(
        List.of("subject_id", "pixels", "shape"), Arrays.asList(read(clean, "imaging").columns()));
    assertEquals(
        List.of("subject_id", "time", "alb", "crp", "hb"),
        Arrays.asList(read(clean, "labs").columns()));
    assertEquals(List.of("subject_id", "text"), Arrays.asList(read(clean, "notes").columns()));
    assertTrue(
        Arrays.asList(read(clean, "clinical").columns())
            .containsAll(List.of("subject_id", "age", "sex", "bmi", "site_score", "smoker")));
  }

  @Test
  void reportedRowCountsAreTheWrittenRows() {
    for (String table : CohortPlan.TABLES) {
      assertEquals(read(clean, table).count(), clean.rowCounts().get(table), table);
    }
    assertEquals(N, clean.rowCounts().get("subjects"));
    assertEquals(0, clean.plantedTotal());
    assertTrue(new File(clean.outputDir().replace("file:", ""), "_planted.json").isFile());
    // The temporary sibling was renamed into place: nothing else is left beside the cohort.
    String[] siblings = new File(clean.outputDir().replace("file:", "")).getParentFile().list();
    assertTrue(
        Arrays.stream(siblings).noneMatch(name -> name.contains(".tmp-")),
        Arrays.toString(siblings));
    // Arrays have the declared lengths.
    assertEquals(0, read(clean, "omics").where("size(values) <> 256").count());
    assertEquals(
        0,
        read(clean, "imaging").where("size(pixels) <> 256 OR shape <> array(1, 16, 16)").count());
  }

  @Test
  void missingnessRatesAreWithinTolerance() {
    Map<Modality, Missingness> rates = GenerateOptions.defaultMissingness();
    for (Modality m : Modality.values()) {
      double present = read(clean, m.table()).select("subject_id").distinct().count() / (double) N;
      assertEquals(1.0 - rates.get(m).rate(), present, 0.03, m.table());
    }
  }

  @Test
  void trueProbabilityIsConsistentWithTheLabels() {
    Row means =
        read(clean, "subjects")
            .selectExpr(
                "avg(label)",
                "avg(true_probability)",
                "min(true_probability)",
                "max(true_probability)")
            .first();
    assertEquals(means.getDouble(0), means.getDouble(1), 0.03);
    assertEquals(means.getDouble(0), clean.labelPrevalence(), 1e-12);
    assertTrue(means.getDouble(2) > 0.0 && means.getDouble(3) < 1.0);
    List<Row> rows =
        read(clean, "subjects").select("true_probability", "label").collectAsList(); // test only
    double auroc = auroc(rows);
    assertTrue(auroc > 0.75, "Bayes AUROC " + auroc);
  }

  /** Mann-Whitney AUROC of column 0 (score) against column 1 (0/1 label). */
  private static double auroc(List<Row> rows) {
    List<Row> sorted = new ArrayList<>(rows);
    sorted.sort((a, b) -> Double.compare(a.getDouble(0), b.getDouble(0)));
    double rankSumPositives = 0;
    long positives = 0;
    for (int i = 0; i < sorted.size(); i++) {
      if (sorted.get(i).getInt(1) == 1) {
        rankSumPositives += i + 1; // ties are measure-zero for continuous probabilities
        positives++;
      }
    }
    long negatives = sorted.size() - positives;
    return (rankSumPositives - positives * (positives + 1) / 2.0)
        / (positives * (double) negatives);
  }

  @Test
  void postIndexLabVisitsExistAndLeakTheLabel() {
    Dataset<Row> joined = read(clean, "labs").join(read(clean, "subjects"), "subject_id");
    long post = joined.where("time > index_time").count();
    long pre = joined.where("time <= index_time").count();
    assertTrue(post > N / 10, "post-index visits " + post);
    assertTrue(pre > post);
    Row leak =
        joined
            .where("time > index_time")
            .selectExpr(
                "avg(CASE WHEN label = 1 THEN crp END)", "avg(CASE WHEN label = 0 THEN crp END)")
            .first();
    assertTrue(leak.getDouble(0) > 50 && leak.getDouble(1) < 10, "leak " + leak);
    // Every labs subject has at least one pre-index visit.
    assertEquals(
        read(clean, "labs").select("subject_id").distinct().count(),
        joined.where("time <= index_time").select("subject_id").distinct().count());
  }

  @Test
  void sameOptionsGiveIdenticalRowsAndAnotherSeedDoesNot() {
    GenerateOptions options = plantedOptions;
    GenerateResult a = planted;
    // A different partitioning must not change the content: draws depend on (seed, subject) only.
    GenerateResult b =
        new SyntheticCohortGenerator()
            .generate(spark, options.withPartitions(2), tmp.resolve("det-b").toString());
    for (String table : CohortPlan.TABLES) {
      Dataset<Row> ra = read(a, table);
      Dataset<Row> rb = read(b, table);
      assertEquals(0, ra.exceptAll(rb).union(rb.exceptAll(ra)).count(), table);
    }
    assertEquals(a.rowCounts(), b.rowCounts());
    Dataset<Row> otherSeed =
        SyntheticCohortGenerator.tableFrame(
            spark, new CohortPlan(options.withSeed(12)), "omics", 2);
    assertNotEquals(0, read(a, "omics").exceptAll(otherSeed).count());
  }

  @Test
  void mnarLabelMakesPresenceDependOnTheLabel() {
    GenerateOptions options =
        cleanOptions.withMissingness(
            Modality.OMICS, new Missingness(0.3, Missingness.Mechanism.MNAR_LABEL));
    CohortPlan plan = new CohortPlan(options);
    Dataset<Row> subjects = SyntheticCohortGenerator.tableFrame(spark, plan, "subjects", 2);
    Dataset<Row> omics =
        SyntheticCohortGenerator.tableFrame(spark, plan, "omics", 2)
            .select("subject_id")
            .withColumn("has", expr("1"));
    Row r =
        subjects
            .join(omics, subjects.col("subject_id").equalTo(omics.col("subject_id")), "left")
            .selectExpr(
                "avg(CASE WHEN label = 1 THEN CASE WHEN has IS NULL THEN 1.0 ELSE 0.0 END END)",
                "avg(CASE WHEN label = 0 THEN CASE WHEN has IS NULL THEN 1.0 ELSE 0.0 END END)")
            .first();
    double missingPositives = r.getDecimal(0).doubleValue();
    double missingNegatives = r.getDecimal(1).doubleValue();
    assertEquals(0.12, missingPositives, 0.03);
    assertEquals(0.48, missingNegatives, 0.03);
  }

  @Test
  void mnarFeatureMakesPresenceDependOnTheModalityLatent() {
    CohortPlan plan =
        new CohortPlan(
            cleanOptions.withMissingness(
                Modality.IMAGING, new Missingness(0.3, Missingness.Mechanism.MNAR_FEATURE)));
    double[] missingByHalf = new double[2];
    int[] countByHalf = new int[2];
    for (long i = 0; i < N; i++) {
      CohortPlan.Truth t = plan.truth(i);
      int half = t.z()[2] > 0 ? 1 : 0;
      countByHalf[half]++;
      missingByHalf[half] += plan.presence(t)[Modality.IMAGING.ordinal()] ? 0 : 1;
    }
    double low = missingByHalf[0] / countByHalf[0];
    double high = missingByHalf[1] / countByHalf[1];
    assertTrue(low > high + 0.2, "missing when z3 < 0: " + low + ", when z3 > 0: " + high);
    assertEquals(0.3, (missingByHalf[0] + missingByHalf[1]) / N, 0.03);
  }

  @Test
  void theInteractionIsVisibleOnlyJointly() {
    GenerateOptions options = cleanOptions.withEffects(new double[5]).withInteraction(3.0);
    CohortPlan plan = new CohortPlan(options);
    int n = 20_000;
    double[] label = new double[n], z3 = new double[n], z4 = new double[n], product = new double[n];
    for (int i = 0; i < n; i++) {
      CohortPlan.Truth t = plan.truth(i);
      assertTrue(Arrays.equals(t.z(), CohortPlan.latents(options.seed(), i)));
      label[i] = t.label();
      z3[i] = t.z()[2];
      z4[i] = t.z()[3];
      product[i] = z3[i] * z4[i];
    }
    assertEquals(0.0, correlation(label, z3), 0.03);
    assertEquals(0.0, correlation(label, z4), 0.03);
    assertTrue(
        correlation(label, product) > 0.4, "corr(label, z3*z4) " + correlation(label, product));
  }

  private static double correlation(double[] x, double[] y) {
    double mx = Arrays.stream(x).average().orElseThrow(),
        my = Arrays.stream(y).average().orElseThrow();
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < x.length; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / Math.sqrt(sxx * syy);
  }

  @Test
  void plantedBadRowsArePresentInExactlyTheReportedNumbers() throws IOException {
    int k = K;
    GenerateResult r = planted;
    for (String table : CohortPlan.TABLES) {
      assertEquals(read(r, table).count(), r.rowCounts().get(table), table);
    }
    assertEquals((long) k * CohortPlan.SLOTS.size(), r.plantedTotal());

    // One (table, subject_id, key) frame over every table, so each check is a single Spark job.
    Dataset<Row> subjects = read(r, "subjects");
    Dataset<Row> keys = null;
    for (String table : CohortPlan.TABLES) {
      Dataset<Row> k1 =
          read(r, table)
              .selectExpr(
                  "'" + table + "' AS tbl",
                  "subject_id",
                  table.equals("labs")
                      ? "CASE WHEN time IS NOT NULL THEN concat(subject_id, '@', time) END AS row_key"
                      : "subject_id AS row_key");
      keys = keys == null ? k1 : keys.union(k1);
    }
    Map<String, Row> idCounts =
        byTable(
            keys.groupBy("tbl")
                .agg(expr("count_if(subject_id IS NULL)"), expr("count_if(subject_id = '')")));
    Map<String, Row> duplicates =
        byTable(
            keys.where("subject_id <> '' AND row_key IS NOT NULL")
                .groupBy("tbl", "row_key")
                .count()
                .groupBy("tbl")
                .agg(expr("sum(count - 1)")));
    Dataset<Row> validIds =
        subjects.where("subject_id <> ''").select(col("subject_id").as("valid_id"));
    Map<String, Row> unknown =
        byTable(
            keys.where("subject_id <> ''")
                .join(validIds, col("subject_id").equalTo(col("valid_id")), "left_anti")
                .groupBy("tbl")
                .count());
    for (String table : CohortPlan.TABLES) {
      assertEquals(r.planted(table, PlantedKind.NULL_ID), idCounts.get(table).getLong(1), table);
      assertEquals(
          r.planted(table, PlantedKind.MALFORMED_ID), idCounts.get(table).getLong(2), table);
      assertEquals(
          r.planted(table, PlantedKind.DUPLICATE),
          duplicates.get(table).getLong(1),
          table + " duplicates");
      if (!table.equals("subjects")) {
        assertEquals(
            r.planted(table, PlantedKind.UNKNOWN_SUBJECT),
            unknown.get(table).getLong(1),
            table + " unknown");
      }
    }
    assertEquals(k, subjects.where("label NOT IN (0, 1)").count());
    Dataset<Row> ids =
        read(r, "clinical")
            .select("subject_id")
            .union(read(r, "omics").select("subject_id"))
            .union(read(r, "imaging").select("subject_id"))
            .union(read(r, "labs").select("subject_id"))
            .union(read(r, "notes").select("subject_id"));
    Dataset<Row> labeled =
        subjects
            .where("subject_id IS NOT NULL AND subject_id <> '' AND label IN (0, 1)")
            .dropDuplicates("subject_id");
    long noModality =
        labeled
            .join(ids, labeled.col("subject_id").equalTo(ids.col("subject_id")), "left_anti")
            .count();
    assertEquals(r.planted("subjects", PlantedKind.NO_MODALITY), noModality);

    String nonFinite = "exists(%s, x -> isnan(x) OR abs(x) = double('inf'))";
    assertEquals(k, read(r, "clinical").where("isnan(age)").count());
    Row omics =
        read(r, "omics")
            .selectExpr(
                "count_if(" + String.format(nonFinite, "values") + ")",
                "count_if(size(values) <> 256)")
            .first();
    assertEquals(List.of(k, k), List.of((int) omics.getLong(0), (int) omics.getLong(1)));
    Row imaging =
        read(r, "imaging")
            .selectExpr(
                "count_if(" + String.format(nonFinite, "pixels") + ")",
                "count_if(size(pixels) <> 256)",
                "count_if(shape <> array(1, 16, 16))")
            .first();
    assertEquals(
        List.of(k, k, k),
        List.of((int) imaging.getLong(0), (int) imaging.getLong(1), (int) imaging.getLong(2)));
    Row labs =
        read(r, "labs")
            .selectExpr("count_if(time IS NULL)", "count_if(isnan(crp) OR isnan(alb) OR isnan(hb))")
            .first();
    assertEquals(List.of(k, k), List.of((int) labs.getLong(0), (int) labs.getLong(1)));
    assertEquals(k, read(r, "notes").where("text IS NULL").count());

    JsonNode json =
        new ObjectMapper().readTree(new File(r.outputDir().replace("file:", ""), "_planted.json"));
    long fromJson = 0;
    for (String table : CohortPlan.TABLES) {
      for (PlantedKind kind : PlantedKind.values()) {
        long n = json.path(table).path(kind.name()).asLong(0);
        assertEquals(r.planted(table, kind), n, table + "/" + kind);
        fromJson += n;
      }
    }
    assertEquals(r.plantedTotal(), fromJson);
  }

  /** Rows of a small aggregate keyed by their first column (test only: a handful of rows). */
  private static Map<String, Row> byTable(Dataset<Row> aggregate) {
    Map<String, Row> out = new java.util.HashMap<>();
    for (Row row : aggregate.collectAsList()) {
      out.put(row.getString(0), row);
    }
    return out;
  }

  @Test
  void invalidOptionsAreRejectedWithAReason() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> GenerateOptions.defaults().withSubjects(0));
    assertEquals("Cannot generate cohort: subjects must be at least 1 (got 0)", e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> GenerateOptions.defaults().withImageShape(new int[] {16, 16}));
    assertThrows(
        IllegalArgumentException.class,
        () -> GenerateOptions.defaults().withSubjects(10).withBadRows(1));
    assertThrows(IllegalArgumentException.class, () -> Missingness.mcar(1.0));
    assertThrows(
        IllegalArgumentException.class, () -> GenerateOptions.defaults().withFormat("csv"));
  }
}
