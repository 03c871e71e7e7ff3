package org.cohortfusion.fusion.spec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.cohortfusion.config.FusionConfig;
import org.cohortfusion.config.FusionModelConfig;
import org.cohortfusion.config.FusionStageConfig;
import org.cohortfusion.features.encoder.EncoderLayers;
import org.cohortfusion.fusion.ops.FusionOp;
import org.cohortfusion.stage.EmbeddingsSpec;

/**
 * A fusion model in the vocabulary of the review on multimodal deep learning for biomedical data
 * (Stahlschmidt / intermediate-fusion taxonomy as used in arXiv 2408.02686): WHAT modalities are
 * fused, WHEN (here: on learned marginal representations, i.e. intermediate fusion), HOW MANY times
 * (single fusion or hierarchical stages) and HOW (concatenation, tensor operation, attention,
 * gating). Baselines use the same language: {@code unimodal:<m>}, {@code early} (zero-filled
 * concatenation of the embeddings plus presence into one MLP) and {@code late} (mean of the
 * unimodal predicted probabilities over the modalities present).
 *
 * @param name model name (the key under fusion.models, or the baseline name)
 * @param kind fusion model or which baseline
 * @param stages fusion stages in order; the last feeds the head (one stage = single fusion)
 * @param projection per-modality projection size: null = 32 where the operation needs equal sizes,
 *     0 = never
 * @param projectionActivation activation of projections
 * @param head hidden sizes of the multimodal head
 * @param dropout dropout rate in the head
 * @param modalityDropout probability of hiding each present modality per training example and epoch
 * @param when depth at which each leaf modality joins the fusion (end to end: {@code input}, {@code
 *     embedding}, an encoder layer name or index); empty = the frozen precomputed embeddings
 * @param freezeEncoderEpochs end to end: epochs during which the encoder layers are frozen
 * @param encoderLearningRate end to end: learning-rate multiplier of the encoder layers
 * @param encoderInit end to end: pretrained or scratch
 * @param l2 L2 penalty coefficient on the fusion's weights (projections, fusion operation, head,
 *     output; not biases, not encoder layers)
 * @param l1 L1 penalty coefficient on the same weights
 * @param wide the wide path beside the fused head, or null for none
 */
public record FusionSpec(
    String name,
    Kind kind,
    List<Stage> stages,
    Integer projection,
    String projectionActivation,
    List<Integer> head,
    double dropout,
    double modalityDropout,
    Map<String, String> when,
    int freezeEncoderEpochs,
    double encoderLearningRate,
    String encoderInit,
    double l2,
    double l1,
    Wide wide) {

  /** Encoder initialisations of end-to-end models. */
  public static final List<String> ENCODER_INITS = List.of("pretrained", "scratch");

  /** Default projection size where an operation needs equal sizes and none is configured. */
  public static final int DEFAULT_PROJECTION = 32;

  /** A fusion model or one of the baselines. */
  public enum Kind {
    FUSION,
    UNIMODAL,
    EARLY,
    LATE
  }

  /**
   * A wide path (Wide &amp; Deep, Cheng et al. 2016, arXiv 1606.07792): a linear map, without bias,
   * of every leaf modality as it joins the fusion and of the presence indicators, concatenated to
   * the head's output before the output layer, so that the output's logit is the fused head's plus
   * a penalised linear model of the same inputs.
   *
   * @param l2 L2 penalty coefficient of the wide path's weights
   */
  public record Wide(double l2) {}

  /** One fusion: the inputs (modalities or earlier stages) combined by an operation. */
  public record Stage(String name, List<String> inputs, FusionOp op, Map<String, Object> options) {
    public Stage {
      inputs = List.copyOf(inputs);
      options = Map.copyOf(options);
    }
  }

  public FusionSpec {
    stages = List.copyOf(stages);
    head = List.copyOf(head);
    when =
        when == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(when));
    encoderInit = encoderInit == null ? "pretrained" : encoderInit;
  }

  /**
   * A builder that names the components a caller sets. Unset components take the values of a model
   * fused on the frozen precomputed embeddings without a penalty or a wide path: no projection size
   * (32 where the operation needs equal sizes), no dropout, no {@code when} (embeddings), no frozen
   * epochs, encoder learning-rate multiplier 1 and pretrained encoders (neither applies without an
   * encoder in the graph). The name, kind, stages, projection activation and head have no default.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Sets the components of a {@link FusionSpec} by name; see {@link #builder()}. */
  public static final class Builder {
    private String name;
    private Kind kind;
    private List<Stage> stages;
    private Integer projection;
    private String projectionActivation;
    private List<Integer> head;
    private double dropout;
    private double modalityDropout;
    private Map<String, String> when = Map.of();
    private int freezeEncoderEpochs;
    private double encoderLearningRate = 1.0;
    private String encoderInit = "pretrained";
    private double l2;
    private double l1;
    private Wide wide;

    private Builder() {}

    public Builder name(String value) {
      name = value;
      return this;
    }

    public Builder kind(Kind value) {
      kind = value;
      return this;
    }

    public Builder stages(List<Stage> value) {
      stages = value;
      return this;
    }

    public Builder projection(Integer value) {
      projection = value;
      return this;
    }

    public Builder projectionActivation(String value) {
      projectionActivation = value;
      return this;
    }

    public Builder head(List<Integer> value) {
      head = value;
      return this;
    }

    public Builder dropout(double value) {
      dropout = value;
      return this;
    }

    public Builder modalityDropout(double value) {
      modalityDropout = value;
      return this;
    }

    public Builder when(Map<String, String> value) {
      when = value;
      return this;
    }

    public Builder freezeEncoderEpochs(int value) {
      freezeEncoderEpochs = value;
      return this;
    }

    public Builder encoderLearningRate(double value) {
      encoderLearningRate = value;
      return this;
    }

    public Builder encoderInit(String value) {
      encoderInit = value;
      return this;
    }

    public Builder l2(double value) {
      l2 = value;
      return this;
    }

    public Builder l1(double value) {
      l1 = value;
      return this;
    }

    /** The wide path, or null for none. */
    public Builder wide(Wide value) {
      wide = value;
      return this;
    }

    public FusionSpec build() {
      return new FusionSpec(
          Objects.requireNonNull(name, "name"),
          Objects.requireNonNull(kind, "kind"),
          stages,
          projection,
          projectionActivation,
          head,
          dropout,
          modalityDropout,
          when,
          freezeEncoderEpochs,
          encoderLearningRate,
          encoderInit,
          l2,
          l1,
          wide);
    }
  }

  /**
   * Whether the model is trained end to end on the aligned cohort's preprocessed features (when is
   * not embeddings).
   */
  public boolean endToEnd() {
    return !when.isEmpty();
  }

  /** Config key prefix used in error messages. */
  public String key() {
    return "fusion.models." + name;
  }

  /** A named fusion model from its configuration; structural errors name the config key. */
  public static FusionSpec fromConfig(String name, FusionModelConfig c) {
    String key = "fusion.models." + name;
    String cannot = "Cannot compile fusion '" + name + "': ";
    if (!c.stages().isEmpty() && (!c.what().isEmpty() || c.how() != null)) {
      throw new FusionSpecException(
          cannot
              + key
              + " sets both what/how and stages; use what/how for single fusion or stages for hierarchical fusion");
    }
    List<Stage> stages = new ArrayList<>();
    if (c.stages().isEmpty()) {
      if (c.what().isEmpty()) {
        throw new FusionSpecException(cannot + key + ".what is empty: list the modalities to fuse");
      }
      stages.add(stage(cannot, key, name, c.what(), c.how(), c.options()));
    } else {
      Set<String> earlier = new LinkedHashSet<>();
      Set<String> all =
          c.stages().stream().map(FusionStageConfig::name).collect(Collectors.toSet());
      for (int i = 0; i < c.stages().size(); i++) {
        FusionStageConfig s = c.stages().get(i);
        String sk = key + ".stages[" + i + "]";
        if (s.name() == null || s.name().isBlank()) {
          throw new FusionSpecException(cannot + sk + ".name is missing");
        }
        if (earlier.contains(s.name())) {
          throw new FusionSpecException(
              cannot + sk + ".name = '" + s.name() + "' is used by an earlier stage");
        }
        if (s.name().equals("presence")) {
          throw new FusionSpecException(cannot + sk + ".name = 'presence' is reserved");
        }
        for (int j = 0; j < s.what().size(); j++) {
          String in = s.what().get(j);
          if (in.equals(s.name()) || (all.contains(in) && !earlier.contains(in))) {
            throw new FusionSpecException(
                cannot
                    + sk
                    + ".what["
                    + j
                    + "] = '"
                    + in
                    + "' is not an earlier stage (a stage can only use stages before it: no cycles)");
          }
        }
        stages.add(stage(cannot, sk, s.name(), s.what(), s.how(), s.options()));
        earlier.add(s.name());
      }
      // Every stage but the last must feed a later stage, or it would be a dead branch of the
      // graph.
      for (int i = 0; i < stages.size() - 1; i++) {
        String n = stages.get(i).name();
        boolean used =
            stages.subList(i + 1, stages.size()).stream().anyMatch(s -> s.inputs().contains(n));
        if (!used) {
          throw new FusionSpecException(
              cannot + key + ".stages[" + i + "] ('" + n + "') is not an input of any later stage");
        }
      }
    }
    check(
        c.projection() == null || c.projection() >= 0,
        cannot + key + ".projection = " + c.projection() + " must be >= 0");
    check(
        c.head().stream().allMatch(h -> h != null && h > 0),
        cannot + key + ".head = " + c.head() + " must hold positive sizes");
    check(
        c.dropout() >= 0 && c.dropout() < 1,
        cannot + key + ".dropout = " + c.dropout() + " must be in [0, 1)");
    check(
        c.modalityDropout() >= 0 && c.modalityDropout() < 1,
        cannot + key + ".modality-dropout = " + c.modalityDropout() + " must be in [0, 1)");
    Map<String, String> when = when(cannot, key, c.when(), leafModalities(stages));
    check(
        c.freezeEncoderEpochs() >= 0,
        cannot + key + ".freeze-encoder-epochs = " + c.freezeEncoderEpochs() + " must be >= 0");
    check(
        c.encoderLearningRate() > 0 && c.encoderLearningRate() <= 1,
        cannot
            + key
            + ".encoder-learning-rate = "
            + c.encoderLearningRate()
            + " must be in (0, 1]");
    check(
        ENCODER_INITS.contains(c.encoderInit()),
        cannot + key + ".encoder-init = '" + c.encoderInit() + "' is not one of " + ENCODER_INITS);
    check(
        c.l2() >= 0 && Double.isFinite(c.l2()),
        cannot + key + ".l2 = " + c.l2() + " must be a coefficient >= 0");
    check(
        c.l1() >= 0 && Double.isFinite(c.l1()),
        cannot + key + ".l1 = " + c.l1() + " must be a coefficient >= 0");
    check(
        c.wideL2() >= 0 && Double.isFinite(c.wideL2()),
        cannot + key + ".wide-l2 = " + c.wideL2() + " must be a coefficient >= 0");
    return builder()
        .name(name)
        .kind(fusesRawInputs(when, c.projection(), stages) ? Kind.EARLY : Kind.FUSION)
        .stages(stages)
        .projection(c.projection())
        .projectionActivation(c.projectionActivation())
        .head(c.head())
        .dropout(c.dropout())
        .modalityDropout(c.modalityDropout())
        .when(when)
        .freezeEncoderEpochs(c.freezeEncoderEpochs())
        .encoderLearningRate(c.encoderLearningRate())
        .encoderInit(c.encoderInit())
        .l2(c.l2())
        .l1(c.l1())
        .wide(c.wide() ? new Wide(c.wideL2()) : null)
        .build();
  }

  /**
   * Whether the model fuses raw inputs: every modality joins at its input and no projection learns
   * a representation of it before the fusion. In the review's taxonomy (arXiv 2408.02686) that is
   * early fusion, whatever network follows it; a projection per modality, even at the input, is a
   * marginal representation shaped by the fused loss, so intermediate.
   */
  private static boolean fusesRawInputs(
      Map<String, String> when, Integer projection, List<Stage> stages) {
    boolean projected =
        projection == null
            ? stages.stream().anyMatch(s -> s.op().requiresEqualSizes())
            : projection > 0;
    return !when.isEmpty()
        && when.values().stream().allMatch(EncoderLayers.INPUT::equals)
        && !projected;
  }

  /**
   * The per-modality depths of {@code when}: empty for {@code embeddings}; one depth for every leaf
   * modality when it is a single name (or index); a map must name every leaf modality and only
   * those. Layer names are checked against the encoders when the spec is compiled ({@link
   * FusionCompiler}), which knows them.
   */
  private static Map<String, String> when(
      String cannot, String key, Object when, List<String> leaves) {
    Map<String, String> out = new LinkedHashMap<>();
    if (when instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String m = String.valueOf(e.getKey());
        if (!leaves.contains(m)) {
          throw new FusionSpecException(
              cannot
                  + key
                  + ".when."
                  + m
                  + ": '"
                  + m
                  + "' is not a modality this model fuses "
                  + leaves);
        }
        String d = depth(cannot, key + ".when." + m, e.getValue());
        if (d.equals(FusionModelConfig.EMBEDDINGS)) {
          throw new FusionSpecException(
              cannot
                  + key
                  + ".when."
                  + m
                  + " = embeddings: a model is either fused on the"
                  + " precomputed embeddings (when = embeddings) or end to end; for a frozen encoder in an end-to-end model use"
                  + " embedding with freeze-encoder-epochs");
        }
        out.put(m, d);
      }
      List<String> missing = leaves.stream().filter(m -> !out.containsKey(m)).toList();
      if (!missing.isEmpty()) {
        throw new FusionSpecException(
            cannot
                + key
                + ".when names no depth for "
                + missing
                + " (input, embedding, or an encoder layer name or index)");
      }
      Map<String, String> ordered = new LinkedHashMap<>();
      leaves.forEach(m -> ordered.put(m, out.get(m)));
      return ordered;
    }
    String d = depth(cannot, key + ".when", when);
    if (d.equals(FusionModelConfig.EMBEDDINGS)) {
      return Map.of();
    }
    leaves.forEach(m -> out.put(m, d));
    return out;
  }

  private static String depth(String cannot, String key, Object value) {
    if (value instanceof Integer || value instanceof Long) {
      return String.valueOf(value);
    }
    if (!(value instanceof String s) || s.isBlank() || !s.trim().matches("[A-Za-z0-9_]+")) {
      throw new FusionSpecException(
          cannot
              + key
              + " = '"
              + value
              + "' is not a depth: embeddings, input, embedding, or an"
              + " encoder layer name or index");
    }
    return s.trim().toLowerCase(Locale.ROOT);
  }

  private static Stage stage(
      String cannot,
      String key,
      String name,
      List<String> what,
      String how,
      Map<String, Object> options) {
    if (what.isEmpty()) {
      throw new FusionSpecException(cannot + key + ".what is empty");
    }
    if (new LinkedHashSet<>(what).size() != what.size()) {
      throw new FusionSpecException(cannot + key + ".what = " + what + " repeats an input");
    }
    if (how == null || how.isBlank()) {
      throw new FusionSpecException(cannot + key + ".how is missing: one of " + opNames());
    }
    FusionOp op;
    try {
      op = FusionOp.fromName(how);
    } catch (IllegalArgumentException e) {
      throw new FusionSpecException(
          cannot
              + key
              + ".how = '"
              + how
              + "' is not a fusion operation (valid: "
              + opNames()
              + ")");
    }
    for (String opt : options.keySet()) {
      if (!op.optionKeys().contains(opt)) {
        throw new FusionSpecException(
            cannot
                + key
                + ".options."
                + opt
                + " is not an option of '"
                + op.configName()
                + "' (valid: "
                + op.optionKeys()
                + ")");
      }
    }
    return new Stage(name, what, op, options);
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new FusionSpecException(message);
    }
  }

  private static String opNames() {
    List<String> names = new ArrayList<>();
    for (FusionOp op : FusionOp.values()) {
      names.add(op.configName());
    }
    return String.join(", ", names);
  }

  /**
   * Unimodal baseline: projection + head on one modality (trained on the subjects that have it).
   */
  public static FusionSpec unimodal(String modality, FusionSpec template) {
    int p =
        template.projection() == null || template.projection() == 0
            ? DEFAULT_PROJECTION
            : template.projection();
    return builder()
        .name("unimodal:" + modality)
        .kind(Kind.UNIMODAL)
        .stages(List.of(new Stage("unimodal", List.of(modality), FusionOp.CONCAT, Map.of())))
        .projection(p)
        .projectionActivation(template.projectionActivation())
        .head(template.head())
        .dropout(template.dropout())
        .l2(template.l2())
        .l1(template.l1())
        .build();
  }

  /**
   * Early-fusion baseline: the embeddings concatenated, zero-filled where absent, with the presence
   * indicators, into one MLP; no per-modality projection. It takes the template's modality dropout,
   * so that it is compared with the fusion models under the same training regime and differs from
   * them only in how it fuses.
   */
  public static FusionSpec early(List<String> modalities, FusionSpec template) {
    return builder()
        .name("early")
        .kind(Kind.EARLY)
        .stages(List.of(new Stage("early", modalities, FusionOp.CONCAT_MASK, Map.of())))
        .projection(0)
        .projectionActivation(template.projectionActivation())
        .head(template.head())
        .dropout(template.dropout())
        .modalityDropout(template.modalityDropout())
        .l2(template.l2())
        .l1(template.l1())
        .build();
  }

  /**
   * Late-fusion baseline: mean of the unimodal predicted probabilities over the modalities present.
   */
  public static FusionSpec late(List<String> modalities) {
    return builder()
        .name("late")
        .kind(Kind.LATE)
        .stages(List.of(new Stage("late", modalities, FusionOp.MEAN, Map.of())))
        .projection(0)
        .projectionActivation("identity")
        .head(List.of())
        .build();
  }

  /** A template for baselines when no fusion model is configured. */
  public static FusionSpec baselineTemplate() {
    return builder()
        .name("template")
        .kind(Kind.FUSION)
        .stages(List.of())
        .projectionActivation("relu")
        .head(List.of(64))
        .build();
  }

  /**
   * Every declared model, then the configured baselines over all modalities of the embeddings:
   * unimodal:&lt;m&gt;, early, late. Baselines share the head and projection of the default model
   * so that they differ only in fusion.
   */
  public static List<FusionSpec> all(FusionConfig config, EmbeddingsSpec embeddings) {
    Map<String, FusionSpec> specs = new LinkedHashMap<>();
    for (Map.Entry<String, FusionModelConfig> e :
        new java.util.TreeMap<>(config.models()).entrySet()) {
      specs.put(e.getKey(), fromConfig(e.getKey(), e.getValue()));
    }
    FusionSpec template =
        config.defaultModel() != null && specs.containsKey(config.defaultModel())
            ? specs.get(config.defaultModel())
            : baselineTemplate();
    if (config.defaultModel() != null
        && !config.models().isEmpty()
        && !specs.containsKey(config.defaultModel())) {
      throw new FusionSpecException(
          "Cannot use fusion.default = '"
              + config.defaultModel()
              + "': not a model under fusion.models "
              + specs.keySet());
    }
    List<String> mods = embeddings.modalityNames();
    for (String b : config.baselines()) {
      switch (b) {
        case "unimodal" -> mods.forEach(m -> specs.put("unimodal:" + m, unimodal(m, template)));
        case "early" -> specs.put("early", early(mods, template));
        case "late" -> specs.put("late", late(mods));
        default ->
            throw new FusionSpecException(
                "Cannot use fusion.baselines entry '" + b + "': expected unimodal, early or late");
      }
    }
    return new ArrayList<>(specs.values());
  }

  /** Leaf modalities in order of first use. */
  public List<String> modalities() {
    return leafModalities(stages);
  }

  /** The inputs of the stages that are not themselves stages, in order of first use. */
  private static List<String> leafModalities(List<Stage> stages) {
    Set<String> stageNames = stages.stream().map(Stage::name).collect(Collectors.toSet());
    Set<String> out = new LinkedHashSet<>();
    for (Stage s : stages) {
      for (String in : s.inputs()) {
        if (!stageNames.contains(in)) {
          out.add(in);
        }
      }
    }
    return new ArrayList<>(out);
  }

  public boolean isHierarchical() {
    return stages.size() > 1;
  }

  /** File-system safe form of the name ("unimodal:labs" -> "unimodal-labs"). */
  public String dirName() {
    return dirName(name);
  }

  /** Directory name of the model called {@code modelName} under the train output directory. */
  public static String dirName(String modelName) {
    return org.cohortfusion.stage.TrainOutputs.dirName(modelName);
  }

  /**
   * The when part of {@link #describe()}: embeddings, or every modality's depth in the end-to-end
   * graph.
   */
  public String describeWhen() {
    if (!endToEnd()) {
      return "embeddings (intermediate)";
    }
    return "end to end ("
        + when.entrySet().stream()
            .map(e -> e.getKey() + " = " + e.getValue())
            .collect(Collectors.joining(", "))
        + (encoderInit.equals("scratch") ? "; encoders from scratch" : "")
        + (freezeEncoderEpochs > 0 ? "; encoders frozen " + freezeEncoderEpochs + " epoch(s)" : "")
        + "; encoder learning rate x"
        + encoderLearningRate
        + ")";
  }

  /**
   * The spec in the review's notation, e.g. "what: clinical+labs | when: embeddings (intermediate)
   * | how many: single | how: attention".
   */
  public String describe() {
    String what = "what: " + String.join("+", modalities());
    return switch (kind) {
      case UNIMODAL ->
          what + " | when: none (unimodal baseline) | how many: none | how: projection + head";
      case EARLY ->
          endToEnd()
              ? what
                  + " | when: early (every modality at its input) | how many: "
                  + howMany()
                  + " | how: "
                  + how()
                  + penalties()
              : what
                  + " | when: early (embeddings concatenated, zero-filled, + presence, one MLP) | how many: single | how: concatenation";
      case LATE ->
          what
              + " | when: late (mean of unimodal probabilities over present modalities) | how many: single | how: decision averaging";
      case FUSION ->
          what
              + " | when: "
              + describeWhen()
              + " | how many: "
              + howMany()
              + " | how: "
              + how()
              + penalties();
    };
  }

  private String howMany() {
    if (!isHierarchical()) {
      return "single";
    }
    return "hierarchical ("
        + stages.size()
        + " stages: "
        + stages.stream()
            .map(
                s ->
                    s.name()
                        + " = "
                        + s.op().configName()
                        + "("
                        + String.join("+", s.inputs())
                        + ")")
            .collect(Collectors.joining("; "))
        + ")";
  }

  /**
   * Each stage's operation with its options, if any (e.g. "attention (normalised = false)"): two
   * models that differ only in an option must not read the same in a report.
   */
  private String how() {
    return stages.stream()
        .map(s -> s.op().configName() + options(s.options()) + " [" + s.op().how().label() + "]")
        .distinct()
        .collect(Collectors.joining(", "));
  }

  private static String options(Map<String, Object> options) {
    return options.isEmpty()
        ? ""
        : options.entrySet().stream()
            .sorted(Map.Entry.comparingByKey())
            .map(e -> e.getKey() + " = " + e.getValue())
            .collect(Collectors.joining(", ", " (", ")"));
  }

  private String penalties() {
    return (l2 > 0 ? " | L2 " + l2 : "")
        + (l1 > 0 ? " | L1 " + l1 : "")
        + (wide != null ? " | wide: linear path beside the head, L2 " + wide.l2() : "");
  }
}
