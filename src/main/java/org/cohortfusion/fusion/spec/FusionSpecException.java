package org.cohortfusion.fusion.spec;

/**
 * A fusion spec that cannot be built or compiled; the message names the config key and the value.
 */
public class FusionSpecException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public FusionSpecException(String message) {
    super(message);
  }
}
