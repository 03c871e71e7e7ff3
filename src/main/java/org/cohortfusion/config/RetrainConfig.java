package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The {@code retrain} section: which model a scheduled retrain trains, and the gate its challenger
 * must pass.
 */
public record RetrainConfig(
    @JsonPropertyDescription(
            "Fusion model retrained and registered under its own name (default: fusion.default).")
        String model,
    @JsonProperty("refit-encoders")
        @JsonPropertyDescription(
            "Pretrain new encoders on the snapshot (true), or extract with the champion's encoders so "
                + "unchanged subjects reuse the embedding cache and both models see the same embeddings (false, default). "
                + "Without a champion, encoders are always pretrained.")
        Boolean refitEncoders,
    @JsonProperty("warm-start")
        @JsonPropertyDescription(
            "Start the challenger from the champion's weights instead of a fresh initialisation (needs "
                + "the champion's encoders: refit-encoders = false; default false).")
        Boolean warmStart,
    @JsonProperty("lock-ttl-minutes")
        @JsonPropertyDescription(
            "How long the registry lock of a retrain is held before another run may take it over "
                + "(its run died; default 360).")
        Integer lockTtlMinutes,
    @JsonPropertyDescription("The champion/challenger gate.") GateConfig gate) {

  public RetrainConfig {
    refitEncoders = refitEncoders != null && refitEncoders;
    warmStart = warmStart != null && warmStart;
    if (warmStart && refitEncoders) {
      throw new ConfigException(
          "Bad value for config key 'retrain.warm-start': the champion's weights fit the "
              + "champion's encoders, and retrain.refit-encoders = true trains new ones");
    }
    lockTtlMinutes = lockTtlMinutes == null ? 360 : lockTtlMinutes;
    gate = gate == null ? GateConfig.defaults() : gate;
    if (lockTtlMinutes < 1) {
      throw new ConfigException(
          "Bad value for config key 'retrain.lock-ttl-minutes': " + lockTtlMinutes + " is below 1");
    }
  }

  public static RetrainConfig defaults() {
    return new RetrainConfig(null, null, null, null, null);
  }

  /**
   * The gate: every criterion is reported with both sides' numbers; the challenger is promoted only
   * if all pass.
   */
  public record GateConfig(
      @JsonProperty("auroc-margin")
          @JsonPropertyDescription(
              "Non-inferiority margin of test AUROC (survival outcomes: Harrell's C): the lower bound of the confidence "
                  + "interval of challenger minus champion (paired DeLong; survival: paired bootstrap; same subjects) must be above "
                  + "-margin (default 0.05, a common non-inferiority margin for diagnostic accuracy).")
          Double aurocMargin,
      @JsonPropertyDescription("Two-sided confidence level of that interval (default 0.95).")
          Double confidence,
      @JsonProperty("worst-pattern-margin")
          @JsonPropertyDescription(
              "The challenger's worst missingness-pattern AUROC or C (patterns of at least "
                  + "evaluate.min-pattern-size test subjects) may trail the champion's by at most this (default 0.05).")
          Double worstPatternMargin,
      @JsonProperty("robustness-margin")
          @JsonPropertyDescription(
              "Mean AUROC (survival: C) over the MCAR removal rates 0-0.9 (the normalised area under the "
                  + "robustness curve) may trail the champion's by at most this (default 0.02).")
          Double robustnessMargin,
      @JsonProperty("max-ece")
          @JsonPropertyDescription(
              "Largest expected calibration error of the challenger on the test split (default 0.10; class "
                  + "outcomes).")
          Double maxEce,
      @JsonProperty("min-test-subjects")
          @JsonPropertyDescription(
              "Fewest labeled test subjects a decision may rest on (default 100).")
          Integer minTestSubjects,
      @JsonProperty("min-test-positives")
          @JsonPropertyDescription(
              "Fewest test subjects of each class a decision may rest on (survival outcomes: fewest events; "
                  + "default 20).")
          Integer minTestPositives,
      @JsonProperty("max-drift")
          @JsonPropertyDescription(
              "Refuse promotion when the population stability index of the missingness patterns or "
                  + "of the label, champion's training cohort against the new snapshot, exceeds this (default: not checked; "
                  + "0.25 is the usual 'major shift').")
          Double maxDrift,
      @JsonProperty("ibs-margin")
          @JsonPropertyDescription(
              "Survival outcomes: the challenger's integrated Brier score on the test split may exceed the "
                  + "champion's (without a champion: the best unimodal model's) by at most this (default 0.02).")
          Double ibsMargin) {

    public GateConfig {
      aurocMargin = aurocMargin == null ? 0.05 : aurocMargin;
      confidence = confidence == null ? 0.95 : confidence;
      worstPatternMargin = worstPatternMargin == null ? 0.05 : worstPatternMargin;
      robustnessMargin = robustnessMargin == null ? 0.02 : robustnessMargin;
      maxEce = maxEce == null ? 0.10 : maxEce;
      ibsMargin = ibsMargin == null ? 0.02 : ibsMargin;
      minTestSubjects = minTestSubjects == null ? 100 : minTestSubjects;
      minTestPositives = minTestPositives == null ? 20 : minTestPositives;
      if (!(confidence > 0.5 && confidence < 1)) {
        throw new ConfigException(
            "Bad value for config key 'retrain.gate.confidence': "
                + confidence
                + " is not in (0.5, 1)");
      }
      for (double margin :
          new double[] {aurocMargin, worstPatternMargin, robustnessMargin, maxEce, ibsMargin}) {
        if (!(margin >= 0 && margin <= 1)) {
          throw new ConfigException(
              "Bad value for config key 'retrain.gate': margin " + margin + " is not in [0, 1]");
        }
      }
    }

    public static GateConfig defaults() {
      return new GateConfig(null, null, null, null, null, null, null, null, null);
    }
  }
}
