package org.cohortfusion.features.pretrain;

/**
 * The unimodal baseline of one modality: its pretrained encoder and the metrics of the best epoch
 * (selected on validation AUROC; binary: ROC AUC of the positive class, multiclass: macro
 * one-vs-rest AUC). NaN when a split has no labelled subject with the modality or one class only.
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
    double validationAuroc,
    double validationAccuracy,
    double testAuroc,
    double testAccuracy,
    String encoderDir,
    String encoderSha256,
    double seconds) {}
