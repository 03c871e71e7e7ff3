package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;
import java.util.Map;

/**
 * One fusion model: either single fusion ({@code what} + {@code how}) or hierarchical fusion ({@code stages}), in
 * the review's what / when / how-many / how notation (arXiv 2408.02686).
 */
public record FusionModelConfig(
    @JsonPropertyDescription("WHAT: the modalities fused (single fusion); names of embeddings columns.")
        List<String> what,
    @JsonPropertyDescription("WHEN: embeddings (default; intermediate fusion of learned marginal representations) or raw (not supported yet).")
        String when,
    @JsonPropertyDescription("HOW: a fusion operation: concat, concat_mask, sum, product, mean, attention, gmu, tensor, lowrank_tensor, cross_attention.")
        String how,
    @JsonPropertyDescription("Options of the fusion operation, e.g. { outSize = 32 } for gmu, { rank = 4 } for lowrank_tensor.")
        Map<String, Object> options,
    @JsonPropertyDescription("HOW MANY (hierarchical): ordered stages { name, what, how, options }; a stage's name can be an input of a later stage; the last stage feeds the head.")
        List<FusionStageConfig> stages,
    @JsonPropertyDescription("Size of the trainable per-modality projection: unset = 32 only where the operation needs equal sizes; a positive size = always; 0 = never.")
        Integer projection,
    @JsonProperty("projection-activation")
    @JsonPropertyDescription("Activation of the projections (default relu).")
        String projectionActivation,
    @JsonPropertyDescription("Hidden layer sizes of the multimodal head (default [64]); an output softmax layer follows.")
        List<Integer> head,
    @JsonPropertyDescription("Dropout rate in the head (default 0).")
        Double dropout,
    @JsonProperty("modality-dropout")
    @JsonPropertyDescription("Probability of hiding each present modality of a training example per epoch (ModDrop; default 0; never at evaluation).")
        Double modalityDropout) {

  public FusionModelConfig {
    what = what == null ? List.of() : List.copyOf(what);
    when = when == null ? "embeddings" : when;
    options = options == null ? Map.of() : Map.copyOf(options);
    stages = stages == null ? List.of() : List.copyOf(stages);
    projectionActivation = projectionActivation == null ? "relu" : projectionActivation;
    head = head == null ? List.of(64) : List.copyOf(head);
    dropout = dropout == null ? 0.0 : dropout;
    modalityDropout = modalityDropout == null ? 0.0 : modalityDropout;
  }
}
