package org.cohortfusion.train;

import java.io.Serializable;
import java.util.Arrays;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A minibatch of rows as plain arrays (cheap to ship through Spark with Kryo and to filter): per
 * modality a row-major {@code [n, shape...]} block (zeros where absent) — an embedding {@code [n,
 * dim]}, or for end-to-end models the preprocessed features of any rank ({@code [n, F]}, {@code [n,
 * C, H, W]}, {@code [n, 2C, T]}) with, for time series, the step mask {@code [n, T]} (DL4J's
 * feature mask of that input) — then the presence mask {@code [n, M]} and class labels.
 *
 * <p>A plain class rather than a record: Spark's Kryo (4.x) cannot serialise record classes.
 */
public final class Batch implements Serializable {
  private static final long serialVersionUID = 1L;
  private int[] dims;
  private float[][] features;
  private float[] presence;
  private int[] labels;
  private int numClasses;

  /** Per modality the shape of one example (null: {@code [dims[m]]}); plain arrays, Kryo-safe. */
  private long[][] shapes;

  /** Per modality the feature mask, {@code n * shapes[m][last]} floats, or null. */
  private float[][] masks;

  /**
   * The labels are {@link DiscreteTimeHazard} codes of a survival outcome ({@code numClasses}
   * codes, so {@code numClasses / 2 - 1} intervals), trained as one hazard per interval with a
   * label mask.
   */
  private boolean survival;

  /** For Kryo. */
  private Batch() {}

  /**
   * @param dims representation size of each modality, in the batch's modality order
   * @param features per modality, {@code n * dims[m]} floats
   * @param presence {@code n * M} floats, 1 = present
   * @param labels class index per row
   * @param numClasses number of classes (one-hot width)
   */
  public Batch(int[] dims, float[][] features, float[] presence, int[] labels, int numClasses) {
    this(dims, features, presence, labels, numClasses, null, null);
  }

  /**
   * A batch whose modality blocks have any rank.
   *
   * @param dims elements per example of each modality (the product of its shape)
   * @param shapes per modality the shape of one example, or null for flat {@code [dims[m]]}; null =
   *     all flat
   * @param masks per modality the feature mask ({@code n * T} floats for a time series {@code [C,
   *     T]}) or null; null = none
   */
  public Batch(
      int[] dims,
      float[][] features,
      float[] presence,
      int[] labels,
      int numClasses,
      long[][] shapes,
      float[][] masks) {
    this(dims, features, presence, labels, numClasses, shapes, masks, false);
  }

  /**
   * @param survival the labels are survival codes (see {@link #survival()})
   */
  public Batch(
      int[] dims,
      float[][] features,
      float[] presence,
      int[] labels,
      int numClasses,
      long[][] shapes,
      float[][] masks,
      boolean survival) {
    this.survival = survival;
    this.dims = dims;
    this.features = features;
    this.presence = presence;
    this.labels = labels;
    this.numClasses = numClasses;
    this.shapes = shapes;
    this.masks = masks;
  }

  /** The shape of one example of modality {@code m}. */
  public long[] shape(int m) {
    return shapes == null || shapes[m] == null ? new long[] {dims[m]} : shapes[m];
  }

  /** The feature mask of modality {@code m} ({@code n * T}), or null. */
  public float[] mask(int m) {
    return masks == null ? null : masks[m];
  }

  /**
   * The feature mask of an absent example: its last step only. The features are zeros and the
   * fusion ignores the modality (presence 0); a mask with no step at all would make DL4J's
   * last-time-step and masked pooling fail (no step to take, a division by zero steps).
   */
  public static void absentMask(float[] mask, int row, int steps) {
    java.util.Arrays.fill(mask, row * steps, (row + 1) * steps, 0f);
    if (steps > 0) {
      mask[(row + 1) * steps - 1] = 1f;
    }
  }

  /**
   * The same batch with the feature masks of the modalities where {@code keep} is false dropped.
   */
  public Batch keepMasks(boolean[] keep) {
    if (masks == null) {
      return this;
    }
    float[][] k = new float[masks.length][];
    boolean any = false;
    for (int i = 0; i < masks.length; i++) {
      k[i] = keep[i] ? masks[i] : null;
      any |= k[i] != null;
    }
    return new Batch(
        dims, features, presence, labels, numClasses, shapes, any ? k : null, survival);
  }

  /**
   * The same rows with this presence mask ({@code n * M}); absent modalities' features and masks
   * are zeroed.
   */
  public Batch withPresence(float[] newPresence) {
    int m = dims.length;
    int n = size();
    float[][] f = new float[m][];
    float[][] k = masks == null ? null : new float[m][];
    for (int i = 0; i < m; i++) {
      f[i] = features[i].clone();
      int width = masks == null || masks[i] == null ? 0 : masks[i].length / Math.max(1, n);
      if (k != null && masks[i] != null) {
        k[i] = masks[i].clone();
      }
      for (int r = 0; r < n; r++) {
        if (newPresence[r * m + i] == 0f) {
          java.util.Arrays.fill(f[i], r * dims[i], (r + 1) * dims[i], 0f);
          if (k != null && k[i] != null) {
            absentMask(k[i], r, width);
          }
        }
      }
    }
    return new Batch(dims, f, newPresence.clone(), labels, numClasses, shapes, k, survival);
  }

  public int[] dims() {
    return dims;
  }

  public float[][] features() {
    return features;
  }

  public float[] presence() {
    return presence;
  }

  public int[] labels() {
    return labels;
  }

  public int numClasses() {
    return numClasses;
  }

  /**
   * Whether the labels are {@link DiscreteTimeHazard} codes of a survival outcome: the model's
   * output is then one hazard per interval ({@link #outputs()}), trained with the interval targets
   * and label mask of {@link #toMultiDataSet()}.
   */
  public boolean survival() {
    return survival;
  }

  /** The width of the model's output: the classes, or for a survival outcome the intervals. */
  public int outputs() {
    return survival ? DiscreteTimeHazard.intervalsOf(numClasses) : numClasses;
  }

  public int size() {
    return labels.length;
  }

  public int numModalities() {
    return dims.length;
  }

  /**
   * The modalities {@code columns} (indices into this batch's order) only, keeping the rows where
   * modality {@code requirePresent} is present (-1 = all rows). May return an empty batch.
   */
  public Batch select(int[] columns, int requirePresent) {
    int m = dims.length;
    int n = size();
    int kept = 0;
    int[] rows = new int[n];
    for (int r = 0; r < n; r++) {
      if (requirePresent < 0 || presence[r * m + requirePresent] != 0f) {
        rows[kept++] = r;
      }
    }
    int[] newDims = new int[columns.length];
    long[][] newShapes = shapes == null ? null : new long[columns.length][];
    float[][] newMasks = masks == null ? null : new float[columns.length][];
    float[][] newFeatures = new float[columns.length][];
    float[] newPresence = new float[kept * columns.length];
    int[] newLabels = new int[kept];
    for (int c = 0; c < columns.length; c++) {
      int src = columns[c];
      int d = dims[src];
      newDims[c] = d;
      newFeatures[c] = new float[kept * d];
      for (int k = 0; k < kept; k++) {
        System.arraycopy(features[src], rows[k] * d, newFeatures[c], k * d, d);
        newPresence[k * columns.length + c] = presence[rows[k] * m + src];
      }
      if (newShapes != null) {
        newShapes[c] = shapes[src];
      }
      if (newMasks != null && masks[src] != null) {
        int w = masks[src].length / Math.max(1, n);
        newMasks[c] = new float[kept * w];
        for (int k = 0; k < kept; k++) {
          System.arraycopy(masks[src], rows[k] * w, newMasks[c], k * w, w);
        }
      }
    }
    for (int k = 0; k < kept; k++) {
      newLabels[k] = labels[rows[k]];
    }
    return new Batch(
        newDims, newFeatures, newPresence, newLabels, numClasses, newShapes, newMasks, survival);
  }

  /**
   * The inverse of {@link #toMultiDataSet()}: modality blocks, then the presence mask, and one-hot
   * labels.
   */
  public static Batch fromMultiDataSet(MultiDataSet mds) {
    INDArray[] f = mds.getFeatures();
    int m = f.length - 1;
    int n = (int) f[m].size(0);
    int[] dims = new int[m];
    long[][] shapes = new long[m][];
    float[][] masks = new float[m][];
    boolean anyShape = false;
    boolean anyMask = false;
    INDArray[] fm = mds.getFeaturesMaskArrays();
    float[][] features = new float[m][];
    for (int i = 0; i < m; i++) {
      long[] s = f[i].shape();
      shapes[i] = java.util.Arrays.copyOfRange(s, 1, s.length);
      anyShape |= shapes[i].length != 1;
      dims[i] = (int) (f[i].length() / Math.max(1, n));
      features[i] = f[i].castTo(DataType.FLOAT).dup('c').data().asFloat();
      // A feature mask belongs to a time series [n, C, T] only ([n, T]); DL4J's MultiDataSet
      // serialisation may give
      // back placeholders for inputs that had none.
      if (fm != null
          && i < fm.length
          && fm[i] != null
          && s.length == 3
          && fm[i].rank() == 2
          && fm[i].size(1) == s[2]) {
        masks[i] = fm[i].castTo(DataType.FLOAT).dup('c').data().asFloat();
        anyMask = true;
      }
    }
    float[] presence = f[m].castTo(DataType.FLOAT).data().asFloat();
    INDArray y = mds.getLabels(0);
    INDArray[] lm = mds.getLabelsMaskArrays();
    if (lm != null && lm.length > 0 && lm[0] != null && lm[0].equalShapes(y)) {
      // A label mask only comes with survival targets: one hazard per interval.
      int j = (int) y.size(1);
      float[] yy = y.castTo(DataType.FLOAT).dup('c').data().asFloat();
      float[] mm = lm[0].castTo(DataType.FLOAT).dup('c').data().asFloat();
      int[] codes = new int[n];
      for (int r = 0; r < n; r++) {
        codes[r] = DiscreteTimeHazard.code(yy, mm, r, j);
      }
      return new Batch(
          dims,
          features,
          presence,
          codes,
          DiscreteTimeHazard.codes(j),
          anyShape ? shapes : null,
          anyMask ? masks : null,
          true);
    }
    int numClasses = (int) y.size(1);
    int[] labels = y.argMax(1).toIntVector();
    return new Batch(
        dims,
        features,
        presence,
        labels,
        numClasses,
        anyShape ? shapes : null,
        anyMask ? masks : null);
  }

  /** Features (modalities then presence) and one-hot labels. */
  public MultiDataSet toMultiDataSet() {
    int n = size();
    int m = dims.length;
    INDArray[] f = new INDArray[m + 1];
    INDArray[] fm = masks == null ? null : new INDArray[m + 1];
    for (int i = 0; i < m; i++) {
      long[] s = shape(i);
      long[] full = new long[s.length + 1];
      full[0] = n;
      System.arraycopy(s, 0, full, 1, s.length);
      f[i] = Nd4j.create(features[i], full, DataType.FLOAT);
      if (fm != null && masks[i] != null) {
        fm[i] =
            Nd4j.create(masks[i], new long[] {n, masks[i].length / Math.max(1, n)}, DataType.FLOAT);
      }
    }
    f[m] = Nd4j.create(presence, new long[] {n, m}, DataType.FLOAT);
    if (survival) {
      int j = outputs();
      float[] y = new float[n * j];
      float[] mask = new float[n * j];
      for (int r = 0; r < n; r++) {
        DiscreteTimeHazard.targets(labels[r], r, j, y, mask);
      }
      return new org.nd4j.linalg.dataset.MultiDataSet(
          f,
          new INDArray[] {Nd4j.create(y, new long[] {n, j}, DataType.FLOAT)},
          fm,
          new INDArray[] {Nd4j.create(mask, new long[] {n, j}, DataType.FLOAT)});
    }
    float[] oneHot = new float[n * numClasses];
    for (int r = 0; r < n; r++) {
      oneHot[r * numClasses + labels[r]] = 1f;
    }
    INDArray y = Nd4j.create(oneHot, new long[] {n, numClasses}, DataType.FLOAT);
    return new org.nd4j.linalg.dataset.MultiDataSet(f, new INDArray[] {y}, fm, null);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Batch b
        && Arrays.equals(dims, b.dims)
        && Arrays.deepEquals(features, b.features)
        && Arrays.equals(presence, b.presence)
        && Arrays.equals(labels, b.labels)
        && numClasses == b.numClasses
        && survival == b.survival
        && sameShapes(b)
        && Arrays.deepEquals(masks, b.masks);
  }

  private boolean sameShapes(Batch b) {
    for (int i = 0; i < dims.length; i++) {
      if (!Arrays.equals(shape(i), b.shape(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(labels) * 31 + Arrays.hashCode(presence);
  }

  @Override
  public String toString() {
    return "Batch(n=" + size() + ", dims=" + Arrays.toString(dims) + ")";
  }
}
