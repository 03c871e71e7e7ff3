package org.cohortfusion.registry;

/** Input the user must fix: an unknown model, version or alias, a lock held by another run. */
public final class RegistryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RegistryException(String message) {
    super(message);
  }
}
