package org.cohortfusion.cohort.generate;

/**
 * The five modality tables of a synthetic cohort, each tied to the one latent factor it carries.
 *
 * <p>The latent index says which of z1..z5 the modality reveals; MNAR_FEATURE missingness uses the
 * same latent, so a modality goes missing more often exactly where its own signal is low.
 */
public enum Modality {
  CLINICAL("clinical", "tabular", 0),
  OMICS("omics", "vector", 1),
  IMAGING("imaging", "image", 2),
  LABS("labs", "timeseries", 3),
  NOTES("notes", "text", 4);

  private final String table;
  private final String kind;
  private final int latent;

  Modality(String table, String kind, int latent) {
    this.table = table;
    this.kind = kind;
    this.latent = latent;
  }

  /** Directory name of the table under the cohort directory. */
  public String table() {
    return table;
  }

  /** Data-contract kind (the name of the file in data-schemas/ without .json). */
  public String kind() {
    return kind;
  }

  /** Zero-based index of the latent factor (z1 = 0) that this modality carries. */
  public int latent() {
    return latent;
  }
}
