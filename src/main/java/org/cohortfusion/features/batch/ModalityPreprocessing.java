package org.cohortfusion.features.batch;

import java.io.Serializable;
import java.util.List;
import org.cohortfusion.stage.ModalityKind;

/**
 * The fitted preprocessing of one modality (train-split statistics plus options), applied by {@link
 * FeatureBatches}. Serializable (it ships to Spark tasks) and JSON-bindable (it is stored in the
 * encoder's provenance). Fields that do not apply to the kind are null or empty.
 *
 * @param modality modality (column) name
 * @param kind modality kind
 * @param numericFeatures tabular: numeric struct fields, in struct order
 * @param categoricalFeatures tabular: categorical struct fields, in struct order (after the numeric
 *     ones)
 * @param vocabularies tabular: the train-split vocabulary of each categorical field; one extra
 *     'other/unknown' slot follows each
 * @param mean tabular: per numeric field; vector: per position (after log1p); image and timeseries:
 *     per channel (timeseries: over observed values only)
 * @param std standard deviations matching {@code mean} (1.0 when undefined or zero)
 * @param keptPositions vector: positions kept by the top-k variance filter, ascending; null = all
 * @param log1p vector: log1p applied before standardisation
 * @param shape vector: [length]; image: [C, H, W] or [C, D, H, W]; timeseries: [C, T]
 * @param buckets text: hashed n-gram buckets
 */
public record ModalityPreprocessing(
    String modality,
    ModalityKind kind,
    List<String> numericFeatures,
    List<String> categoricalFeatures,
    List<List<String>> vocabularies,
    double[] mean,
    double[] std,
    int[] keptPositions,
    boolean log1p,
    List<Integer> shape,
    int buckets)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  public ModalityPreprocessing {
    numericFeatures = numericFeatures == null ? List.of() : List.copyOf(numericFeatures);
    categoricalFeatures =
        categoricalFeatures == null ? List.of() : List.copyOf(categoricalFeatures);
    vocabularies =
        vocabularies == null ? List.of() : vocabularies.stream().map(List::copyOf).toList();
    shape = shape == null ? List.of() : List.copyOf(shape);
  }

  /** Features per subject for flat kinds; channels per step for timeseries; pixels for images. */
  public int inputSize() {
    return switch (kind) {
      case TABULAR ->
          2 * numericFeatures.size() + vocabularies.stream().mapToInt(v -> v.size() + 1).sum();
      case VECTOR -> keptPositions != null ? keptPositions.length : shape.get(0);
      case IMAGE -> shape.stream().mapToInt(Integer::intValue).reduce(1, Math::multiplyExact);
      case TIMESERIES -> 2 * channels();
      case TEXT -> buckets;
    };
  }

  /** timeseries: C; image: C. */
  public int channels() {
    return shape.get(0);
  }

  /** timeseries: T. */
  public int steps() {
    return shape.get(1);
  }
}
