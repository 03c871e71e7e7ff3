package org.cohortfusion.features.pretrain;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The unimodal baseline of one modality: its pretrained encoder and the metrics of the best epoch.
 * Class labels: selected on validation AUROC (binary: ROC AUC of the positive class, multiclass:
 * macro one-vs-rest AUC), with accuracy; the C fields are null. A survival outcome ({@code outcome
 * = survival}): selected on validation C of the hazard head at the resolution of the intervals,
 * with the mean negative log-likelihood as loss; the AUROC and accuracy fields are null. NaN when a
 * split has no labelled subject with the modality, one class only or no comparable pair. {@code
 * trainAuroc} ({@code trainC}) is the best epoch's AUROC (C) on its own train subjects: far above
 * the validation value, it says the encoder has memorised them ({@link #memorises}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModalityPretrainResult(
    String modality,
    String kind,
    String outcome,
    int embeddingSize,
    long trainSubjects,
    long validationSubjects,
    long testSubjects,
    int epochsRun,
    int bestEpoch,
    Double trainAuroc,
    Double validationAuroc,
    Double validationAccuracy,
    Double testAuroc,
    Double testAccuracy,
    Double trainC,
    Double validationC,
    Double validationLoss,
    Double testC,
    Double testLoss,
    String encoderDir,
    String encoderSha256,
    double seconds) {
  /**
   * How far the train AUROC (or C) may exceed the validation AUROC (C) before the encoder counts as
   * having memorised its train subjects: about three standard errors of a validation AUROC of 300
   * subjects, so sampling noise alone rarely crosses it.
   */
  public static final double MEMORISATION_GAP = 0.1;

  /**
   * A result from the [rank, second] metrics of the three splits: AUROC and accuracy, or for {@code
   * survival} C and loss.
   *
   * @param subjects train, validation and test subjects
   */
  static ModalityPretrainResult of(
      String modality,
      String kind,
      boolean survival,
      int embeddingSize,
      long[] subjects,
      int epochsRun,
      int bestEpoch,
      double[] train,
      double[] validation,
      double[] test,
      String encoderDir,
      String encoderSha256,
      double seconds) {
    return new ModalityPretrainResult(
        modality,
        kind,
        survival ? "survival" : "classes",
        embeddingSize,
        subjects[0],
        subjects[1],
        subjects[2],
        epochsRun,
        bestEpoch,
        survival ? null : train[0],
        survival ? null : validation[0],
        survival ? null : validation[1],
        survival ? null : test[0],
        survival ? null : test[1],
        survival ? train[0] : null,
        survival ? validation[0] : null,
        survival ? validation[1] : null,
        survival ? test[0] : null,
        survival ? test[1] : null,
        encoderDir,
        encoderSha256,
        seconds);
  }

  /** Whether the head is a discrete-time hazard head (C and loss) rather than a softmax. */
  public boolean survival() {
    return "survival".equals(outcome);
  }

  /** What early stopping ranked on a split: C for a hazard head, else AUROC. */
  double rank(String split) {
    Double v =
        switch (split) {
          case "train" -> survival() ? trainC : trainAuroc;
          case "validation" -> survival() ? validationC : validationAuroc;
          default -> survival() ? testC : testAuroc;
        };
    return v == null ? Double.NaN : v;
  }

  /** The second metric of a split: loss for a hazard head, else accuracy. */
  double second(String split) {
    Double v =
        "validation".equals(split)
            ? (survival() ? validationLoss : validationAccuracy)
            : (survival() ? testLoss : testAccuracy);
    return v == null ? Double.NaN : v;
  }

  /**
   * Whether the encoder separates its own train subjects much better than validation subjects. Its
   * train-split embeddings then carry label information the validation and test embeddings do not,
   * and every model trained on them (fusion, unimodal heads, early) learns to over-trust them.
   */
  public boolean memorises() {
    return rank("train") - rank("validation") > MEMORISATION_GAP;
  }
}
