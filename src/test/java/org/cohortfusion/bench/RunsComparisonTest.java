package org.cohortfusion.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.cohortfusion.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs are matched by subject id and model; AUROCs by hand on four subjects. */
class RunsComparisonTest {
  private static final StructType SCHEMA =
      new StructType()
          .add("subject_id", DataTypes.StringType, false)
          .add("model", DataTypes.StringType, false)
          .add("probability", DataTypes.DoubleType, false)
          .add("label", DataTypes.IntegerType, false)
          .add("pattern", DataTypes.StringType, false);

  private final SparkSession spark = SparkTestSession.get();
  @TempDir Path dir;

  private String write(String name, List<Row> rows) {
    String path = dir.resolve(name).toString();
    spark.createDataFrame(rows, SCHEMA).write().parquet(path);
    return path;
  }

  private static Row row(String id, String model, double p, int label) {
    return RowFactory.create(id, model, p, label, "x");
  }

  /**
   * Labels s1, s2 positive, s3, s4 negative. Run A ranks both positives above both negatives: AUROC
   * 1. Run B scores s1 0.9, s2 0.1, s3 0.8, s4 0.2: of the four positive-negative pairs, s1 beats
   * both and s2 neither, AUROC 2/4 = 0.5. B - A = -0.5. Run B's rows come in another order, one
   * more model ("other", only in B) and one subject (s5, only in A) that cannot be paired.
   */
  @Test
  void modelsAndSubjectsArePairedByNameAndIdNotByRowOrder() {
    String a =
        write(
            "a",
            List.of(
                row("s1", "att", 0.9, 1),
                row("s2", "att", 0.8, 1),
                row("s3", "att", 0.1, 0),
                row("s4", "att", 0.2, 0),
                row("s5", "att", 0.5, 0)));
    String b =
        write(
            "b",
            List.of(
                row("s4", "att", 0.2, 0),
                row("s3", "att", 0.8, 0),
                row("other-model-row", "other", 0.5, 1),
                row("s2", "att", 0.1, 1),
                row("s1", "att", 0.9, 1)));
    List<RunsComparison.ModelComparison> c = RunsComparison.compare(spark, a, b, List.of());
    assertEquals(1, c.size(), "only att was evaluated in both");
    RunsComparison.ModelComparison att = c.get(0);
    assertEquals("att", att.model());
    assertEquals(0.5, att.paired().aurocA(), 1e-12, "run B's AUROC");
    assertEquals(1.0, att.paired().aurocB(), 1e-12, "run A's AUROC");
    assertEquals(-0.5, att.paired().difference(), 1e-12);
    assertEquals(2, att.paired().positives());
    assertEquals(2, att.paired().negatives());
    assertEquals(1, att.onlyInOneRun(), "s5");
  }

  @Test
  void differentLabelsMeanAnotherCohortAndAreRefused() {
    List<Row> rows = new ArrayList<>();
    List<Row> flipped = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      rows.add(row("s" + i, "att", i / 10.0, i % 2));
      flipped.add(row("s" + i, "att", i / 10.0, i == 0 ? 1 : i % 2));
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> RunsComparison.compare(spark, write("a", rows), write("b", flipped), List.of()));
    assertTrue(e.getMessage().startsWith("Cannot compare runs: 1 test subjects"), e.getMessage());
    assertTrue(!e.getMessage().contains("s0"), "no subject id in the message");
  }
}
