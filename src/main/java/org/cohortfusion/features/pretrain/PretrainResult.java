package org.cohortfusion.features.pretrain;

import java.util.List;
import java.util.Locale;

/** What pretrain produced: one encoder and unimodal baseline per modality. */
public record PretrainResult(
    String outputDir, String cohortHash, List<ModalityPretrainResult> modalities) {

  public PretrainResult {
    modalities = List.copyOf(modalities);
  }

  /** The unimodal baselines as a fixed-width table. */
  public String table() {
    StringBuilder s =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%-16s %-10s %4s %6s %6s %6s %6s %8s %8s %8s %8s%n",
                "modality",
                "kind",
                "dim",
                "train",
                "val",
                "test",
                "epoch",
                "val_auc",
                "val_acc",
                "test_auc",
                "test_acc"));
    for (ModalityPretrainResult m : modalities) {
      s.append(
          String.format(
              Locale.ROOT,
              "%-16s %-10s %4d %6d %6d %6d %3d/%-2d %8.4f %8.4f %8.4f %8.4f%n",
              m.modality(),
              m.kind(),
              m.embeddingSize(),
              m.trainSubjects(),
              m.validationSubjects(),
              m.testSubjects(),
              m.bestEpoch(),
              m.epochsRun(),
              m.validationAuroc(),
              m.validationAccuracy(),
              m.testAuroc(),
              m.testAccuracy()));
    }
    return s.toString();
  }
}
