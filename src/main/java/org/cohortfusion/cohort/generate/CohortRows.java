package org.cohortfusion.cohort.generate;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Builds the rows of each table for one subject, following a {@link CohortPlan}. How each modality
 * carries its latent factor:
 *
 * <ul>
 *   <li>clinical: age, bmi, sbp, egfr and smoker depend noisily on z1; ldl is pure noise;
 *       site_score is a per-site offset (a batch effect without signal);
 *   <li>omics: eight seed-chosen positions hold +-0.8 z2 plus noise, the rest is N(0, 1);
 *   <li>imaging: a Gaussian blob at a random position whose amplitude is 1 + 0.6 z3, over noise;
 *   <li>labs: pre-index visits trend towards index time with a slope set by z4 (alb down, crp up);
 *   <li>notes: the share of "risk" versus "reassuring" keywords rises with z5.
 * </ul>
 *
 * <p><b>Leak on purpose:</b> lab visits AFTER the subject's index_time are generated from the drawn
 * label itself (alb about 2.8 and crp about 80 for positives, normal values for negatives, never
 * missing). A pipeline that uses observations after index time therefore looks suspiciously good,
 * far above the Bayes-optimal AUROC of true_probability; ingest must drop those rows.
 */
final class CohortRows implements Serializable {
  private static final long serialVersionUID = 1L;

  static final StructType SUBJECTS =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("subject_id", DataTypes.StringType, true),
            DataTypes.createStructField("label", DataTypes.IntegerType, true),
            DataTypes.createStructField("index_time", DataTypes.DoubleType, true),
            DataTypes.createStructField("group", DataTypes.StringType, true),
            DataTypes.createStructField("true_probability", DataTypes.DoubleType, true),
            DataTypes.createStructField("observable_probability", DataTypes.DoubleType, true)
          });

  static final StructType CLINICAL =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("subject_id", DataTypes.StringType, true),
            DataTypes.createStructField("age", DataTypes.DoubleType, true),
            DataTypes.createStructField("sex", DataTypes.StringType, true),
            DataTypes.createStructField("bmi", DataTypes.DoubleType, true),
            DataTypes.createStructField("sbp", DataTypes.DoubleType, true),
            DataTypes.createStructField("ldl", DataTypes.DoubleType, true),
            DataTypes.createStructField("egfr", DataTypes.DoubleType, true),
            DataTypes.createStructField("site_score", DataTypes.DoubleType, true),
            DataTypes.createStructField("smoker", DataTypes.StringType, true)
          });

  static final StructType OMICS =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("subject_id", DataTypes.StringType, true),
            DataTypes.createStructField(
                "values", DataTypes.createArrayType(DataTypes.FloatType, false), true)
          });

  static final StructType IMAGING =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("subject_id", DataTypes.StringType, true),
            DataTypes.createStructField(
                "pixels", DataTypes.createArrayType(DataTypes.FloatType, false), true),
            DataTypes.createStructField(
                "shape", DataTypes.createArrayType(DataTypes.IntegerType, false), true)
          });

  static final StructType LABS =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("subject_id", DataTypes.StringType, true),
            DataTypes.createStructField("time", DataTypes.DoubleType, true),
            DataTypes.createStructField("alb", DataTypes.DoubleType, true),
            DataTypes.createStructField("crp", DataTypes.DoubleType, true),
            DataTypes.createStructField("hb", DataTypes.DoubleType, true)
          });

  static final StructType NOTES =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("subject_id", DataTypes.StringType, true),
            DataTypes.createStructField("text", DataTypes.StringType, true)
          });

  private static final String[] RISK_WORDS = {
    "fatigue", "dyspnea", "edema", "weight-loss", "fever", "worsening"
  };
  private static final String[] REASSURING_WORDS = {
    "stable", "unremarkable", "improving", "well", "normal"
  };
  private static final String[] NEUTRAL_WORDS = {
    "patient",
    "seen",
    "today",
    "reports",
    "history",
    "plan",
    "follow-up",
    "exam",
    "medication",
    "review",
    "discussed",
    "clinic",
    "noted",
    "continue",
    "labs"
  };
  private static final double[] SITE_OFFSET = {-1.0, -0.3, 0.0, 0.4, 1.2};

  private final CohortPlan plan;
  private final GenerateOptions o;
  private final int[] omicsSignal;

  CohortRows(CohortPlan plan) {
    this.plan = plan;
    this.o = plan.options;
    this.omicsSignal = plan.omicsSignalPositions();
  }

  static StructType schema(String table) {
    return switch (table) {
      case "subjects" -> SUBJECTS;
      case "clinical" -> CLINICAL;
      case "omics" -> OMICS;
      case "imaging" -> IMAGING;
      case "labs" -> LABS;
      case "notes" -> NOTES;
      default ->
          throw new IllegalArgumentException(
              "Cannot generate cohort: unknown table (got " + table + ")");
    };
  }

  /** All rows (valid and planted) that subject {@code index} contributes to {@code table}. */
  List<Row> rows(String table, long index) {
    CohortPlan.Truth t = plan.truth(index);
    CohortPlan.Slot slot = plan.slotOf(index);
    List<Object[]> out = new ArrayList<>(2);
    if (table.equals("subjects")) {
      out.add(
          new Object[] {
            CohortPlan.subjectId(index),
            t.label(),
            t.indexTime(),
            "site-" + t.site(),
            t.probability(),
            observableProbability(t)
          });
    } else {
      Modality m = modality(table);
      if (plan.presence(t)[m.ordinal()]) {
        SplittableRandom r =
            CohortPlan.rng(o.seed(), index, CohortPlan.STREAM_PAYLOAD + m.ordinal());
        switch (m) {
          case CLINICAL -> out.add(clinical(t, r));
          case OMICS -> out.add(omics(t, r));
          case IMAGING -> out.add(imaging(t, r));
          case LABS -> labs(t, r, out);
          case NOTES -> out.add(notes(t, r));
        }
      }
    }
    if (slot != null && slot.table().equals(table)) {
      plant(slot, t, out);
    }
    List<Row> rows = new ArrayList<>(out.size());
    for (Object[] values : out) {
      rows.add(RowFactory.create(values));
    }
    return rows;
  }

  /**
   * P(label = 1 | this subject's modality rows as generated, and which modalities it has): see
   * {@link ObservablePosterior}. The rows are regenerated from their own random streams (planted
   * corruptions left out) and reduced to the statistics the posterior needs; the label is not read
   * (post-index lab visits, which follow the label, are skipped).
   */
  double observableProbability(CohortPlan.Truth t) {
    return ObservablePosterior.probability(o, evidence(t));
  }

  ObservablePosterior.Evidence evidence(CohortPlan.Truth t) {
    ObservablePosterior.Evidence e = new ObservablePosterior.Evidence();
    boolean[] present = plan.presence(t);
    for (Modality m : Modality.values()) {
      if (!present[m.ordinal()]) {
        continue;
      }
      e.present(m);
      SplittableRandom r =
          CohortPlan.rng(o.seed(), t.index(), CohortPlan.STREAM_PAYLOAD + m.ordinal());
      int k = m.latent();
      switch (m) {
        case CLINICAL -> {
          Object[] row = clinical(t, r);
          e.gaussian(k, ((Double) row[1] - 62.0) / 9.0, 0.6, 0.8);
          if (row[3] != null) {
            e.gaussian(k, ((Double) row[3] - 27.0) / 3.5, 0.5, 0.87);
          }
          if (row[4] != null) {
            e.gaussian(k, ((Double) row[4] - 130.0) / 12.0, 0.4, 0.9);
          }
          if (row[6] != null) {
            e.gaussian(k, (85.0 - (Double) row[6]) / 10.0, 0.3, 0.95);
          }
          if (row[8] != null) {
            e.smoker =
                switch ((String) row[8]) {
                  case "never" -> 0;
                  case "former" -> 1;
                  default -> 2;
                };
          }
        }
        case OMICS -> {
          float[] v = (float[]) omics(t, r)[1];
          double mean = 0.0;
          for (int q = 0; q < omicsSignal.length; q++) {
            mean += (q % 2 == 0 ? 1.0 : -1.0) * v[omicsSignal[q]];
          }
          mean /= omicsSignal.length;
          e.gaussian(k, mean, 0.8, 0.6 / Math.sqrt(omicsSignal.length));
        }
        case IMAGING -> {
          SplittableRandom centre =
              CohortPlan.rng(o.seed(), t.index(), CohortPlan.STREAM_PAYLOAD + m.ordinal());
          float[] pixels = (float[]) imaging(t, r)[1];
          int[] shape = o.imageShape();
          int h = shape[1], w = shape[2];
          double cy = 1.5 + centre.nextDouble() * (h - 3.0); // the first two draws of imaging()
          double cx = 1.5 + centre.nextDouble() * (w - 3.0);
          double sigma = Math.max(1.0, Math.min(h, w) / 8.0);
          double gx = 0.0, gg = 0.0;
          int p = 0;
          for (int ch = 0; ch < shape[0]; ch++) {
            double gain = 1.0 / (1 + ch);
            for (int y = 0; y < h; y++) {
              for (int x = 0; x < w; x++) {
                double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                double g = gain * Math.exp(-d2 / (2 * sigma * sigma));
                gx += g * pixels[p++];
                gg += g * g;
              }
            }
          }
          e.gaussian(k, gx / gg - 1.0, 0.6, 0.3 / Math.sqrt(gg));
        }
        case LABS -> {
          List<Object[]> visits = new ArrayList<>();
          labs(t, r, visits);
          for (Object[] v : visits) {
            double time = (Double) v[1];
            if (time >= t.indexTime()) {
              continue; // post-index: dropped by ingest
            }
            double progress = Math.max(0.0, 1.0 - (t.indexTime() - time) / 365.0);
            if (progress == 0.0) {
              continue;
            }
            if (v[2] != null) {
              e.gaussian(k, 4.0 - (Double) v[2], 0.3 * progress, 0.2);
            }
            if (v[3] != null) {
              e.gaussian(k, Math.log((Double) v[3]) - 1.5, 0.5 * progress, 0.3);
            }
            if (v[4] != null) {
              e.gaussian(k, 13.5 - (Double) v[4], 0.2 * progress, 1.0);
            }
          }
        }
        case NOTES -> {
          String text = (String) notes(t, r)[1];
          for (String word : text.substring(0, text.length() - 1).split(" ")) {
            if (java.util.Arrays.asList(RISK_WORDS).contains(word)) {
              e.riskWords++;
            } else if (java.util.Arrays.asList(REASSURING_WORDS).contains(word)) {
              e.reassuringWords++;
            }
          }
        }
      }
    }
    return e;
  }

  private static Modality modality(String table) {
    for (Modality m : Modality.values()) {
      if (m.table().equals(table)) {
        return m;
      }
    }
    throw new IllegalArgumentException("Cannot generate cohort: unknown table (got " + table + ")");
  }

  /**
   * Applies one planted defect. Targets always have a valid first row here (see
   * CohortPlan.presence).
   */
  private void plant(CohortPlan.Slot slot, CohortPlan.Truth t, List<Object[]> out) {
    Object[] first = out.get(0);
    switch (slot.kind()) {
      case NULL_ID -> out.add(withId(first, null));
      case MALFORMED_ID -> out.add(withId(first, ""));
      case UNKNOWN_SUBJECT -> out.add(withId(first, CohortPlan.unknownSubjectId(t.index())));
      case DUPLICATE -> out.add(first.clone());
      case BAD_LABEL -> first[1] = CohortPlan.BAD_LABEL_VALUE;
      case NO_MODALITY -> {} // the subject row stays valid; presence() removed its modalities
      case NON_FINITE -> {
        switch (slot.table()) {
          case "clinical" -> first[1] = Double.NaN; // age
          case "omics" -> ((float[]) first[1])[omicsSignal[0]] = Float.NaN;
          case "imaging" -> ((float[]) first[1])[0] = Float.POSITIVE_INFINITY;
          case "labs" -> { // an extra visit half a tenth of a day before index: times never collide
            Object[] extra = first.clone();
            extra[1] = t.indexTime() - 0.05;
            extra[3] = Double.NaN; // crp
            out.add(extra);
          }
          default -> throw new IllegalStateException(slot.toString());
        }
      }
      case WRONG_LENGTH -> {
        float[] a = (float[]) first[1];
        first[1] = java.util.Arrays.copyOf(a, a.length - 1);
      }
      case BAD_SHAPE -> {
        int[] shape = o.imageShape();
        first[2] = new int[] {shape[0], shape[2], shape[1] + 1};
      }
      case NULL_VALUE -> {
        if (slot.table().equals("labs")) {
          Object[] extra = first.clone();
          extra[1] = null; // time
          out.add(extra);
        } else {
          first[1] = null; // text
        }
      }
    }
  }

  private static Object[] withId(Object[] row, String id) {
    Object[] copy = row.clone();
    copy[0] = id;
    return copy;
  }

  private static Double maybeNull(SplittableRandom r, double nullRate, double value) {
    // Draw the coin even when the value is kept, so later draws do not shift.
    return r.nextDouble() < nullRate ? null : value;
  }

  private Object[] clinical(CohortPlan.Truth t, SplittableRandom r) {
    double z1 = t.z()[0];
    double age = CohortPlan.round1(62.0 + 9.0 * (0.6 * z1 + 0.8 * r.nextGaussian()));
    String sex = r.nextDouble() < 0.5 ? "f" : "m";
    double bmi = CohortPlan.round1(27.0 + 3.5 * (0.5 * z1 + 0.87 * r.nextGaussian()));
    double sbp = Math.round(130.0 + 12.0 * (0.4 * z1 + 0.9 * r.nextGaussian()));
    double ldl = CohortPlan.round1(3.2 + 0.8 * r.nextGaussian());
    double egfr = Math.round(85.0 - 10.0 * (0.3 * z1 + 0.95 * r.nextGaussian()));
    double siteScore = SITE_OFFSET[t.site()] + r.nextGaussian();
    double smokeScore = 0.8 * z1 + r.nextGaussian();
    String smoker = smokeScore > 0.8 ? "current" : smokeScore > -0.2 ? "former" : "never";
    return new Object[] {
      CohortPlan.subjectId(t.index()),
      age,
      sex,
      maybeNull(r, 0.05, bmi),
      maybeNull(r, 0.08, sbp),
      maybeNull(r, 0.10, ldl),
      maybeNull(r, 0.06, egfr),
      siteScore,
      r.nextDouble() < 0.03 ? null : smoker
    };
  }

  private Object[] omics(CohortPlan.Truth t, SplittableRandom r) {
    float[] v = new float[o.omicsLength()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    double z2 = t.z()[1];
    for (int k = 0; k < omicsSignal.length; k++) {
      double sign = k % 2 == 0 ? 1.0 : -1.0; // half up-, half down-regulated
      v[omicsSignal[k]] = (float) (sign * 0.8 * z2 + 0.6 * v[omicsSignal[k]]);
    }
    return new Object[] {CohortPlan.subjectId(t.index()), v};
  }

  private Object[] imaging(CohortPlan.Truth t, SplittableRandom r) {
    int[] shape = o.imageShape();
    int c = shape[0], h = shape[1], w = shape[2];
    double cy = 1.5 + r.nextDouble() * (h - 3.0);
    double cx = 1.5 + r.nextDouble() * (w - 3.0);
    double sigma = Math.max(1.0, Math.min(h, w) / 8.0);
    double amplitude = 1.0 + 0.6 * t.z()[2];
    float[] pixels = new float[c * h * w];
    int p = 0;
    for (int ch = 0; ch < c; ch++) {
      double gain = 1.0 / (1 + ch); // later channels see the blob more faintly
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
          pixels[p++] =
              (float)
                  (gain * amplitude * Math.exp(-d2 / (2 * sigma * sigma)) + 0.3 * r.nextGaussian());
        }
      }
    }
    return new Object[] {CohortPlan.subjectId(t.index()), pixels, shape};
  }

  private void labs(CohortPlan.Truth t, SplittableRandom r, List<Object[]> out) {
    int visits = plan.drawVisitCount(r);
    int post = visits >= 2 ? 1 + r.nextInt(Math.min(2, visits - 1)) : 0;
    int pre = visits - post;
    double index = t.indexTime();
    double z4 = t.z()[3];
    String id = CohortPlan.subjectId(t.index());
    // Pre-index visits every ~30 days, the last 1..21 days before index: spacing keeps times
    // distinct.
    for (int k = 0; k < pre; k++) {
      double time = CohortPlan.round1(index - 30.0 * (pre - 1 - k) - 1.0 - r.nextDouble() * 20.0);
      double progress = Math.max(0.0, 1.0 - (index - time) / 365.0);
      double alb = 4.0 - 0.3 * z4 * progress + 0.2 * r.nextGaussian();
      double crp = Math.exp(1.5 + 0.5 * z4 * progress + 0.3 * r.nextGaussian());
      double hb = 13.5 - 0.2 * z4 * progress + 1.0 * r.nextGaussian();
      out.add(
          new Object[] {
            id, time, maybeNull(r, 0.15, alb), maybeNull(r, 0.15, crp), maybeNull(r, 0.15, hb)
          });
    }
    // Post-index visits: the LEAK. Values follow the drawn label, not the latents.
    for (int q = 0; q < post; q++) {
      double time = CohortPlan.round1(index + 30.0 * q + 1.0 + r.nextDouble() * 20.0);
      boolean positive = t.label() == 1;
      double alb = (positive ? 2.8 : 4.1) + 0.1 * r.nextGaussian();
      double crp =
          positive ? 80.0 + 5.0 * r.nextGaussian() : Math.exp(1.5 + 0.3 * r.nextGaussian());
      double hb = (positive ? 10.5 : 13.5) + 0.5 * r.nextGaussian();
      out.add(new Object[] {id, time, alb, crp, hb});
    }
  }

  private Object[] notes(CohortPlan.Truth t, SplittableRandom r) {
    double s = CohortPlan.sigmoid(1.5 * t.z()[4]);
    double pRisk = 0.3 * s;
    double pReassuring = 0.3 * (1.0 - s);
    int words = 20 + r.nextInt(41);
    StringBuilder text = new StringBuilder("Visit note.");
    for (int i = 0; i < words; i++) {
      double u = r.nextDouble();
      String[] vocabulary =
          u < pRisk ? RISK_WORDS : u < pRisk + pReassuring ? REASSURING_WORDS : NEUTRAL_WORDS;
      text.append(' ').append(vocabulary[r.nextInt(vocabulary.length)]);
    }
    return new Object[] {CohortPlan.subjectId(t.index()), text.append('.').toString()};
  }
}
