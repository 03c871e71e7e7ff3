package org.cohortfusion.cohort.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.cohortfusion.stage.ModalityKind;
import org.junit.jupiter.api.Test;

class ContractsTest {
  private static final Path SCHEMAS =
      Path.of(System.getProperty("cohortfusion.repo", ".")).resolve("data-schemas");

  @Test
  void everyKindHasAContractWithAnIdColumn() {
    List<String> kinds =
        new ArrayList<>(
            Arrays.stream(ModalityKind.values()).map(ModalityKind::configName).toList());
    kinds.add("subjects");
    for (String kind : kinds) {
      TableContract c = Contracts.forKind(kind);
      assertEquals(kind, c.kind());
      assertEquals("id", c.column("subject_id").orElseThrow().role(), kind);
      assertTrue(c.key().contains("subject_id"), kind);
    }
  }

  @Test
  void rejectsContractDocumentsExactlyTheReasonCodesAndDefaults() throws Exception {
    JsonNode reasons =
        new ObjectMapper().readTree(SCHEMAS.resolve("rejects.json").toFile()).get("reasons");
    List<String> documented = new ArrayList<>();
    reasons.forEach(
        r -> {
          documented.add(r.get("code").asText());
          RejectReason reason = RejectReason.valueOf(r.get("code").asText());
          assertEquals(reason.check(), r.get("check").asText());
          assertEquals(reason.defaultPolicy().configName(), r.get("default").asText());
        });
    assertEquals(Arrays.stream(RejectReason.values()).map(Enum::name).toList(), documented);
  }
}
