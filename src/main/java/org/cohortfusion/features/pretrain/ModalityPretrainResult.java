package org.cohortfusion.features.pretrain;

/**
 * The unimodal baseline of one modality: its pretrained encoder and the metrics of the best epoch
 * (selected on validation AUROC; binary: ROC AUC of the positive class, multiclass: macro
 * one-vs-rest AUC). NaN when a split has no labelled subject with the modality or one class only.
 * {@code trainAuroc} is the best epoch's AUROC on its own train subjects: far above the validation
 * AUROC, it says the encoder has memorised them ({@link #memorises}).
 */
public record ModalityPretrainResult(
    String modality,
    String kind,
    int embeddingSize,
    long trainSubjects,
    long validationSubjects,
    long testSubjects,
    int epochsRun,
    int bestEpoch,
    double trainAuroc,
    double validationAuroc,
    double validationAccuracy,
    double testAuroc,
    double testAccuracy,
    String encoderDir,
    String encoderSha256,
    double seconds) {
  /**
   * How far the train AUROC may exceed the validation AUROC before the encoder counts as having
   * memorised its train subjects: about three standard errors of a validation AUROC of 300
   * subjects, so sampling noise alone rarely crosses it.
   */
  public static final double MEMORISATION_GAP = 0.1;

  /**
   * Whether the encoder separates its own train subjects much better than validation subjects. Its
   * train-split embeddings then carry label information the validation and test embeddings do not,
   * and every model trained on them (fusion, unimodal heads, early) learns to over-trust them.
   */
  public boolean memorises() {
    return trainAuroc - validationAuroc > MEMORISATION_GAP;
  }
}
