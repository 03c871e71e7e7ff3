package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.Locale;

/**
 * The unimodal encoder of one modality and how pretrain fits it. Common keys apply to every kind;
 * the kind options to one kind only (setting one on another kind is an error).
 */
public record EncoderConfig(
    @JsonProperty("embedding-size")
        @JsonPropertyDescription(
            "Output size of the encoder: the marginal representation's dimension (default 32).")
        Integer embeddingSize,
    @JsonPropertyDescription(
            "Hidden layer sizes before the embedding layer (default [64]); timeseries lstm: LSTM sizes.")
        List<Integer> hidden,
    @JsonPropertyDescription("Maximum pretraining epochs (default 20).") Integer epochs,
    @JsonProperty("batch-size")
        @JsonPropertyDescription("Minibatch size per Spark worker (default 32).")
        Integer batchSize,
    @JsonProperty("learning-rate") @JsonPropertyDescription("Adam learning rate (default 0.001).")
        Double learningRate,
    @JsonPropertyDescription(
            "Early stopping: epochs without a better validation AUROC before stopping (default 5).")
        Integer patience,
    @JsonProperty("conv-channels")
        @JsonPropertyDescription(
            "image: output channels of each 3x3 convolution block; the list length is the depth (default [8, 16]).")
        List<Integer> convChannels,
    @JsonPropertyDescription(
            "timeseries: lstm (default) or cnn (1D convolution + masked global pooling).")
        Cell cell,
    @JsonPropertyDescription("text: number of hashed unigram+bigram buckets (default 1024).")
        Integer buckets,
    @JsonPropertyDescription(
            "vector: apply log1p to each value before standardisation (default false; values must be > -1).")
        Boolean log1p,
    @JsonProperty("top-k-variance")
        @JsonPropertyDescription(
            "vector: keep only the k positions of highest train-split variance; 0 = keep all (default 0).")
        Integer topKVariance,
    @JsonProperty("weight-decay")
        @JsonPropertyDescription(
            "Decoupled weight decay of every layer's weights (DL4J WeightDecay, scaled by the learning "
                + "rate; default 0: none). Small cohorts with many noisy inputs (omics) overfit in an epoch or two without it.")
        Double weightDecay) {

  /** Recurrent or convolutional time-series encoder. */
  public enum Cell {
    LSTM,
    CNN;

    @JsonCreator
    public static Cell parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("expected lstm or cnn, got '" + value + "'");
      }
    }

    @JsonValue
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public EncoderConfig {
    embeddingSize = embeddingSize == null ? 32 : embeddingSize;
    hidden = hidden == null ? List.of(64) : List.copyOf(hidden);
    epochs = epochs == null ? 20 : epochs;
    batchSize = batchSize == null ? 32 : batchSize;
    learningRate = learningRate == null ? 1e-3 : learningRate;
    patience = patience == null ? 5 : patience;
  }

  public static EncoderConfig defaults() {
    return new EncoderConfig(
        null, null, null, null, null, null, null, null, null, null, null, null);
  }

  public List<Integer> convChannelsOrDefault() {
    return convChannels == null ? List.of(8, 16) : convChannels;
  }

  public Cell cellOrDefault() {
    return cell == null ? Cell.LSTM : cell;
  }

  public int bucketsOrDefault() {
    return buckets == null ? 1024 : buckets;
  }

  public boolean log1pOrDefault() {
    return log1p != null && log1p;
  }

  public double weightDecayOrDefault() {
    return weightDecay == null ? 0 : weightDecay;
  }

  public int topKVarianceOrDefault() {
    return topKVariance == null ? 0 : topKVariance;
  }
}
