package org.cohortfusion.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The stage package is the only place that names what one stage hands to the next: a file of a
 * stage's output directory or a column of the aligned cohort or the embeddings table. Two copies of
 * a name drift apart when one is renamed; this test finds the second copy in main code.
 *
 * <p>Not checked: the generator and the data-schemas validator ({@code cohort/generate}, {@code
 * cohort/contract}), which name the columns of the user's input tables, a contract of their own.
 */
class StageNamesTest {
  private static final Path MAIN = Path.of("src/main/java/org/cohortfusion");

  private static final Pattern STAGE_NAME =
      Pattern.compile(
          "\"has_"
              + "|\"/?(summary|embeddings|cohort|state|qc)\\.json\""
              + "|\\+ \"/(model|table|checkpoints|aligned)\""
              + "|col\\(\"(subject_id|label|split|duration|fold|index_time|group)\"\\)"
              + "|(lit|equalTo)\\(\"(train|validation|test)\"\\)");

  @Test
  void onlyTheStagePackageNamesStageFilesAndColumns() throws IOException {
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.walk(MAIN)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String rel = MAIN.relativize(f).toString().replace('\\', '/');
        if (rel.startsWith("stage/")
            || rel.startsWith("cohort/generate/")
            || rel.startsWith("cohort/contract/")) {
          continue;
        }
        List<String> lines = Files.readAllLines(f);
        for (int i = 0; i < lines.size(); i++) {
          if (STAGE_NAME.matcher(lines.get(i)).find()) {
            found.add(rel + ":" + (i + 1) + ": " + lines.get(i).trim());
          }
        }
      }
    }
    assertEquals(List.of(), found, "stage files and columns named outside org.cohortfusion.stage");
  }

  @Test
  void thePatternFindsTheNamesItLooksFor() {
    for (String line :
        List.of(
            "col(\"has_\" + m)",
            "dir + \"/summary.json\"",
            "p + \"/model\"",
            "col(\"subject_id\")",
            "col(\"split\").equalTo(\"test\")")) {
      assertEquals(true, STAGE_NAME.matcher(line).find(), line);
    }
  }
}
