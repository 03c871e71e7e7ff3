package org.cohortfusion.features.batch;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.cohortfusion.spark.internal.FieldRow;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns a batch of rows ({@link FieldRow}, Spark's internal rows) into ND4J inputs with primitive
 * bulk copies: array payloads are read with {@link FieldRow#getFloats}, normalised in a float
 * buffer and handed to ND4J in one {@code Nd4j.create(float[], shape)}. No value is ever boxed.
 *
 * <p>Rows must be copies ({@code FieldRow.copy()}) because Spark reuses row objects. The payload of
 * the modality sits at {@code ordinal}; a null payload is an error here (callers filter on {@code
 * has_<modality>}).
 */
public final class FeatureBatches {
  private static final Pattern NON_WORD = Pattern.compile("[^\\p{L}\\p{N}]+");

  private final ModalityPreprocessing prep;
  private final int ordinal;
  private final List<Map<String, Integer>> vocabularyIndex = new ArrayList<>();

  /** mean and 1/std as floats, so the inner loops are float multiply-adds. */
  private final float[] mean;

  private final float[] inverseStd;

  public FeatureBatches(ModalityPreprocessing prep, int ordinal) {
    this.prep = prep;
    this.ordinal = ordinal;
    int k = prep.mean() == null ? 0 : prep.mean().length;
    mean = new float[k];
    inverseStd = new float[k];
    for (int i = 0; i < k; i++) {
      mean[i] = (float) prep.mean()[i];
      inverseStd[i] = (float) (1.0 / prep.std()[i]);
    }
    for (List<String> vocabulary : prep.vocabularies()) {
      Map<String, Integer> index = new HashMap<>();
      for (int i = 0; i < vocabulary.size(); i++) {
        index.put(vocabulary.get(i), i);
      }
      vocabularyIndex.add(index);
    }
  }

  public FeatureBatch convert(List<FieldRow> rows) {
    int n = rows.size();
    for (int r = 0; r < n; r++) {
      if (rows.get(r).isNullAt(ordinal)) {
        throw new IllegalArgumentException(
            "Cannot convert modality '"
                + prep.modality()
                + "': a batch row has a null payload"
                + " (filter on has_"
                + prep.modality()
                + " first)");
      }
    }
    return switch (prep.kind()) {
      case TABULAR ->
          new FeatureBatch(Nd4j.create(tabular(rows), new long[] {n, prep.inputSize()}, 'c'), null);
      case VECTOR ->
          new FeatureBatch(Nd4j.create(vector(rows), new long[] {n, prep.inputSize()}, 'c'), null);
      case IMAGE -> new FeatureBatch(Nd4j.create(image(rows), imageShape(n), 'c'), null);
      case TIMESERIES -> timeseries(rows);
      case TEXT ->
          new FeatureBatch(Nd4j.create(text(rows), new long[] {n, prep.buckets()}, 'c'), null);
    };
  }

  /** One-hot labels [N, classes] from an int column at {@code labelOrdinal}. */
  public static INDArray oneHotLabels(List<FieldRow> rows, int labelOrdinal, int classes) {
    float[] out = new float[rows.size() * classes];
    for (int r = 0; r < rows.size(); r++) {
      int label = rows.get(r).getInt(labelOrdinal);
      if (label < 0 || label >= classes) {
        throw new IllegalArgumentException(
            "Cannot build labels: class index " + label + " is outside 0.." + (classes - 1));
      }
      out[r * classes + label] = 1f;
    }
    return Nd4j.create(out, new long[] {rows.size(), classes}, 'c');
  }

  private float[] tabular(List<FieldRow> rows) {
    int numeric = prep.numericFeatures().size();
    int categorical = prep.categoricalFeatures().size();
    int width = prep.inputSize();
    float[] out = new float[rows.size() * width];
    for (int r = 0; r < rows.size(); r++) {
      FieldRow s = rows.get(r).getStruct(ordinal, numeric + categorical);
      int base = r * width;
      for (int i = 0; i < numeric; i++) {
        if (s.isNullAt(i)) {
          out[base + numeric + i] =
              1f; // missing indicator; the standardised value stays 0 (the train mean)
        } else {
          out[base + i] =
              (float)
                  ((s.getDouble(i) - prep.mean()[i])
                      / prep.std()[i]); // double: raw values may be large
        }
      }
      int offset = base + 2 * numeric;
      for (int j = 0; j < categorical; j++) {
        int vocabularySize = prep.vocabularies().get(j).size();
        Integer index =
            s.isNullAt(numeric + j) ? null : vocabularyIndex.get(j).get(s.getString(numeric + j));
        out[offset + (index == null ? vocabularySize : index)] = 1f;
        offset += vocabularySize + 1;
      }
    }
    return out;
  }

  private float[] vector(List<FieldRow> rows) {
    int length = prep.shape().get(0);
    int width = prep.inputSize();
    int[] kept = prep.keptPositions();
    float[] out = new float[rows.size() * width];
    for (int r = 0; r < rows.size(); r++) {
      float[] v = checkedLength(rows.get(r).getFloats(ordinal), length);
      int base = r * width;
      for (int k = 0; k < width; k++) {
        int p = kept == null ? k : kept[k];
        float x = prep.log1p() ? (float) Math.log1p(v[p]) : v[p];
        out[base + k] = (x - mean[k]) * inverseStd[k];
      }
    }
    return out;
  }

  private long[] imageShape(int n) {
    long[] shape = new long[prep.shape().size() + 1];
    shape[0] = n;
    for (int i = 0; i < prep.shape().size(); i++) {
      shape[i + 1] = prep.shape().get(i);
    }
    return shape;
  }

  private float[] image(List<FieldRow> rows) {
    int size = prep.inputSize();
    int channels = prep.channels();
    int perChannel = size / channels;
    float[] out = new float[rows.size() * size];
    for (int r = 0; r < rows.size(); r++) {
      float[] v = checkedLength(rows.get(r).getFloats(ordinal), size);
      int base = r * size;
      for (int c = 0; c < channels; c++) {
        float m = mean[c];
        float inv = inverseStd[c];
        for (int i = c * perChannel, end = i + perChannel; i < end; i++) {
          out[base + i] = (v[i] - m) * inv;
        }
      }
    }
    return out;
  }

  private FeatureBatch timeseries(List<FieldRow> rows) {
    int channels = prep.channels();
    int steps = prep.steps();
    int perSubject = 2 * channels * steps;
    float[] features = new float[rows.size() * perSubject];
    float[] mask = new float[rows.size() * steps];
    for (int r = 0; r < rows.size(); r++) {
      FieldRow s = rows.get(r).getStruct(ordinal, 4);
      float[] values = checkedLength(s.getFloats(0), channels * steps);
      float[] observed = checkedLength(s.getFloats(1), channels * steps);
      float[] stepMask = checkedLength(s.getFloats(2), steps);
      System.arraycopy(stepMask, 0, mask, r * steps, steps);
      int base = r * perSubject;
      int maskOffset = base + channels * steps;
      for (int c = 0; c < channels; c++) {
        float m = mean[c];
        float inv = inverseStd[c];
        for (int t = 0, i = c * steps; t < steps; t++, i++) {
          if (observed[i] > 0f && stepMask[t] > 0f) {
            features[base + i] = (values[i] - m) * inv;
            features[maskOffset + i] = 1f;
          }
        }
      }
    }
    return new FeatureBatch(
        Nd4j.create(features, new long[] {rows.size(), 2L * channels, steps}, 'c'),
        Nd4j.create(mask, new long[] {rows.size(), steps}, 'c'));
  }

  private float[] text(List<FieldRow> rows) {
    int buckets = prep.buckets();
    float[] out = new float[rows.size() * buckets];
    for (int r = 0; r < rows.size(); r++) {
      int base = r * buckets;
      List<String> tokens = tokens(rows.get(r).getString(ordinal));
      for (int i = 0; i < tokens.size(); i++) {
        out[base + bucket(tokens.get(i), buckets)] += 1f;
        if (i + 1 < tokens.size()) {
          out[base + bucket(tokens.get(i) + " " + tokens.get(i + 1), buckets)] += 1f;
        }
      }
      for (int b = base; b < base + buckets; b++) {
        if (out[b] > 0f) {
          out[b] = (float) Math.log1p(out[b]);
        }
      }
    }
    return out;
  }

  /** Lower-case tokens: maximal runs of letters and digits. */
  public static List<String> tokens(String document) {
    List<String> out = new ArrayList<>();
    for (String t : NON_WORD.split(document.toLowerCase(Locale.ROOT))) {
      if (!t.isEmpty()) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * Bucket of an n-gram: 32-bit FNV-1a over its UTF-8 bytes (Fowler, Noll, Vo; the "hashing trick"
   * of Weinberger et al., 2009, "Feature hashing for large scale multitask learning"). Stable
   * across JVMs, unlike String.hashCode's contract.
   */
  public static int bucket(String ngram, int buckets) {
    int h = 0x811c9dc5;
    for (byte b : ngram.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x01000193;
    }
    return Math.floorMod(h, buckets);
  }

  private float[] checkedLength(float[] data, int expected) {
    if (data.length != expected) {
      throw new IllegalArgumentException(
          "Cannot convert modality '"
              + prep.modality()
              + "': an array has "
              + data.length
              + " elements, expected "
              + expected);
    }
    return data;
  }
}
