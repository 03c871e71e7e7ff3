package org.cohortfusion.features.pretrain;

import java.util.List;
import java.util.Locale;

/** What pretrain produced: one encoder and unimodal baseline per modality. */
public record PretrainResult(
    String outputDir, String cohortHash, List<ModalityPretrainResult> modalities) {

  public PretrainResult {
    modalities = List.copyOf(modalities);
  }

  /**
   * The unimodal baselines as a fixed-width table: AUROC and accuracy, or C and loss for hazard
   * heads.
   */
  public String table() {
    boolean survival = modalities.stream().anyMatch(ModalityPretrainResult::survival);
    String rank = survival ? "c" : "auc";
    String second = survival ? "loss" : "acc";
    StringBuilder s =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%-16s %-10s %4s %6s %6s %6s %6s %9s %8s %8s %8s %8s%n",
                "modality",
                "kind",
                "dim",
                "train",
                "val",
                "test",
                "epoch",
                "train_" + rank,
                "val_" + rank,
                "val_" + second,
                "test_" + rank,
                "test_" + second));
    for (ModalityPretrainResult m : modalities) {
      s.append(
          String.format(
              Locale.ROOT,
              "%-16s %-10s %4d %6d %6d %6d %3d/%-2d %9.4f %8.4f %8.4f %8.4f %8.4f%s%n",
              m.modality(),
              m.kind(),
              m.embeddingSize(),
              m.trainSubjects(),
              m.validationSubjects(),
              m.testSubjects(),
              m.bestEpoch(),
              m.epochsRun(),
              m.rank("train"),
              m.rank("validation"),
              m.second("validation"),
              m.rank("test"),
              m.second("test"),
              m.memorises() ? "  memorises its train subjects" : ""));
    }
    if (modalities.stream().anyMatch(ModalityPretrainResult::memorises)) {
      s.append(
          String.format(
              Locale.ROOT,
              "An encoder whose train AUROC (C) exceeds its validation AUROC (C) by more than %.2f has"
                  + " memorised its train subjects: their embeddings carry label information the"
                  + " validation and test embeddings do not, and models trained on them over-trust"
                  + " that modality (docs/benchmarks.md, \"The encoders memorise the train split\")."
                  + " A smaller encoder (fewer hidden units, a smaller embedding) memorises less;"
                  + " end-to-end models do not have the problem.%n",
              ModalityPretrainResult.MEMORISATION_GAP));
    }
    return s.toString();
  }
}
