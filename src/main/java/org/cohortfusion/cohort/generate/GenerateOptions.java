package org.cohortfusion.cohort.generate;

import java.io.Serializable;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Immutable options of {@link SyntheticCohortGenerator}. Start from {@link #defaults()} and derive
 * variants with the {@code withX} methods; every option is validated when the record is built, with
 * messages of the form "Cannot generate cohort: &lt;why&gt; (got &lt;value&gt;)".
 *
 * <p>The label model is {@code logit = intercept + sum_k effects[k] * z_(k+1) + interaction * z3 *
 * z4} over five standard-normal latent factors; see {@link SyntheticCohortGenerator}.
 *
 * @param subjects number of subjects (rows of the subjects table before planted rows), at least 1
 * @param seed seed of every random draw; same options give the same cohort
 * @param partitions Spark partitions to generate with; 0 = automatic (about 100k subjects each)
 * @param omicsLength length L of the omics vector, at least 8 (eight positions carry the signal)
 * @param imageShape image shape {C, H, W}, each at least 1, H and W at least 4
 * @param maxLabVisits most lab visits per subject (1..maxLabVisits, before and after index time)
 * @param missingness missingness per modality; every modality must have an entry
 * @param badRows planted bad rows per (table, kind); 0 = a clean cohort
 * @param intercept b0 of the label logit
 * @param effects a1..a5, the main effect of each latent factor on the logit
 * @param interaction c, the coefficient of z3*z4 (no single modality reveals it)
 * @param format Spark data source to write: "parquet" (default) or "orc"
 */
public record GenerateOptions(
    long subjects,
    long seed,
    int partitions,
    int omicsLength,
    int[] imageShape,
    int maxLabVisits,
    Map<Modality, Missingness> missingness,
    int badRows,
    double intercept,
    double[] effects,
    double interaction,
    String format)
    implements Serializable {

  public GenerateOptions {
    if (subjects < 1) {
      throw invalid("subjects must be at least 1", subjects);
    }
    if (partitions < 0) {
      throw invalid("partitions must be 0 (automatic) or positive", partitions);
    }
    if (omicsLength < 8) {
      throw invalid("omicsLength must be at least 8", omicsLength);
    }
    if (imageShape == null
        || imageShape.length != 3
        || imageShape[0] < 1
        || imageShape[1] < 4
        || imageShape[2] < 4) {
      throw invalid(
          "imageShape must be {C, H, W} with C >= 1 and H, W >= 4", Arrays.toString(imageShape));
    }
    if ((long) imageShape[0] * imageShape[1] * imageShape[2] > 16_777_216L) {
      throw invalid(
          "imageShape is too large (at most 2^24 pixels per image)", Arrays.toString(imageShape));
    }
    if (maxLabVisits < 1 || maxLabVisits > 1000) {
      throw invalid("maxLabVisits must be in 1..1000", maxLabVisits);
    }
    if (missingness == null
        || !missingness.keySet().containsAll(Arrays.asList(Modality.values()))) {
      throw invalid("missingness must have an entry for every modality", missingness);
    }
    if (badRows < 0) {
      throw invalid("badRows must not be negative", badRows);
    }
    if (badRows > 0 && (long) badRows * CohortPlan.SLOTS.size() > subjects) {
      throw invalid(
          "badRows * "
              + CohortPlan.SLOTS.size()
              + " planted kinds must not exceed the number of subjects "
              + subjects,
          badRows);
    }
    if (!Double.isFinite(intercept)) {
      throw invalid("intercept must be finite", intercept);
    }
    if (effects == null
        || effects.length != 5
        || Arrays.stream(effects).anyMatch(e -> !Double.isFinite(e))) {
      throw invalid("effects must be five finite numbers a1..a5", Arrays.toString(effects));
    }
    if (!Double.isFinite(interaction)) {
      throw invalid("interaction must be finite", interaction);
    }
    if (!"parquet".equals(format) && !"orc".equals(format)) {
      throw invalid("format must be parquet or orc", format);
    }
    imageShape = imageShape.clone();
    effects = effects.clone();
    missingness = Map.copyOf(missingness);
  }

  /** Default rates: clinical 0.05, omics 0.3, imaging 0.3, labs 0.25, notes 0.4, all MCAR. */
  public static Map<Modality, Missingness> defaultMissingness() {
    Map<Modality, Missingness> m = new EnumMap<>(Modality.class);
    m.put(Modality.CLINICAL, Missingness.mcar(0.05));
    m.put(Modality.OMICS, Missingness.mcar(0.3));
    m.put(Modality.IMAGING, Missingness.mcar(0.3));
    m.put(Modality.LABS, Missingness.mcar(0.25));
    m.put(Modality.NOTES, Missingness.mcar(0.4));
    return m;
  }

  /**
   * 1000 subjects, seed 42, 256-float omics, 1x16x16 images, up to 12 lab visits, clean, parquet.
   */
  public static GenerateOptions defaults() {
    return new GenerateOptions(
        1000,
        42L,
        0,
        256,
        new int[] {1, 16, 16},
        12,
        defaultMissingness(),
        0,
        0.0,
        new double[] {1.0, 1.0, 1.0, 1.0, 1.0},
        1.0,
        "parquet");
  }

  @Override
  public int[] imageShape() {
    return imageShape.clone();
  }

  @Override
  public double[] effects() {
    return effects.clone();
  }

  /** Pixels per image, C*H*W. */
  public int imageLength() {
    return imageShape[0] * imageShape[1] * imageShape[2];
  }

  /** Missingness of one modality. */
  public Missingness missingness(Modality modality) {
    return missingness.get(modality);
  }

  public GenerateOptions withSubjects(long v) {
    return new GenerateOptions(
        v,
        seed,
        partitions,
        omicsLength,
        imageShape,
        maxLabVisits,
        missingness,
        badRows,
        intercept,
        effects,
        interaction,
        format);
  }

  public GenerateOptions withSeed(long v) {
    return new GenerateOptions(
        subjects,
        v,
        partitions,
        omicsLength,
        imageShape,
        maxLabVisits,
        missingness,
        badRows,
        intercept,
        effects,
        interaction,
        format);
  }

  public GenerateOptions withPartitions(int v) {
    return new GenerateOptions(
        subjects,
        seed,
        v,
        omicsLength,
        imageShape,
        maxLabVisits,
        missingness,
        badRows,
        intercept,
        effects,
        interaction,
        format);
  }

  public GenerateOptions withOmicsLength(int v) {
    return new GenerateOptions(
        subjects,
        seed,
        partitions,
        v,
        imageShape,
        maxLabVisits,
        missingness,
        badRows,
        intercept,
        effects,
        interaction,
        format);
  }

  public GenerateOptions withImageShape(int[] v) {
    return new GenerateOptions(
        subjects,
        seed,
        partitions,
        omicsLength,
        v,
        maxLabVisits,
        missingness,
        badRows,
        intercept,
        effects,
        interaction,
        format);
  }

  public GenerateOptions withMaxLabVisits(int v) {
    return new GenerateOptions(
        subjects,
        seed,
        partitions,
        omicsLength,
        imageShape,
        v,
        missingness,
        badRows,
        intercept,
        effects,
        interaction,
        format);
  }

  public GenerateOptions withMissingness(Map<Modality, Missingness> v) {
    return new GenerateOptions(
        subjects,
        seed,
        partitions,
        omicsLength,
        imageShape,
        maxLabVisits,
        v,
        badRows,
        intercept,
        effects,
        interaction,
        format);
  }

  /** Replaces the missingness of one modality, keeping the others. */
  public GenerateOptions withMissingness(Modality modality, Missingness v) {
    Objects.requireNonNull(modality, "modality");
    Map<Modality, Missingness> m = new EnumMap<>(missingness);
    m.put(modality, v);
    return withMissingness(m);
  }

  public GenerateOptions withBadRows(int v) {
    return new GenerateOptions(
        subjects,
        seed,
        partitions,
        omicsLength,
        imageShape,
        maxLabVisits,
        missingness,
        v,
        intercept,
        effects,
        interaction,
        format);
  }

  public GenerateOptions withIntercept(double v) {
    return new GenerateOptions(
        subjects,
        seed,
        partitions,
        omicsLength,
        imageShape,
        maxLabVisits,
        missingness,
        badRows,
        v,
        effects,
        interaction,
        format);
  }

  public GenerateOptions withEffects(double[] v) {
    return new GenerateOptions(
        subjects,
        seed,
        partitions,
        omicsLength,
        imageShape,
        maxLabVisits,
        missingness,
        badRows,
        intercept,
        v,
        interaction,
        format);
  }

  public GenerateOptions withInteraction(double v) {
    return new GenerateOptions(
        subjects,
        seed,
        partitions,
        omicsLength,
        imageShape,
        maxLabVisits,
        missingness,
        badRows,
        intercept,
        effects,
        v,
        format);
  }

  public GenerateOptions withFormat(String v) {
    return new GenerateOptions(
        subjects,
        seed,
        partitions,
        omicsLength,
        imageShape,
        maxLabVisits,
        missingness,
        badRows,
        intercept,
        effects,
        interaction,
        v);
  }

  // Arrays compare by reference in a record; compare by content so equal options are equal.
  @Override
  public boolean equals(Object o) {
    return o instanceof GenerateOptions g
        && subjects == g.subjects
        && seed == g.seed
        && partitions == g.partitions
        && omicsLength == g.omicsLength
        && Arrays.equals(imageShape, g.imageShape)
        && maxLabVisits == g.maxLabVisits
        && missingness.equals(g.missingness)
        && badRows == g.badRows
        && Double.compare(intercept, g.intercept) == 0
        && Arrays.equals(effects, g.effects)
        && Double.compare(interaction, g.interaction) == 0
        && format.equals(g.format);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        subjects,
        seed,
        partitions,
        omicsLength,
        Arrays.hashCode(imageShape),
        maxLabVisits,
        missingness,
        badRows,
        intercept,
        Arrays.hashCode(effects),
        interaction,
        format);
  }

  @Override
  public String toString() {
    return "GenerateOptions[subjects="
        + subjects
        + ", seed="
        + seed
        + ", partitions="
        + partitions
        + ", omicsLength="
        + omicsLength
        + ", imageShape="
        + Arrays.toString(imageShape)
        + ", maxLabVisits="
        + maxLabVisits
        + ", missingness="
        + missingness
        + ", badRows="
        + badRows
        + ", intercept="
        + intercept
        + ", effects="
        + Arrays.toString(effects)
        + ", interaction="
        + interaction
        + ", format="
        + format
        + "]";
  }

  private static IllegalArgumentException invalid(String why, Object got) {
    return new IllegalArgumentException("Cannot generate cohort: " + why + " (got " + got + ")");
  }
}
