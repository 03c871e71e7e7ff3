package org.cohortfusion.fusion.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class FusionOpTest {

  private static final int[] EQUAL = {3, 3, 3};
  private static final int[] MIXED = {3, 2, 4};

  @Test
  void everyConfigNameIsRegistered() {
    Set<String> names =
        Arrays.stream(FusionOp.values()).map(FusionOp::configName).collect(Collectors.toSet());
    assertEquals(
        Set.of(
            "concat",
            "concat_mask",
            "sum",
            "product",
            "mean",
            "attention",
            "gmu",
            "tensor",
            "lowrank_tensor",
            "cross_attention"),
        names);
    for (FusionOp op : FusionOp.values()) {
      assertEquals(op, FusionOp.fromName(op.configName().toUpperCase()));
      assertFalse(op.description().isEmpty());
    }
    assertThrows(IllegalArgumentException.class, () -> FusionOp.fromName("late_vote"));
  }

  @Test
  void reviewVocabulary() {
    assertEquals("concatenation", FusionOp.CONCAT_MASK.how().label());
    assertEquals("tensor operation", FusionOp.LOWRANK_TENSOR.how().label());
    assertEquals("attention", FusionOp.CROSS_ATTENTION.how().label());
    assertEquals("gating", FusionOp.GMU.how().label());
  }

  @Test
  void outputSizesMatchTheVertices() {
    Map<String, Object> none = Collections.emptyMap();
    assertEquals(9, FusionOp.CONCAT.outputSize(3, MIXED, none));
    assertEquals(12, FusionOp.CONCAT_MASK.outputSize(3, MIXED, none));
    assertEquals(3, FusionOp.SUM.outputSize(3, EQUAL, none));
    assertEquals(3, FusionOp.MEAN.outputSize(3, EQUAL, none));
    assertEquals(4 * 3 * 5, FusionOp.TENSOR.outputSize(3, MIXED, none));
    assertEquals(7, FusionOp.GMU.outputSize(3, MIXED, Map.of("outSize", 7)));
    assertEquals(3, FusionOp.GMU.outputSize(3, MIXED, none));
    for (FusionOp op : FusionOp.values()) {
      int[] sizes = op.requiresEqualSizes() ? EQUAL : MIXED;
      FusionVertexConf v = op.vertex(3, sizes, none);
      assertEquals(v.outputSize(), op.outputSize(3, sizes, none));
      assertEquals(4, v.minVertexInputs(), "modalities plus presence");
    }
  }

  @Test
  void optionsReachTheVertex() {
    Map<String, Object> opts = new HashMap<>();
    opts.put("rank", "2");
    opts.put("outSize", 5);
    LowRankTensorFusion lmf =
        (LowRankTensorFusion) FusionOp.LOWRANK_TENSOR.vertex(2, new int[] {3, 2}, opts);
    assertEquals(2, lmf.getRank());
    assertEquals(5, lmf.getOutSize());
    assertEquals(2L * (4 + 3) * 5 + 5, lmf.numParams(true));
    MaskedAttentionFusion att =
        (MaskedAttentionFusion)
            FusionOp.ATTENTION.vertex(2, new int[] {3, 3}, Map.of("keyProjection", false));
    assertFalse(att.isKeyProjection());
    assertEquals(3, att.numParams(true));
  }

  @Test
  void invalidRequestsAreRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () -> FusionOp.CONCAT.vertex(2, new int[] {3, 3}, Map.of("rank", 2)));
    assertThrows(
        IllegalArgumentException.class, () -> FusionOp.SUM.vertex(3, new int[] {3, 3}, null));
    assertThrows(
        IllegalStateException.class, () -> FusionOp.MEAN.vertex(2, new int[] {3, 4}, null));
    assertTrue(FusionOp.ATTENTION.requiresEqualSizes());
    assertFalse(FusionOp.TENSOR.requiresEqualSizes());
  }
}
