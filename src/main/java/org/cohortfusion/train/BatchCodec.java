package org.cohortfusion.train;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.cohortfusion.config.TrainConfig;

/**
 * How a minibatch shard is stored ({@code train.shard-format}): DL4J's own MultiDataSet
 * serialisation, or an Apache Arrow IPC stream (one record batch: {@code label} int32, {@code
 * presence} and one column per modality as fixed-size lists of float32 — readable by pyarrow and
 * pandas; a modality of higher rank, e.g. preprocessed images for an end-to-end model, is stored
 * flat in row-major order with its per-example shape in the schema metadata {@code shape.m<i>}, and
 * a time series' step mask as column {@code mask<i>}). {@code bench train} measures both.
 */
public enum BatchCodec {
  DL4J {
    @Override
    public void write(Batch batch, OutputStream out) throws IOException {
      batch.toMultiDataSet().save(out);
    }

    @Override
    public Batch read(InputStream in, int numClasses) throws IOException {
      org.nd4j.linalg.dataset.MultiDataSet stored = new org.nd4j.linalg.dataset.MultiDataSet();
      stored.load(in);
      return Batch.fromMultiDataSet(stored);
    }
  },

  ARROW {
    @Override
    public void write(Batch batch, OutputStream out) throws IOException {
      int n = batch.size();
      int m = batch.numModalities();
      List<FieldVector> vectors = new ArrayList<>();
      try {
        IntVector label = new IntVector("label", ALLOCATOR);
        label.allocateNew(n);
        for (int r = 0; r < n; r++) {
          label.set(r, batch.labels()[r]);
        }
        label.setValueCount(n);
        vectors.add(label);
        vectors.add(floats("presence", batch.presence(), n, m));
        java.util.Map<String, String> shapes = new java.util.HashMap<>();
        if (batch.survival()) {
          shapes.put(SURVIVAL_KEY, Integer.toString(batch.numClasses()));
        }
        for (int i = 0; i < m; i++) {
          vectors.add(floats("m" + i, batch.features()[i], n, batch.dims()[i]));
          long[] shape = batch.shape(i);
          if (shape.length != 1) {
            shapes.put(
                "shape.m" + i,
                java.util.Arrays.stream(shape)
                    .mapToObj(Long::toString)
                    .collect(java.util.stream.Collectors.joining(",")));
          }
          float[] mask = batch.mask(i);
          if (mask != null) {
            vectors.add(floats("mask" + i, mask, n, n == 0 ? 0 : mask.length / n));
          }
        }
        List<org.apache.arrow.vector.types.pojo.Field> fields =
            vectors.stream().map(FieldVector::getField).toList();
        try (VectorSchemaRoot root =
                new VectorSchemaRoot(
                    new org.apache.arrow.vector.types.pojo.Schema(fields, shapes), vectors, n);
            ArrowStreamWriter writer = new ArrowStreamWriter(root, null, out)) {
          writer.start();
          writer.writeBatch();
          writer.end();
        }
      } finally {
        vectors.forEach(FieldVector::close);
      }
    }

    @Override
    public Batch read(InputStream in, int numClasses) throws IOException {
      try (ArrowStreamReader reader = new ArrowStreamReader(in, ALLOCATOR)) {
        if (!reader.loadNextBatch()) {
          throw new IOException("Cannot read shard: no record batch");
        }
        VectorSchemaRoot root = reader.getVectorSchemaRoot();
        int n = root.getRowCount();
        IntVector label = (IntVector) root.getVector("label");
        int[] labels = new int[n];
        for (int r = 0; r < n; r++) {
          labels[r] = label.get(r);
        }
        FixedSizeListVector presence = (FixedSizeListVector) root.getVector("presence");
        int m = presence.getListSize();
        float[][] features = new float[m][];
        int[] dims = new int[m];
        long[][] shapes = new long[m][];
        float[][] masks = new float[m][];
        boolean anyShape = false;
        boolean anyMask = false;
        java.util.Map<String, String> meta = root.getSchema().getCustomMetadata();
        for (int i = 0; i < m; i++) {
          FixedSizeListVector v = (FixedSizeListVector) root.getVector("m" + i);
          dims[i] = v.getListSize();
          features[i] = floats(v, n);
          String shape = meta == null ? null : meta.get("shape.m" + i);
          shapes[i] =
              shape == null
                  ? new long[] {dims[i]}
                  : java.util.Arrays.stream(shape.split(",")).mapToLong(Long::parseLong).toArray();
          anyShape |= shape != null;
          String maskName = "mask" + i;
          if (root.getSchema().getFields().stream().anyMatch(f -> f.getName().equals(maskName))) {
            masks[i] = floats((FixedSizeListVector) root.getVector(maskName), n);
            anyMask = true;
          }
        }
        String survival = meta == null ? null : meta.get(SURVIVAL_KEY);
        return new Batch(
            dims,
            features,
            floats(presence, n),
            labels,
            survival == null ? numClasses : Integer.parseInt(survival),
            anyShape ? shapes : null,
            anyMask ? masks : null,
            survival != null);
      }
    }
  };

  private static final BufferAllocator ALLOCATOR = new RootAllocator(Long.MAX_VALUE);

  /** Schema metadata of a shard whose labels are survival codes: the number of codes. */
  private static final String SURVIVAL_KEY = "survival.codes";

  public abstract void write(Batch batch, OutputStream out) throws IOException;

  /** Reads a shard written by {@link #write}; {@code numClasses} is the cohort's class count. */
  public abstract Batch read(InputStream in, int numClasses) throws IOException;

  /** The codec of a configured shard format. */
  public static BatchCodec of(TrainConfig.ShardFormat format) {
    return valueOf(format.name());
  }

  private static FixedSizeListVector floats(String name, float[] values, int n, int width) {
    FixedSizeListVector list = FixedSizeListVector.empty(name, width, ALLOCATOR);
    list.addOrGetVector(
        FieldType.notNullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)));
    Float4Vector child = (Float4Vector) list.getDataVector();
    list.allocateNew();
    child.allocateNew(n * width);
    ByteBuffer bytes =
        ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    child.getDataBuffer().setBytes(0, bytes);
    ArrowBuf validity = child.getValidityBuffer();
    validity.setOne(0, (n * width + 7) / 8);
    child.setValueCount(n * width);
    for (int r = 0; r < n; r++) {
      list.setNotNull(r);
    }
    list.setValueCount(n);
    return list;
  }

  private static float[] floats(FixedSizeListVector list, int n) {
    int count = n * list.getListSize();
    float[] out = new float[count];
    Float4Vector child = (Float4Vector) list.getDataVector();
    child
        .getDataBuffer()
        .nioBuffer(0, count * Float.BYTES)
        .order(ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer()
        .get(out);
    return out;
  }
}
