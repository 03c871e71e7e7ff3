package org.cohortfusion.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.config.PretrainConfig;
import org.cohortfusion.features.batch.ModalityPreprocessing;
import org.cohortfusion.features.encoder.EncoderArtifact;
import org.cohortfusion.features.encoder.EncoderFactory;
import org.cohortfusion.fusion.spec.FusionCompiler;
import org.cohortfusion.fusion.spec.FusionSpec;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.ModelArtifact;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * What end-to-end models ({@link FusionSpec#endToEnd()}) start from: every modality's pretrained
 * encoder (SHA-256 verified; the same encoders the embeddings were extracted with) and the
 * preprocessing pretrain fitted on the train split, which travels with the encoder and is reused as
 * it is. A trained end-to-end model records in its provenance that it needs the aligned cohort
 * ({@value #INPUTS_KEY} = {@value #INPUTS_COHORT}) and the preprocessing of each of its modalities,
 * so it can be scored without the encoders.
 *
 * @param inputs the preprocessed features described as an embeddings descriptor: per modality
 *     (embeddings order) the elements of one example, the classes and the cohort hash
 * @param preprocessing per modality, in the same order
 * @param networks per modality the pretrained encoder
 * @param shas per modality the encoder's SHA-256
 */
public record EndToEndInputs(
    EmbeddingsSpec inputs,
    List<ModalityPreprocessing> preprocessing,
    Map<String, MultiLayerNetwork> networks,
    Map<String, String> shas) {
  /** Provenance key saying what a model's inputs are. */
  public static final String INPUTS_KEY = "inputs";

  /** {@link #INPUTS_KEY} of an end-to-end model: the aligned cohort's preprocessed features. */
  public static final String INPUTS_COHORT = "cohort";

  /** Provenance key of the per-modality preprocessing of an end-to-end model. */
  public static final String PREPROCESSING_KEY = "preprocessing";

  /**
   * Loads the encoders of every modality of {@code emb} from {@code
   * encodersDir/<modality>/encoder}.
   */
  public static EndToEndInputs load(Configuration hconf, String encodersDir, EmbeddingsSpec emb) {
    List<EmbeddingsSpec.Modality> mods = new ArrayList<>();
    List<ModalityPreprocessing> preps = new ArrayList<>();
    Map<String, MultiLayerNetwork> nets = new LinkedHashMap<>();
    Map<String, String> shas = new LinkedHashMap<>();
    for (EmbeddingsSpec.Modality m : emb.modalities()) {
      String dir = encodersDir + "/" + m.name() + "/encoder";
      if (!TrainedModels.exists(hconf, dir + "/" + ModelArtifact.MODEL)) {
        throw new IllegalStateException(
            "Cannot train end to end: no encoder of modality '"
                + m.name()
                + "' at "
                + dir
                + " (run pretrain first)");
      }
      EncoderArtifact.Loaded e = EncoderArtifact.load(hconf, dir);
      if (m.encoderSha256() != null && !m.encoderSha256().equalsIgnoreCase(e.sha256())) {
        throw new IllegalStateException(
            "Cannot train end to end: the encoder of '"
                + m.name()
                + "' at "
                + dir
                + " has SHA-256 "
                + e.sha256()
                + ", the embeddings were extracted with "
                + m.encoderSha256()
                + " (run extract again, or point train at the encoders the embeddings came from)");
      }
      long[] shape = CohortData.exampleShape(e.preprocessing());
      int dim = (int) java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
      mods.add(new EmbeddingsSpec.Modality(m.name(), dim, e.sha256()));
      preps.add(e.preprocessing());
      nets.put(m.name(), e.network());
      shas.put(m.name(), e.sha256());
    }
    return new EndToEndInputs(
        new EmbeddingsSpec(mods, emb.classes(), emb.cohortHash(), emb.survivalIntervals()),
        preps,
        nets,
        shas);
  }

  /**
   * The encoders of {@code spec}'s graph: the pretrained networks, or fresh ones of the same
   * architecture ({@code encoder-init = scratch}, built from {@code pretrain}'s encoder config),
   * with {@code updater}.
   */
  public FusionCompiler.Encoders encoders(
      FusionSpec spec, PretrainConfig pretrain, long seed, IUpdater updater) {
    boolean scratch = "scratch".equals(spec.encoderInit());
    Map<String, MultiLayerNetwork> out = new LinkedHashMap<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (ModalityPreprocessing p : preprocessing) {
      out.put(
          p.modality(),
          scratch
              ? EncoderFactory.build(p, pretrain.encoder(p.modality()), inputs.numClasses(), seed)
              : networks.get(p.modality()));
      shapes.put(p.modality(), CohortData.exampleShape(p));
    }
    return new FusionCompiler.Encoders(out, shapes, !scratch, updater);
  }

  /** The preprocessing of {@code modalities} as JSON-ready maps (provenance). */
  public List<Object> preprocessingOf(List<String> modalities) {
    List<Object> out = new ArrayList<>();
    for (String m : modalities) {
      ModalityPreprocessing p =
          preprocessing.stream().filter(x -> x.modality().equals(m)).findFirst().orElseThrow();
      out.add(Json.MAPPER.convertValue(p, Map.class));
    }
    return out;
  }

  /** The encoder SHA-256 of {@code modalities} (provenance). */
  public Map<String, String> encoderShas(List<String> modalities) {
    Map<String, String> out = new LinkedHashMap<>();
    modalities.forEach(m -> out.put(m, shas.get(m)));
    return out;
  }

  /** Whether a model's provenance says it needs the aligned cohort (an end-to-end model). */
  public static boolean needsCohort(ModelArtifact.Provenance p) {
    return p.config() != null && INPUTS_COHORT.equals(String.valueOf(p.config().get(INPUTS_KEY)));
  }

  /** The preprocessing recorded in an end-to-end model's provenance, in its input order. */
  public static List<ModalityPreprocessing> preprocessing(
      ModelArtifact.Provenance p, String where) {
    Object list = p.config() == null ? null : p.config().get(PREPROCESSING_KEY);
    // As a JSON tree: provenance values may come back as any List implementation (Scala's, too).
    com.fasterxml.jackson.databind.JsonNode items =
        list == null ? null : Json.MAPPER.valueToTree(list);
    if (items == null || !items.isArray() || items.isEmpty()) {
      throw new IllegalStateException(
          "Cannot load end-to-end model " + where + ": its provenance has no preprocessing");
    }
    List<ModalityPreprocessing> out = new ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode o : items) {
      out.add(Json.MAPPER.convertValue(o, ModalityPreprocessing.class));
    }
    return out;
  }

  /**
   * The descriptor of a model's inputs from its preprocessing: its modalities in its order,
   * per-example sizes.
   */
  public static EmbeddingsSpec describe(List<ModalityPreprocessing> preps, List<String> classes) {
    List<EmbeddingsSpec.Modality> mods = new ArrayList<>();
    for (ModalityPreprocessing p : preps) {
      long[] shape = CohortData.exampleShape(p);
      mods.add(
          new EmbeddingsSpec.Modality(
              p.modality(),
              (int) java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact),
              null));
    }
    return new EmbeddingsSpec(mods, classes, null);
  }
}
