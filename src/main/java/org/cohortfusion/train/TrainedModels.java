package org.cohortfusion.train;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.cohort.survival.DiscreteTimeHazard;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.stage.TrainOutputs;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Predictors of trained models: a compiled graph, or the late-fusion combination of unimodal
 * models.
 */
public final class TrainedModels {
  /** File describing a late-fusion model. */
  public static final String LATE_FILE = "late.json";

  private TrainedModels() {}

  /** A late-fusion model: which unimodal models it averages. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record LateModel(String describe, List<Member> members, Map<String, Double> metrics) {
    /**
     * One unimodal member; {@code modelDir} is relative to the train directory (late.json written
     * before that recorded the path the trainer was given, resolved by {@link #resolvedDir}).
     */
    public record Member(String modality, String modelDir, String sha256) {
      /**
       * The member's model directory under {@code trainDir}: its last two path elements, {@code
       * <model>/model}.
       */
      public String resolvedDir(String trainDir) {
        String[] parts = modelDir.split("/");
        return parts.length < 2
            ? trainDir + "/" + modelDir
            : trainDir + "/" + parts[parts.length - 2] + "/" + parts[parts.length - 1];
      }
    }
  }

  /**
   * A graph whose inputs are {@code columns} (indices into the embeddings' modality order) plus
   * their presence.
   */
  public static Metrics.Predictor graph(ComputationGraph graph, int[] columns) {
    boolean[] masked =
        org.cohortfusion.fusion.spec.FusionCompiler.maskedInputs(graph.getConfiguration());
    return batch -> {
      org.nd4j.linalg.dataset.api.MultiDataSet mds =
          batch.select(columns, -1).keepMasks(masked).toMultiDataSet();
      return graph.output(false, mds.getFeatures(), mds.getFeaturesMaskArrays())[0];
    };
  }

  /**
   * Late fusion: the mean of the unimodal predicted probabilities over the modalities present for
   * each subject (uniform probabilities when none is present).
   *
   * @param members predictor per modality index (position in the embeddings' order)
   */
  public static Metrics.Predictor late(Map<Integer, Metrics.Predictor> members, int numClasses) {
    return batch -> {
      int n = batch.size();
      int m = batch.numModalities();
      INDArray sum = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, numClasses);
      INDArray count = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, 1);
      for (Map.Entry<Integer, Metrics.Predictor> e : members.entrySet()) {
        float[] p = new float[n];
        for (int r = 0; r < n; r++) {
          p[r] = batch.presence()[r * m + e.getKey()];
        }
        INDArray present =
            Nd4j.create(p, new long[] {n, 1}, org.nd4j.linalg.api.buffer.DataType.FLOAT);
        sum.addi(e.getValue().predict(batch).castTo(sum.dataType()).mulColumnVector(present));
        count.addi(present);
      }
      INDArray none = count.eq(0).castTo(sum.dataType());
      sum.addi(none.mul(1.0 / numClasses).broadcast(n, numClasses));
      return sum.divColumnVector(count.add(none));
    };
  }

  /**
   * Late fusion of survival models (one hazard per interval each): the mean of the unimodal
   * survival curves over the modalities present for each subject, returned as the hazards of that
   * mean curve ({@code h_j = 1 - S(c_j) / S(c_{j-1})}) — the usual ensemble of survival functions,
   * which a mean of hazards is not. A subject without any modality gets the mean over every member
   * of its prediction from the absent (zero) input: no modality, no information beyond what the
   * members predict for nobody in particular.
   *
   * @param members predictor per modality index (position in the embeddings' order)
   */
  public static Metrics.Predictor lateSurvival(Map<Integer, Metrics.Predictor> members) {
    return batch -> {
      int n = batch.size();
      int m = batch.numModalities();
      double[][] sum = null;
      double[][] all = null;
      double[] count = new double[n];
      for (Map.Entry<Integer, Metrics.Predictor> e : members.entrySet()) {
        double[][] h =
            e.getValue()
                .predict(batch)
                .castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                .toDoubleMatrix();
        if (sum == null) {
          sum = new double[n][h[0].length];
          all = new double[n][h[0].length];
        }
        for (int r = 0; r < n; r++) {
          double[] curve = DiscreteTimeHazard.survival(h[r]);
          boolean present = batch.presence()[r * m + e.getKey()] != 0f;
          for (int j = 0; j < curve.length; j++) {
            all[r][j] += curve[j];
            if (present) {
              sum[r][j] += curve[j];
            }
          }
          count[r] += present ? 1 : 0;
        }
      }
      float[] out = new float[n * sum[0].length];
      int k = sum[0].length;
      for (int r = 0; r < n; r++) {
        double[] mean = count[r] > 0 ? sum[r] : all[r];
        double by = count[r] > 0 ? count[r] : members.size();
        double before = 1;
        for (int j = 0; j < k; j++) {
          double s = mean[j] / by;
          out[r * k + j] = (float) (before > 0 ? Math.min(1, Math.max(0, 1 - s / before)) : 1);
          before = s;
        }
      }
      return Nd4j.create(out, new long[] {n, k}, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    };
  }

  /**
   * The predictor of a model published under {@code <trainDir>/<model dir name>} (graph models:
   * SHA-256 verified before load; late: its members, each verified).
   */
  public static Metrics.Predictor load(
      Configuration conf, String trainDir, String dirName, EmbeddingsSpec emb) {
    String dir = trainDir + "/" + dirName;
    if (exists(conf, dir + "/late/" + LATE_FILE)) {
      Map<Integer, Metrics.Predictor> members = new java.util.TreeMap<>();
      lateMembers(conf, trainDir, dir, emb)
          .forEach((i, g) -> members.put(i, graph(g, new int[] {i})));
      return emb.survival() ? lateSurvival(members) : late(members, emb.numClasses());
    }
    return graphAt(conf, TrainOutputs.published(dir), emb);
  }

  /**
   * The model published under {@code <trainDir>/<model dir name>} as the executors rebuild it
   * (verified as {@link #load} verifies it).
   */
  public static PortableModel portable(
      Configuration conf, String trainDir, String dirName, EmbeddingsSpec emb) {
    String dir = trainDir + "/" + dirName;
    if (exists(conf, dir + "/late/" + LATE_FILE)) {
      return PortableModel.late(
          lateMembers(conf, trainDir, dir, emb), emb.numClasses(), emb.survival());
    }
    return portableAt(conf, TrainOutputs.published(dir), emb);
  }

  /** The late-fusion members of the model in {@code dir}, each verified, by modality index. */
  private static Map<Integer, ComputationGraph> lateMembers(
      Configuration conf, String trainDir, String dir, EmbeddingsSpec emb) {
    LateModel late = Json.read(conf, dir + "/late/" + LATE_FILE, LateModel.class);
    Map<Integer, ComputationGraph> members = new java.util.TreeMap<>();
    for (LateModel.Member mem : late.members()) {
      String memberDir = mem.resolvedDir(trainDir);
      ModelArtifact.Loaded<ComputationGraph> l = ModelArtifact.loadGraph(conf, memberDir);
      if (!l.sha256().equalsIgnoreCase(mem.sha256())) {
        throw new IllegalStateException(
            "Cannot load late fusion "
                + dir
                + ": member "
                + memberDir
                + " has SHA-256 "
                + l.sha256()
                + ", late.json expects "
                + mem.sha256());
      }
      members.put(emb.indexOf(mem.modality()), l.model());
    }
    return members;
  }

  /**
   * The predictor of a graph model in {@code modelDir} (model.zip, provenance.json; verified before
   * load), its inputs in the modality order its provenance records: a train output's {@code
   * <model>/model} or a registry version.
   */
  public static Metrics.Predictor graphAt(Configuration conf, String modelDir, EmbeddingsSpec emb) {
    Located g = locate(conf, modelDir, emb);
    return graph(g.graph(), g.columns());
  }

  /**
   * The graph model in {@code modelDir} as the executors rebuild it (verified as {@link #graphAt}).
   */
  public static PortableModel portableAt(Configuration conf, String modelDir, EmbeddingsSpec emb) {
    Located g = locate(conf, modelDir, emb);
    return PortableModel.graph(g.graph(), g.columns());
  }

  /** A loaded graph and the embeddings' modality columns it reads. */
  private record Located(ComputationGraph graph, int[] columns) {}

  private static Located locate(Configuration conf, String modelDir, EmbeddingsSpec emb) {
    ModelArtifact.Verified v = ModelArtifact.verify(conf, modelDir);
    ComputationGraph model;
    try {
      model =
          org.deeplearning4j.util.ModelSerializer.restoreComputationGraph(
              new java.io.ByteArrayInputStream(v.model()), false);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("Cannot load model " + modelDir, e);
    }
    // Read with a plain mapper: Json.MAPPER registers the Scala module, which binds untyped arrays
    // to Scala lists.
    com.fasterxml.jackson.databind.JsonNode mods;
    try {
      mods =
          new com.fasterxml.jackson.databind.ObjectMapper()
              .readTree(v.files().get(ModelArtifact.PROVENANCE))
              .path("config")
              .path("modalities");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("Cannot read provenance of " + modelDir, e);
    }
    if (!mods.isArray() || mods.isEmpty()) {
      throw new IllegalStateException(
          "Cannot use model " + modelDir + ": its provenance lists no modalities");
    }
    List<Integer> cols = new ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode o : mods) {
      int i = emb.indexOf(o.asText());
      if (i < 0) {
        throw new IllegalStateException(
            "Cannot use model " + modelDir + ": modality '" + o + "' is not in the embeddings");
      }
      cols.add(i);
    }
    return new Located(model, cols.stream().mapToInt(Integer::intValue).toArray());
  }

  /** Whether a file or directory exists at a Hadoop path. */
  public static boolean exists(Configuration conf, String path) {
    try {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
      return p.getFileSystem(conf).exists(p);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
