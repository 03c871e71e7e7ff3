package org.cohortfusion.stage;

import java.util.List;

/**
 * What the aligned cohort holds for one modality: enough for later stages to size their inputs
 * without reading data. Fields that do not apply to the kind are empty or zero.
 *
 * @param name column name in the aligned cohort (and suffix of its has_ column)
 * @param kind modality kind
 * @param numericFeatures tabular: numeric feature columns, in struct order
 * @param categoricalFeatures tabular: categorical feature columns, in struct order
 * @param length vector: vector length; image: pixel count; timeseries: channels x steps
 * @param shape image: [C, H, W] or [C, D, H, W]
 * @param channels timeseries: channel names in tensor order
 * @param steps timeseries: T
 */
public record ModalitySpec(
    String name,
    ModalityKind kind,
    List<String> numericFeatures,
    List<String> categoricalFeatures,
    int length,
    List<Integer> shape,
    List<String> channels,
    int steps) {

  public ModalitySpec {
    numericFeatures = numericFeatures == null ? List.of() : List.copyOf(numericFeatures);
    categoricalFeatures =
        categoricalFeatures == null ? List.of() : List.copyOf(categoricalFeatures);
    shape = shape == null ? List.of() : List.copyOf(shape);
    channels = channels == null ? List.of() : List.copyOf(channels);
  }

  /** Column of the presence mask. */
  public String presenceColumn() {
    return Columns.presence(name);
  }
}
