package org.cohortfusion.features.extract;

import java.util.List;
import java.util.Locale;
import org.cohortfusion.stage.EmbeddingsSpec;

/** What extract wrote: the embeddings directory and, per modality, cache reuse. */
public record ExtractResult(
    String outputDir, long subjects, List<EmbeddingsSpec.Modality> modalities, double seconds) {

  public ExtractResult {
    modalities = List.copyOf(modalities);
  }

  public EmbeddingsSpec.Modality modality(String name) {
    return modalities.stream()
        .filter(m -> m.name().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "Cannot find modality '" + name + "' in the extract result"));
  }

  /** Per-modality counts as a fixed-width table. */
  public String table() {
    StringBuilder s =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%-16s %-10s %4s %8s %8s %8s  %s%n",
                "modality",
                "kind",
                "dim",
                "present",
                "reused",
                "encoded",
                "encoder sha256"));
    for (EmbeddingsSpec.Modality m : modalities) {
      s.append(
          String.format(
              Locale.ROOT,
              "%-16s %-10s %4d %8d %8d %8d  %s%n",
              m.name(),
              m.kind(),
              m.dim(),
              m.present(),
              m.reused(),
              m.encoded(),
              m.encoderSha256().substring(0, 12)));
    }
    return s.toString();
  }
}
