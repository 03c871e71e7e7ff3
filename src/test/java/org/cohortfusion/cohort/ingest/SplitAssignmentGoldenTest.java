package org.cohortfusion.cohort.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.config.SplitConfig;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The subject → split assignment pinned across code versions by a golden file, {@code
 * src/test/resources/golden/split-assignment.csv}: a cohort published by an older version and one
 * published by this version must put every subject in the same split, or a model trained on one is
 * evaluated on subjects it has seen. The file holds 200 plain ids (S00001..S00200) and a few odd
 * ones (non-ASCII, a surrogate pair, a 300-character id, inner whitespace), each with a fixed label
 * (or none), and the split and fold each gets under three configs: the default ({@link
 * SplitConfig#defaults()}: hash, seed 17, 0.7/0.15/0.15, stratified), the same unstratified (a
 * subject's split then depends on its id alone), and the default with 5 folds.
 *
 * <p>The file was generated once from the code and is compared here, value by value. A failure
 * means the assignment changed: if that is a bug, fix the code. If the change is deliberate (and
 * the README says that cohorts published before it get other splits), regenerate the file with
 * {@code mvn -B -ntp surefire:test -Dtest=SplitAssignmentGoldenTest
 * -Dcohortfusion.golden.regenerate=true}, review {@code git diff} of the file, and commit it
 * together with the change.
 */
class SplitAssignmentGoldenTest {
  private static final String RESOURCE = "golden/split-assignment.csv";
  private static final String HEADER =
      "subject_id,label,split_default,split_unstratified,split_5_folds,fold_5_folds";

  private final SparkSession spark = SparkTestSession.get();

  /** The fixed subjects: id and label (null: unlabeled), in file order. */
  private static Map<String, Integer> subjects() {
    Map<String, Integer> subjects = new LinkedHashMap<>();
    for (int i = 1; i <= 200; i++) {
      subjects.put(String.format("S%05d", i), i % 10 == 3 ? null : i % 4 == 0 ? 1 : 0);
    }
    subjects.put("s00001", 0);
    subjects.put("S 00002", 1);
    subjects.put("Müller-ß-01", 0);
    subjects.put("患者-0042", 1);
    subjects.put("\uD83E\uDDEC-7", 0);
    subjects.put("Ωmega_Δ", null);
    subjects.put("x".repeat(300), 1);
    subjects.put("0", 0);
    subjects.put("-1", 0);
    subjects.put("e\u0301", 1);
    return subjects;
  }

  /** Every subject's row of the golden file, as this code assigns it. */
  private List<String> assigned() {
    Map<String, Integer> subjects = subjects();
    List<Row> rows = new ArrayList<>();
    subjects.forEach((id, label) -> rows.add(RowFactory.create(id, label)));
    Dataset<Row> df =
        spark.createDataFrame(
            rows,
            new StructType()
                .add("subject_id", DataTypes.StringType)
                .add("label", DataTypes.IntegerType));
    Map<String, String> byDefault = splits(SplitAssigner.assign(df, SplitConfig.defaults()));
    Map<String, String> unstratified =
        splits(
            SplitAssigner.assign(
                df, new SplitConfig(null, null, null, null, null, false, null, null)));
    Map<String, String> folds =
        splits(
            SplitAssigner.assign(df, new SplitConfig(null, null, null, null, null, null, 5, null)));
    List<String> lines = new ArrayList<>();
    lines.add(HEADER);
    subjects.forEach(
        (id, label) ->
            lines.add(
                String.join(
                    ",",
                    id,
                    label == null ? "" : label.toString(),
                    byDefault.get(id),
                    unstratified.get(id),
                    folds.get(id))));
    return lines;
  }

  /** subject_id → "split" or, with folds, "split,fold". */
  private static Map<String, String> splits(Dataset<Row> assigned) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Row r : assigned.select("subject_id", "split", "fold").collectAsList()) {
      out.put(r.getString(0), r.getString(1) + (r.isNullAt(2) ? "" : "," + r.getInt(2)));
    }
    return out;
  }

  @Test
  void theSplitOfEverySubjectIsTheOneTheGoldenFileHolds() throws IOException {
    List<String> actual = assigned();
    if (Boolean.getBoolean("cohortfusion.golden.regenerate")) {
      Path file =
          Path.of(System.getProperty("cohortfusion.repo", "."), "src/test/resources", RESOURCE);
      Files.createDirectories(file.getParent());
      Files.write(file, actual, StandardCharsets.UTF_8);
      Assumptions.abort("regenerated " + file + "; review its git diff before committing it");
    }
    List<String> golden;
    try (InputStream in = getClass().getClassLoader().getResourceAsStream(RESOURCE)) {
      assertNotNull(in, "missing test resource " + RESOURCE);
      golden = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
    assertEquals(HEADER, golden.get(0));
    assertEquals(subjects().size() + 1, golden.size(), "one line per subject and the header");
    for (int i = 0; i < golden.size(); i++) {
      assertEquals(golden.get(i), actual.get(i), "line " + (i + 1) + " of " + RESOURCE);
    }
  }

  @Test
  void theGoldenFileCoversEverySplitUnderEachConfig() throws IOException {
    // Guards the fixture itself: a file where one split is missing would pin less than it seems.
    List<String> golden;
    try (InputStream in = getClass().getClassLoader().getResourceAsStream(RESOURCE)) {
      assertNotNull(in, "missing test resource " + RESOURCE);
      golden = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().skip(1).toList();
    }
    for (int column = 2; column <= 4; column++) {
      for (String split : List.of("train", "validation", "test")) {
        int c = column;
        assertTrue(
            golden.stream().anyMatch(l -> l.split(",", -1)[c].equals(split)),
            "no " + split + " in column " + c);
      }
    }
  }
}
