package org.cohortfusion.train;

import java.io.Serializable;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A minibatch of embeddings rows as plain arrays (cheap to ship through Spark with Kryo and to filter): per modality
 * a row-major {@code [n, dim]} block (zeros where absent), the presence mask {@code [n, M]} and class labels.
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
    this.dims = dims;
    this.features = features;
    this.presence = presence;
    this.labels = labels;
    this.numClasses = numClasses;
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

  public int size() {
    return labels.length;
  }

  public int numModalities() {
    return dims.length;
  }

  /**
   * The modalities {@code columns} (indices into this batch's order) only, keeping the rows where modality
   * {@code requirePresent} is present (-1 = all rows). May return an empty batch.
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
    }
    for (int k = 0; k < kept; k++) {
      newLabels[k] = labels[rows[k]];
    }
    return new Batch(newDims, newFeatures, newPresence, newLabels, numClasses);
  }

  /** The inverse of {@link #toMultiDataSet()}: modality blocks, then the presence mask, and one-hot labels. */
  public static Batch fromMultiDataSet(MultiDataSet mds) {
    INDArray[] f = mds.getFeatures();
    int m = f.length - 1;
    int n = (int) f[m].size(0);
    int[] dims = new int[m];
    float[][] features = new float[m][];
    for (int i = 0; i < m; i++) {
      dims[i] = (int) f[i].size(1);
      features[i] = f[i].castTo(DataType.FLOAT).data().asFloat();
    }
    float[] presence = f[m].castTo(DataType.FLOAT).data().asFloat();
    INDArray y = mds.getLabels(0);
    int numClasses = (int) y.size(1);
    int[] labels = y.argMax(1).toIntVector();
    return new Batch(dims, features, presence, labels, numClasses);
  }

  /** Features (modalities then presence) and one-hot labels. */
  public MultiDataSet toMultiDataSet() {
    int n = size();
    int m = dims.length;
    INDArray[] f = new INDArray[m + 1];
    for (int i = 0; i < m; i++) {
      f[i] = Nd4j.create(features[i], new long[] {n, dims[i]}, DataType.FLOAT);
    }
    f[m] = Nd4j.create(presence, new long[] {n, m}, DataType.FLOAT);
    float[] oneHot = new float[n * numClasses];
    for (int r = 0; r < n; r++) {
      oneHot[r * numClasses + labels[r]] = 1f;
    }
    INDArray y = Nd4j.create(oneHot, new long[] {n, numClasses}, DataType.FLOAT);
    return new org.nd4j.linalg.dataset.MultiDataSet(f, new INDArray[] {y});
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Batch b && Arrays.equals(dims, b.dims) && Arrays.deepEquals(features, b.features)
        && Arrays.equals(presence, b.presence) && Arrays.equals(labels, b.labels) && numClasses == b.numClasses;
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
