package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One fusion model: either single fusion ({@code what} + {@code how}) or hierarchical fusion
 * ({@code stages}), in the review's what / when / how-many / how notation (arXiv 2408.02686).
 */
public record FusionModelConfig(
    @JsonPropertyDescription(
            "WHAT: the modalities fused (single fusion); names of embeddings columns.")
        List<String> what,
    @JsonPropertyDescription(
            "WHEN: the depth at which each modality joins the fusion. embeddings (default): the frozen"
                + " embeddings of the extract stage. End to end, trained with the fused loss on the aligned cohort's preprocessed"
                + " features: input (the preprocessed features join the fusion directly), embedding (the whole encoder through its"
                + " embedding layer is in the graph and fine-tuned), or an encoder layer name (dense0, conv1, pool0, lstm0, ...;"
                + " printed by the error for a bad name) or index: the encoder up to that layer. One depth for every modality"
                + " (when = embedding) or one per modality (when = { imaging = conv1, labs = embedding, clinical = input }).")
        Object when,
    @JsonPropertyDescription(
            "HOW: a fusion operation: concat, concat_mask, sum, product, mean, attention, gmu, tensor, lowrank_tensor, cross_attention.")
        String how,
    @JsonPropertyDescription(
            "Options of the fusion operation, e.g. { outSize = 32 } for gmu, { rank = 4 } for lowrank_tensor.")
        Map<String, Object> options,
    @JsonPropertyDescription(
            "HOW MANY (hierarchical): ordered stages { name, what, how, options }; a stage's name can be an input of a later stage; the last stage feeds the head.")
        List<FusionStageConfig> stages,
    @JsonPropertyDescription(
            "Size of the trainable per-modality projection: unset = 32 only where the operation needs equal sizes; a positive size = always; 0 = never.")
        Integer projection,
    @JsonProperty("projection-activation")
        @JsonPropertyDescription("Activation of the projections (default relu).")
        String projectionActivation,
    @JsonPropertyDescription(
            "Hidden layer sizes of the multimodal head (default [64]); an output softmax layer follows.")
        List<Integer> head,
    @JsonPropertyDescription("Dropout rate in the head (default 0).") Double dropout,
    @JsonProperty("modality-dropout")
        @JsonPropertyDescription(
            "Probability of hiding each present modality of a training example per epoch (ModDrop; default 0; never at evaluation).")
        Double modalityDropout,
    @JsonProperty("freeze-encoder-epochs")
        @JsonPropertyDescription(
            "End-to-end models (when is not embeddings): the encoder layers in the graph are frozen (learning"
                + " rate 0) for this many first epochs while the fusion and head train, then fine-tuned (default 0).")
        Integer freezeEncoderEpochs,
    @JsonProperty("encoder-learning-rate")
        @JsonPropertyDescription(
            "End-to-end models: multiplier of train.learning-rate (and its schedule) for the encoder layers in"
                + " the graph, in (0, 1] (default 0.1: fine-tune the pretrained encoders gently).")
        Double encoderLearningRate,
    @JsonProperty("encoder-init")
        @JsonPropertyDescription(
            "End-to-end models: pretrained (default: the encoder layers start from the pretrain stage's"
                + " encoder) or scratch (fresh initialisation of the same architecture; the preprocessing is still pretrain's).")
        String encoderInit,
    @JsonPropertyDescription(
            "L2 penalty coefficient on the weights the fused loss trains: the projections, the fusion"
                + " operation's own weights, the head and the output layer (not biases, not the encoder layers of an end-to-end"
                + " model). Default 0. The fusion's counterpart of the classical `linear` baseline's regParam: with a few thousand"
                + " subjects and hundreds of features an unpenalised fusion overfits within a few epochs; choose it on the"
                + " validation split (docs/benchmarks.md).")
        Double l2,
    @JsonPropertyDescription(
            "L1 penalty coefficient on the same weights as l2 (default 0): sparse weights, for fusions"
                + " over many features of which few carry signal (with l2: an elastic net, as the classical `linear` baseline).")
        Double l1,
    @JsonPropertyDescription(
            "Adds a wide path (Wide & Deep, Cheng et al. 2016, arXiv 1606.07792): a linear map of every"
                + " modality as it joins the fusion (the preprocessed features for when = input, else the embedding or encoder"
                + " layer output) and of the presence indicators, fed to the output layer beside the fused head. The fusion then"
                + " only has to learn what a linear model of its inputs misses, such as an interaction between modalities."
                + " Default false.")
        Boolean wide,
    @JsonProperty("wide-l2")
        @JsonPropertyDescription(
            "L2 penalty coefficient of the wide path's weights (default: l2). A linear map of hundreds of"
                + " features wants a far stronger penalty than the fused head (docs/benchmarks.md); choose it on the validation split.")
        Double wideL2) {

  /** The default {@code when}: frozen precomputed embeddings. */
  public static final String EMBEDDINGS = "embeddings";

  public FusionModelConfig {
    what = what == null ? List.of() : List.copyOf(what);
    when = when == null ? EMBEDDINGS : when instanceof Map<?, ?> m ? new LinkedHashMap<>(m) : when;
    options = options == null ? Map.of() : Map.copyOf(options);
    stages = stages == null ? List.of() : List.copyOf(stages);
    projectionActivation = projectionActivation == null ? "relu" : projectionActivation;
    head = head == null ? List.of(64) : List.copyOf(head);
    dropout = dropout == null ? 0.0 : dropout;
    modalityDropout = modalityDropout == null ? 0.0 : modalityDropout;
    freezeEncoderEpochs = freezeEncoderEpochs == null ? 0 : freezeEncoderEpochs;
    encoderLearningRate = encoderLearningRate == null ? 0.1 : encoderLearningRate;
    encoderInit = encoderInit == null ? "pretrained" : encoderInit;
    l2 = l2 == null ? 0.0 : l2;
    l1 = l1 == null ? 0.0 : l1;
    wide = wide != null && wide;
    wideL2 = wideL2 == null ? l2 : wideL2;
  }

  /**
   * A builder for code that constructs a model config (tests, programmatic studies): seventeen
   * positional components, most of them null, are hard to read and easy to misorder. Components
   * left unset stay null, so the canonical constructor's defaults apply as they do for a config
   * file that omits them.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Sets the components of a {@link FusionModelConfig} by name; see {@link #builder()}. */
  public static final class Builder {
    private List<String> what;
    private Object when;
    private String how;
    private Map<String, Object> options;
    private List<FusionStageConfig> stages;
    private Integer projection;
    private String projectionActivation;
    private List<Integer> head;
    private Double dropout;
    private Double modalityDropout;
    private Integer freezeEncoderEpochs;
    private Double encoderLearningRate;
    private String encoderInit;
    private Double l2;
    private Double l1;
    private Boolean wide;
    private Double wideL2;

    private Builder() {}

    public Builder what(List<String> value) {
      what = value;
      return this;
    }

    public Builder when(Object value) {
      when = value;
      return this;
    }

    public Builder how(String value) {
      how = value;
      return this;
    }

    public Builder options(Map<String, Object> value) {
      options = value;
      return this;
    }

    public Builder stages(List<FusionStageConfig> value) {
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

    public Builder dropout(Double value) {
      dropout = value;
      return this;
    }

    public Builder modalityDropout(Double value) {
      modalityDropout = value;
      return this;
    }

    public Builder freezeEncoderEpochs(Integer value) {
      freezeEncoderEpochs = value;
      return this;
    }

    public Builder encoderLearningRate(Double value) {
      encoderLearningRate = value;
      return this;
    }

    public Builder encoderInit(String value) {
      encoderInit = value;
      return this;
    }

    public Builder l2(Double value) {
      l2 = value;
      return this;
    }

    public Builder l1(Double value) {
      l1 = value;
      return this;
    }

    public Builder wide(Boolean value) {
      wide = value;
      return this;
    }

    public Builder wideL2(Double value) {
      wideL2 = value;
      return this;
    }

    public FusionModelConfig build() {
      return new FusionModelConfig(
          what,
          when,
          how,
          options,
          stages,
          projection,
          projectionActivation,
          head,
          dropout,
          modalityDropout,
          freezeEncoderEpochs,
          encoderLearningRate,
          encoderInit,
          l2,
          l1,
          wide,
          wideL2);
    }
  }
}
