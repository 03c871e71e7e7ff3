package org.cohortfusion.stage;

/**
 * The pretrain stage's output directory, the contract between pretrain and the stages that load its
 * encoders (extract, train's end-to-end models, study): one directory per modality holding the
 * published encoder in {@code <modality>/encoder} and its training's checkpoints and {@link
 * TrainState} in {@code <modality>/checkpoints}.
 */
public final class PretrainOutputs {
  /** Directory name of a modality's published encoder inside the modality's directory. */
  public static final String ENCODER = "encoder";

  /** Directory name of a modality's checkpoints inside the modality's directory. */
  public static final String CHECKPOINTS = "checkpoints";

  private PretrainOutputs() {}

  /** The checkpoints of {@code modality}'s encoder under pretrain output directory {@code dir}. */
  public static String checkpoints(String dir, String modality) {
    return dir + "/" + modality + "/" + CHECKPOINTS;
  }

  /** The published encoder of {@code modality} under pretrain output directory {@code dir}. */
  public static String encoder(String dir, String modality) {
    return dir + "/" + modality + "/" + ENCODER;
  }
}
