package org.cohortfusion.cohort.generate;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The deterministic plan of a synthetic cohort: for a subject index it answers the latent factors,
 * the label, which modalities are present and whether the subject is the target of a planted bad
 * row. Every answer is a pure function of (options, index), so each table's Spark job recomputes it
 * independently and no join or driver-side state is needed.
 */
final class CohortPlan implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Tables in write order; subjects first. */
  static final List<String> TABLES =
      List.of("subjects", "clinical", "omics", "imaging", "labs", "notes");

  /** A (table, kind) pair for which badRows rows are planted. */
  record Slot(String table, PlantedKind kind) implements Serializable {}

  /**
   * Every planted (table, kind), in a fixed order: the order decides which subjects are targets.
   */
  static final List<Slot> SLOTS = buildSlots();

  // Random streams: each (subject, purpose) pair has its own generator so that adding a draw to one
  // table never shifts the values of another table.
  static final long STREAM_LATENT = 1;
  static final long STREAM_LABEL = 2;
  static final long STREAM_SUBJECT = 3;
  static final long STREAM_PRESENCE = 10; // + modality ordinal
  static final long STREAM_PAYLOAD = 20; // + modality ordinal
  static final long STREAM_LAYOUT = 40;

  static final int BAD_LABEL_VALUE = 7;

  /**
   * Number of sites; each subject is at one of site-0..site-(SITES - 1), uniformly and
   * independently of its label and latents (the SITE_RISING / SITE_FALLING missingness relies on
   * that independence).
   */
  static final int SITES = 5;

  final GenerateOptions options;
  private final long stride;
  private final int[] omicsSignalPositions;

  CohortPlan(GenerateOptions options) {
    this.options = options;
    this.stride =
        options.badRows() == 0 ? 0 : options.subjects() / ((long) options.badRows() * SLOTS.size());
    this.omicsSignalPositions = choosePositions(options.seed(), options.omicsLength(), 8);
  }

  private static List<Slot> buildSlots() {
    List<Slot> s = new ArrayList<>();
    PlantedKind[] idKinds = {PlantedKind.NULL_ID, PlantedKind.MALFORMED_ID, PlantedKind.DUPLICATE};
    for (PlantedKind k : idKinds) {
      s.add(new Slot("subjects", k));
    }
    s.add(new Slot("subjects", PlantedKind.BAD_LABEL));
    s.add(new Slot("subjects", PlantedKind.NO_MODALITY));
    for (Modality m : Modality.values()) {
      for (PlantedKind k : idKinds) {
        s.add(new Slot(m.table(), k));
      }
      s.add(new Slot(m.table(), PlantedKind.UNKNOWN_SUBJECT));
      switch (m) {
        case CLINICAL -> s.add(new Slot(m.table(), PlantedKind.NON_FINITE));
        case OMICS -> {
          s.add(new Slot(m.table(), PlantedKind.NON_FINITE));
          s.add(new Slot(m.table(), PlantedKind.WRONG_LENGTH));
        }
        case IMAGING -> {
          s.add(new Slot(m.table(), PlantedKind.NON_FINITE));
          s.add(new Slot(m.table(), PlantedKind.WRONG_LENGTH));
          s.add(new Slot(m.table(), PlantedKind.BAD_SHAPE));
        }
        case LABS -> {
          s.add(new Slot(m.table(), PlantedKind.NON_FINITE));
          s.add(new Slot(m.table(), PlantedKind.NULL_VALUE));
        }
        case NOTES -> s.add(new Slot(m.table(), PlantedKind.NULL_VALUE));
      }
    }
    return List.copyOf(s);
  }

  // ---- randomness ----

  private static long splitmix(long z) {
    z += 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * A well-mixed 64-bit seed for one (seed, subject, stream); neighbouring indices are unrelated.
   */
  static long mix(long seed, long index, long stream) {
    return splitmix(splitmix(seed * 0x9E3779B97F4A7C15L + index) ^ (stream * 0xC2B2AE3D27D4EB4FL));
  }

  static SplittableRandom rng(long seed, long index, long stream) {
    return new SplittableRandom(mix(seed, index, stream));
  }

  static double sigmoid(double x) {
    return 1.0 / (1.0 + Math.exp(-x));
  }

  static double round1(double x) {
    return Math.round(x * 10.0) / 10.0;
  }

  private static int[] choosePositions(long seed, int length, int count) {
    SplittableRandom r = rng(seed, -1L, STREAM_LAYOUT);
    int[] perm = new int[length];
    for (int i = 0; i < length; i++) {
      perm[i] = i;
    }
    for (int i = 0; i < count; i++) { // partial Fisher-Yates: the first count entries are distinct
      int j = i + r.nextInt(length - i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    int[] out = new int[count];
    System.arraycopy(perm, 0, out, 0, count);
    java.util.Arrays.sort(out);
    return out;
  }

  /** Omics positions that carry z2 (depends on the seed only). */
  int[] omicsSignalPositions() {
    return omicsSignalPositions.clone();
  }

  // ---- ground truth ----

  /** The latent factors z1..z5 ~ N(0, 1) of a subject; the same for every table. */
  static double[] latents(long seed, long index) {
    SplittableRandom r = rng(seed, index, STREAM_LATENT);
    double[] z = new double[5];
    for (int k = 0; k < z.length; k++) {
      z[k] = r.nextGaussian();
    }
    return z;
  }

  /** Everything about a subject that is not a modality payload. */
  record Truth(long index, double[] z, double probability, int label, double indexTime, int site) {}

  Truth truth(long index) {
    double[] z = latents(options.seed(), index);
    double[] a = options.effects();
    double logit = options.intercept() + options.interaction() * z[2] * z[3];
    for (int k = 0; k < 5; k++) {
      logit += a[k] * z[k];
    }
    double p = sigmoid(logit);
    int label = rng(options.seed(), index, STREAM_LABEL).nextDouble() < p ? 1 : 0;
    SplittableRandom r = rng(options.seed(), index, STREAM_SUBJECT);
    double indexTime = 365.0 + round1(r.nextDouble() * 365.0);
    int site = r.nextInt(SITES);
    return new Truth(index, z, p, label, indexTime, site);
  }

  static String subjectId(long index) {
    return String.format("S%07d", index + 1);
  }

  static String unknownSubjectId(long index) {
    return String.format("U%07d", index + 1);
  }

  // ---- planted rows ----

  /**
   * The planted slot whose target is this subject, or null. Targets are spread evenly over the
   * index range.
   */
  Slot slotOf(long index) {
    if (stride == 0 || index % stride != stride / 2) {
      return null;
    }
    long position = index / stride;
    if (position >= (long) options.badRows() * SLOTS.size()) {
      return null;
    }
    return SLOTS.get((int) (position / options.badRows()));
  }

  // ---- presence ----

  /**
   * Which modalities the subject has. Planted targets have every modality (so corrupting one row
   * never leaves a subject without modalities), except BAD_LABEL and NO_MODALITY targets, which
   * have none. A subject whose draws remove every modality keeps clinical, so the only NO_MODALITY
   * subjects are the planted ones.
   */
  boolean[] presence(Truth t) {
    boolean[] present = new boolean[Modality.values().length];
    Slot slot = slotOf(t.index());
    if (slot != null) {
      boolean none = slot.kind() == PlantedKind.BAD_LABEL || slot.kind() == PlantedKind.NO_MODALITY;
      java.util.Arrays.fill(present, !none);
      return present;
    }
    boolean any = false;
    for (Modality m : Modality.values()) {
      double u = rng(options.seed(), t.index(), STREAM_PRESENCE + m.ordinal()).nextDouble();
      present[m.ordinal()] =
          u >= options.missingness(m).absentProbability(t.label(), t.z()[m.latent()], t.site());
      any |= present[m.ordinal()];
    }
    if (!any) {
      present[Modality.CLINICAL.ordinal()] = true;
    }
    return present;
  }

  /** Number of lab visits; the first draw of the labs payload stream (see CohortRows.labs). */
  int drawVisitCount(SplittableRandom labsStream) {
    return 1 + labsStream.nextInt(options.maxLabVisits());
  }

  // ---- planned counts ----

  /**
   * Index of the counters in {@link #plannedCounts(long)}: one per table, then positives and
   * labeled.
   */
  static final int POSITIVES = TABLES.size();

  static final int LABELED = TABLES.size() + 1;

  /** Rows this subject contributes to each table (planted rows included), plus its label counts. */
  long[] plannedCounts(long index) {
    long[] c = new long[TABLES.size() + 2];
    Truth t = truth(index);
    boolean[] present = presence(t);
    Slot slot = slotOf(index);
    c[0] = 1;
    for (Modality m : Modality.values()) {
      if (present[m.ordinal()]) {
        c[1 + m.ordinal()] =
            m == Modality.LABS
                ? drawVisitCount(rng(options.seed(), index, STREAM_PAYLOAD + m.ordinal()))
                : 1;
      }
    }
    if (slot != null && extraRow(slot)) {
      c[TABLES.indexOf(slot.table())] += 1;
    }
    boolean badLabel = slot != null && slot.kind() == PlantedKind.BAD_LABEL;
    if (!badLabel) {
      c[POSITIVES] = t.label();
      c[LABELED] = 1;
    }
    return c;
  }

  /** Whether a planted kind adds a row (true) or corrupts the subject's existing row (false). */
  static boolean extraRow(Slot slot) {
    return switch (slot.kind()) {
      case NULL_ID, MALFORMED_ID, DUPLICATE, UNKNOWN_SUBJECT -> true;
      case NON_FINITE, NULL_VALUE -> slot.table().equals("labs");
      case WRONG_LENGTH, BAD_SHAPE, BAD_LABEL, NO_MODALITY -> false;
    };
  }
}
