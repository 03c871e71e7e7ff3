package org.cohortfusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.cohortfusion.testing.AllPairsC;
import org.cohortfusion.testing.SparkTestSession;
import org.cohortfusion.testing.SurvivalCohorts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An end-to-end fusion (the encoders inside the graph, trained on the aligned cohort's features) on
 * a survival outcome, through {@code run}: it trains on the discrete-time hazard codes of the
 * cohort, in one process and with parameter averaging, and evaluate scores it with the other
 * survival models. Checked against the prediction files: every labeled test subject is predicted
 * once by each model, metrics.json's C equals Harrell's C over all pairs of the predictions, and
 * the end-to-end model recovers at least half of the concordance above chance of the true risk: the
 * event times are drawn here from an exponential model of two clinical columns (independent uniform
 * censoring), so the true risk is known.
 */
class SurvivalEndToEndTest {
  @TempDir Path dir;

  /**
   * The session the stages find (CLI runs share the JVM's active session): the suite's embedded
   * one, started here when this class runs first or alone.
   */
  SparkSession session() {
    return SparkTestSession.get();
  }

  /**
   * The train modes to run: one process here. Parameter averaging runs in {@link
   * SurvivalEndToEndMultiJvmTest}, on executor JVMs, which embedded executors would only repeat.
   */
  List<String> modes() {
    return List.of("local");
  }

  @Test
  void anEndToEndFusionTrainsAndIsEvaluatedOnASurvivalOutcome() throws Exception {
    SparkSession spark = session();
    assertEquals(
        0,
        CliRun.of(
                "generate",
                "--subjects",
                "600",
                "--seed",
                "21",
                "--missing",
                "labs=0.3",
                "--output",
                dir.resolve("in").toString())
            .code());
    double trueC = SurvivalCohorts.withSurvivalFromClinical(dir.resolve("in"));
    Path conf =
        Files.writeString(
            dir.resolve("e2e.conf"),
            """
        name = survival-e2e-test
        cohort-dir = "%s"
        subjects {
          path = subjects_survival
          outcome { kind = survival, intervals = [0.25, 0.5, 1, 2], horizons = [0.5, 1] }
        }
        modalities {
          clinical { kind = tabular, path = clinical }
          labs { kind = timeseries, path = labs, steps = 4 }
        }
        splits { seed = 5 }
        output { dir = "%s" }
        pretrain.encoders {
          clinical { embedding-size = 4, hidden = [8], epochs = 10 }
          labs { embedding-size = 4, cell = cnn, epochs = 10 }
        }
        fusion {
          default = mean
          models {
            mean { what = [clinical, labs], how = mean, projection = 4, head = [8] }
            e2e { what = [clinical, labs], when = input, how = concat, projection = 4, head = [8] }
          }
        }
        train { mode = local, validation = driver, epochs = 20, batch-size = 32 }
        """
                .formatted(dir.resolve("in"), dir.resolve("out")));
    for (String mode : modes()) {
      CliRun run =
          CliRun.of(
              "run",
              "--config",
              conf.toString(),
              "--to",
              "evaluate",
              "--set",
              "train.mode=" + mode);
      assertEquals(0, run.code(), mode + ": " + run.out() + run.err());

      Path out = dir.resolve("out");
      Set<String> labeledTest = new HashSet<>();
      for (Row r :
          spark
              .read()
              .parquet(out.resolve("cohort/aligned").toString())
              .where("split = 'test' AND label IS NOT NULL")
              .select("subject_id")
              .collectAsList()) {
        labeledTest.add(r.getString(0));
      }
      Map<String, List<double[]>> byModel = new HashMap<>();
      Map<String, Set<String>> subjects = new HashMap<>();
      for (Row r :
          spark
              .read()
              .parquet(out.resolve("evaluate/predictions").toString())
              .select("subject_id", "model", "risk", "duration", "event")
              .collectAsList()) {
        byModel
            .computeIfAbsent(r.getString(1), m -> new ArrayList<>())
            .add(new double[] {r.getDouble(2), r.getDouble(3), r.getInt(4)});
        assertTrue(
            subjects.computeIfAbsent(r.getString(1), m -> new HashSet<>()).add(r.getString(0)),
            mode + ": a subject predicted twice by " + r.getString(1));
      }
      assertTrue(byModel.containsKey("e2e"), mode + ": " + byModel.keySet());
      assertEquals(labeledTest, subjects.get("e2e"), mode);
      JsonNode metrics = new ObjectMapper().readTree(out.resolve("evaluate/metrics.json").toFile());
      assertEquals("survival", metrics.path("outcome").asText());
      boolean seen = false;
      for (JsonNode m : metrics.path("models")) {
        String name = m.path("name").asText();
        assertEquals(
            AllPairsC.of(byModel.get(name)),
            m.path("test").path("cIndex").asDouble(),
            1e-12,
            mode + " " + name);
        seen |= name.equals("e2e");
      }
      assertTrue(seen, mode);
      double c = AllPairsC.of(byModel.get("e2e"));
      assertTrue(
          c - 0.5 >= (trueC - 0.5) / 2,
          mode + ": the end-to-end model's C " + c + " against the true risk's " + trueC);
    }
  }
}
