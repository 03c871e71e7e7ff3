package org.cohortfusion.fusion.ops;

import java.util.Collections;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Registry of the fusion operations by their configuration name, so that a fusion spec can be
 * compiled to graph vertices. Each entry also carries the review vocabulary ("how" the modalities
 * are fused, arXiv 2408.02686): concatenation, tensor operation, attention or gating.
 *
 * <p>Options (all optional): {@code outSize} (gmu, lowrank_tensor; default: first modality size),
 * {@code rank} (lowrank_tensor; default 4), {@code keyProjection} (attention; default true), {@code
 * normalised} (attention: softmax weights over the present modalities; false = a sigmoid weight per
 * modality; default true). Unknown options are rejected.
 */
public enum FusionOp {
  CONCAT("concat", How.CONCATENATION, false, "concatenation, absent modalities zero-filled"),
  CONCAT_MASK("concat_mask", How.CONCATENATION, false, "concatenation with mask indicators"),
  SUM("sum", How.TENSOR_OPERATION, true, "element-wise sum over present modalities"),
  PRODUCT(
      "product",
      How.TENSOR_OPERATION,
      true,
      "element-wise (Hadamard) product over present modalities"),
  MEAN("mean", How.TENSOR_OPERATION, true, "element-wise mean over present modalities"),
  ATTENTION("attention", How.ATTENTION, true, "masked additive attention over modality tokens"),
  GMU("gmu", How.GATING, false, "gated multimodal unit (Arevalo et al. 2017)"),
  TENSOR(
      "tensor",
      How.TENSOR_OPERATION,
      false,
      "tensor fusion, outer product of [h;1] (Zadeh et al. 2017)"),
  LOWRANK_TENSOR(
      "lowrank_tensor",
      How.TENSOR_OPERATION,
      false,
      "low-rank multimodal fusion with modality-specific factors (Liu et al. 2018)"),
  CROSS_ATTENTION(
      "cross_attention",
      How.ATTENTION,
      true,
      "cross-modal scaled dot-product attention (Vaswani et al. 2017; Tsai et al. 2019)");

  /** How the modalities are combined, in the review's vocabulary. */
  public enum How {
    CONCATENATION("concatenation"),
    TENSOR_OPERATION("tensor operation"),
    ATTENTION("attention"),
    GATING("gating");

    private final String label;

    How(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  private static final int DEFAULT_RANK = 4;

  private final String configName;
  private final How how;
  private final boolean equalSizes;
  private final String description;

  FusionOp(String configName, How how, boolean equalSizes, String description) {
    this.configName = configName;
    this.how = how;
    this.equalSizes = equalSizes;
    this.description = description;
  }

  /** Name used in fusion configurations, e.g. {@code lowrank_tensor}. */
  public String configName() {
    return configName;
  }

  public How how() {
    return how;
  }

  public String description() {
    return description;
  }

  /** Whether the modality inputs must first be projected to one common size. */
  public boolean requiresEqualSizes() {
    return equalSizes;
  }

  /** The operation with the given configuration name (case-insensitive). */
  public static FusionOp fromName(String name) {
    for (FusionOp op : values()) {
      if (op.configName.equalsIgnoreCase(name == null ? "" : name.trim())) {
        return op;
      }
    }
    throw new IllegalArgumentException("Unknown fusion operation '" + name + "'");
  }

  /** Option keys this operation accepts. */
  public Set<String> optionKeys() {
    Set<String> keys = new HashSet<>();
    if (this == GMU || this == LOWRANK_TENSOR) {
      keys.add("outSize");
    }
    if (this == LOWRANK_TENSOR) {
      keys.add("rank");
    }
    if (this == ATTENTION) {
      keys.add("keyProjection");
      keys.add("normalised");
    }
    return Collections.unmodifiableSet(keys);
  }

  /**
   * The graph-vertex configuration for {@code numModalities} modality inputs of the given sizes
   * (plus the presence input, last).
   */
  public FusionVertexConf vertex(int numModalities, int[] sizes, Map<String, Object> options) {
    if (sizes == null || sizes.length != numModalities) {
      throw new IllegalArgumentException("Expected " + numModalities + " modality sizes");
    }
    Map<String, Object> opts = options == null ? Collections.emptyMap() : options;
    for (String key : opts.keySet()) {
      if (!optionKeys().contains(key)) {
        throw new IllegalArgumentException(
            "Option '"
                + key
                + "' is not valid for fusion '"
                + configName
                + "' (valid: "
                + optionKeys()
                + ")");
      }
    }
    int outSize = intOption(opts, "outSize", sizes[0]);
    switch (this) {
      case CONCAT:
        return new ConcatFusion(false, sizes);
      case CONCAT_MASK:
        return new ConcatFusion(true, sizes);
      case SUM:
        return new ElementwiseFusion(ElementwiseFusion.Mode.SUM, sizes);
      case PRODUCT:
        return new ElementwiseFusion(ElementwiseFusion.Mode.PRODUCT, sizes);
      case MEAN:
        return new MaskedMeanFusion(sizes);
      case ATTENTION:
        return new MaskedAttentionFusion(
            boolOption(opts, "keyProjection", true), boolOption(opts, "normalised", true), sizes);
      case GMU:
        return new GatedMultimodalUnit(outSize, sizes);
      case TENSOR:
        return new TensorFusion(sizes);
      case LOWRANK_TENSOR:
        return new LowRankTensorFusion(intOption(opts, "rank", DEFAULT_RANK), outSize, sizes);
      case CROSS_ATTENTION:
        return new CrossModalAttentionFusion(sizes);
      default:
        throw new IllegalStateException("Unhandled fusion operation " + this);
    }
  }

  /** Size of the fused output for these modality sizes and options. */
  public long outputSize(int numModalities, int[] sizes, Map<String, Object> options) {
    return vertex(numModalities, sizes, options).outputSize();
  }

  private static int intOption(Map<String, Object> opts, String key, int dflt) {
    Object v = opts.get(key);
    if (v == null) {
      return dflt;
    }
    return v instanceof Number ? ((Number) v).intValue() : Integer.parseInt(v.toString().trim());
  }

  private static boolean boolOption(Map<String, Object> opts, String key, boolean dflt) {
    Object v = opts.get(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Boolean) {
      return (Boolean) v;
    }
    String s = v.toString().trim().toLowerCase(Locale.ROOT);
    if (!s.equals("true") && !s.equals("false")) {
      throw new IllegalArgumentException(
          "Option '" + key + "' must be true or false, got '" + v + "'");
    }
    return Boolean.parseBoolean(s);
  }
}
