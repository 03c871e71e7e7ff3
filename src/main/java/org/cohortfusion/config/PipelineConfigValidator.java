package org.cohortfusion.config;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.cohortfusion.stage.Columns;
import org.cohortfusion.stage.ModalityKind;

/** Checks a bound config for values that are well-typed but unusable; errors name the key. */
final class PipelineConfigValidator {
  private static final Pattern MODALITY_NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}");

  private PipelineConfigValidator() {}

  static void validate(PipelineConfig config, ConfigOrigin origin) {
    require(config.subjects() != null, "subjects", "a subjects table { path = ... }", origin);
    require(
        notBlank(config.subjects().path()),
        "subjects.path",
        "the path of the subjects table",
        origin);
    require(!config.modalities().isEmpty(), "modalities", "at least one modality table", origin);
    require(
        config.output() != null && notBlank(config.output().dir()),
        "output.dir",
        "an output directory",
        origin);
    for (Map.Entry<String, ModalityConfig> e : config.modalities().entrySet()) {
      validateModality(e.getKey(), e.getValue(), origin);
    }
    validateSplits(config.splits(), origin);
    validatePretrain(config, origin);
    validateFusion(config, origin);
    validateStudy(config, origin);
    require(
        config.extract().batchSize() > 0,
        "extract.batch-size",
        "a positive batch size, got " + config.extract().batchSize(),
        origin);
  }

  private static void validatePretrain(PipelineConfig config, ConfigOrigin origin) {
    PretrainConfig p = config.pretrain();
    require(
        p.averagingFrequency() == null || p.averagingFrequency() > 0,
        "pretrain.averaging-frequency",
        "a positive number, got " + p.averagingFrequency(),
        origin);
    for (Map.Entry<String, EncoderConfig> e : p.encoders().entrySet()) {
      String key = "pretrain.encoders." + e.getKey();
      ModalityConfig m = config.modalities().get(e.getKey());
      require(
          m != null,
          key,
          "the name of a configured modality " + config.modalities().keySet(),
          origin);
      EncoderConfig c = e.getValue();
      require(
          c.embeddingSize() > 0,
          key + ".embedding-size",
          "a positive size, got " + c.embeddingSize(),
          origin);
      require(
          c.hidden().stream().allMatch(h -> h != null && h > 0),
          key + ".hidden",
          "positive layer sizes, got " + c.hidden(),
          origin);
      require(c.epochs() > 0, key + ".epochs", "a positive epoch count, got " + c.epochs(), origin);
      require(
          c.batchSize() > 0,
          key + ".batch-size",
          "a positive batch size, got " + c.batchSize(),
          origin);
      require(
          c.learningRate() > 0,
          key + ".learning-rate",
          "a positive learning rate, got " + c.learningRate(),
          origin);
      require(
          c.patience() > 0, key + ".patience", "a positive patience, got " + c.patience(), origin);
      require(
          c.weightDecayOrDefault() >= 0 && c.weightDecayOrDefault() < 1,
          key + ".weight-decay",
          "a coefficient in [0, 1), got " + c.weightDecay(),
          origin);
      ModalityKind kind = m.kind();
      onlyFor(kind, ModalityKind.IMAGE, c.convChannels() != null, key + ".conv-channels", origin);
      onlyFor(kind, ModalityKind.TIMESERIES, c.cell() != null, key + ".cell", origin);
      onlyFor(kind, ModalityKind.TEXT, c.buckets() != null, key + ".buckets", origin);
      onlyFor(kind, ModalityKind.VECTOR, c.log1p() != null, key + ".log1p", origin);
      onlyFor(kind, ModalityKind.VECTOR, c.topKVariance() != null, key + ".top-k-variance", origin);
      require(
          c.convChannelsOrDefault().size() > 0
              && c.convChannelsOrDefault().stream().allMatch(h -> h != null && h > 0),
          key + ".conv-channels",
          "a non-empty list of positive channel counts, got " + c.convChannels(),
          origin);
      require(
          c.bucketsOrDefault() > 0,
          key + ".buckets",
          "a positive bucket count, got " + c.buckets(),
          origin);
      require(
          c.topKVarianceOrDefault() >= 0
              && (m.length() == null || c.topKVarianceOrDefault() <= m.length()),
          key + ".top-k-variance",
          "0 or a count up to the vector length " + m.length() + ", got " + c.topKVariance(),
          origin);
    }
  }

  /**
   * The study grid: sizes of configured modalities, positive and distinct; models that
   * fusion.models defines.
   */
  private static void validateStudy(PipelineConfig config, ConfigOrigin origin) {
    StudyConfig study = config.study();
    for (Map.Entry<String, List<Integer>> e : study.embeddingSizes().entrySet()) {
      String key = "study.embedding-sizes." + e.getKey();
      require(
          config.modalities().containsKey(e.getKey()),
          key,
          "the name of a configured modality " + config.modalities().keySet(),
          origin);
      List<Integer> sizes = e.getValue();
      require(
          sizes != null && !sizes.isEmpty(), key, "a non-empty list of embedding sizes", origin);
      require(
          sizes.stream().allMatch(s -> s != null && s > 0),
          key,
          "positive embedding sizes, got " + sizes,
          origin);
      require(
          new java.util.HashSet<>(sizes).size() == sizes.size(),
          key,
          "distinct embedding sizes, got " + sizes,
          origin);
    }
    List<String> models = study.models();
    for (int i = 0; i < models.size(); i++) {
      String model = models.get(i);
      require(
          config.fusion().models().containsKey(model),
          "study.models[" + i + "]",
          "a key of fusion.models " + config.fusion().models().keySet() + ", got '" + model + "'",
          origin);
      require(
          models.indexOf(model) == i,
          "study.models[" + i + "]",
          "each model once, got '" + model + "' twice",
          origin);
    }
    require(
        !study.declared() || !study.modelsOr(config.fusion()).isEmpty(),
        "study.models",
        "at least one fusion model (fusion.models is empty)",
        origin);
  }

  /**
   * The end-to-end keys of fusion models; the spec itself (what, how, stages, layer names) is
   * checked by train's compiler.
   */
  private static void validateFusion(PipelineConfig config, ConfigOrigin origin) {
    if (config.fusion() == null) {
      return;
    }
    for (Map.Entry<String, FusionModelConfig> e : config.fusion().models().entrySet()) {
      String key = "fusion.models." + e.getKey();
      FusionModelConfig m = e.getValue();
      require(
          m.freezeEncoderEpochs() >= 0,
          key + ".freeze-encoder-epochs",
          "0 or a positive epoch count, got " + m.freezeEncoderEpochs(),
          origin);
      require(
          m.encoderLearningRate() > 0 && m.encoderLearningRate() <= 1,
          key + ".encoder-learning-rate",
          "a multiplier in (0, 1], got " + m.encoderLearningRate(),
          origin);
      require(
          m.l2() >= 0 && Double.isFinite(m.l2()),
          key + ".l2",
          "a coefficient >= 0, got " + m.l2(),
          origin);
      require(
          m.l1() >= 0 && Double.isFinite(m.l1()),
          key + ".l1",
          "a coefficient >= 0, got " + m.l1(),
          origin);
      require(
          m.wideL2() >= 0 && Double.isFinite(m.wideL2()),
          key + ".wide-l2",
          "a coefficient >= 0, got " + m.wideL2(),
          origin);
      require(
          List.of("pretrained", "scratch").contains(m.encoderInit()),
          key + ".encoder-init",
          "pretrained or scratch, got '" + m.encoderInit() + "'",
          origin);
      boolean depths =
          m.when() instanceof String
              || m.when() instanceof Integer
              || (m.when() instanceof Map<?, ?> w
                  && !w.isEmpty()
                  && w.values().stream()
                      .allMatch(v -> v instanceof String || v instanceof Integer));
      require(
          depths,
          key + ".when",
          "embeddings, input, embedding, an encoder layer name or index, or one of these per"
              + " modality ({ imaging = conv1, labs = embedding }), got "
              + m.when(),
          origin);
    }
  }

  private static void validateModality(String name, ModalityConfig m, ConfigOrigin origin) {
    String key = "modalities." + name;
    require(
        MODALITY_NAME.matcher(name).matches(),
        key,
        "a lower-case name of letters, digits and '_' starting with a letter (it becomes a column name)",
        origin);
    require(
        !List.of(
                Columns.SUBJECT_ID,
                Columns.LABEL,
                Columns.INDEX_TIME,
                Columns.SPLIT,
                Columns.FOLD,
                Columns.GROUP,
                "true_probability",
                "observable_probability")
            .contains(name),
        key,
        "a name that is not a reserved column of the aligned cohort",
        origin);
    require(
        m.kind() != null, key + ".kind", "one of tabular, vector, image, timeseries, text", origin);
    require(notBlank(m.path()), key + ".path", "the path of the table", origin);
    ModalityKind kind = m.kind();
    onlyFor(kind, ModalityKind.TABULAR, !m.categorical().isEmpty(), key + ".categorical", origin);
    onlyFor(kind, ModalityKind.VECTOR, m.length() != null, key + ".length", origin);
    onlyFor(kind, ModalityKind.IMAGE, !m.shape().isEmpty(), key + ".shape", origin);
    onlyFor(kind, ModalityKind.TIMESERIES, !m.channels().isEmpty(), key + ".channels", origin);
    onlyFor(kind, ModalityKind.TIMESERIES, m.binWidth() != null, key + ".bin-width", origin);
    switch (kind) {
      case VECTOR ->
          require(
              m.length() != null && m.length() > 0,
              key + ".length",
              "a positive vector length",
              origin);
      case IMAGE ->
          require(
              (m.shape().size() == 3 || m.shape().size() == 4)
                  && m.shape().stream().allMatch(s -> s != null && s > 0),
              key + ".shape",
              "[C, H, W] or [C, D, H, W] with positive sizes, got " + m.shape(),
              origin);
      case TIMESERIES -> {
        require(
            m.steps() > 0 && m.steps() <= 10_000,
            key + ".steps",
            "a step count in 1..10000, got " + m.steps(),
            origin);
        require(
            m.binWidth() == null || m.binWidth() > 0,
            key + ".bin-width",
            "a positive bin width, got " + m.binWidth(),
            origin);
      }
      case TABULAR ->
          require(
              m.maxCategories() > 0,
              key + ".max-categories",
              "a positive number, got " + m.maxCategories(),
              origin);
      default -> {}
    }
  }

  private static void validateSplits(SplitConfig s, ConfigOrigin origin) {
    for (Map.Entry<String, Double> f :
        Map.of("train", s.train(), "validation", s.validation(), "test", s.test()).entrySet()) {
      require(
          f.getValue() >= 0 && f.getValue() <= 1,
          "splits." + f.getKey(),
          "a fraction in [0, 1], got " + f.getValue(),
          origin);
    }
    double sum = s.train() + s.validation() + s.test();
    require(
        Math.abs(sum - 1.0) < 1e-9, "splits", "train + validation + test = 1, got " + sum, origin);
    require(
        s.train() > 0,
        "splits.train",
        "a positive train fraction (normalisation statistics come from it)",
        origin);
    require(
        s.folds() == 0 || (s.folds() >= 2 && s.folds() <= 100),
        "splits.folds",
        "0 or a fold count in 2..100, got " + s.folds(),
        origin);
    require(
        s.repeats() >= 1 && s.repeats() <= 100,
        "splits.repeats",
        "a repeat count in 1..100, got " + s.repeats(),
        origin);
    require(
        s.repeats() == 1 || s.folds() >= 2,
        "splits.repeats",
        "splits.folds of 2 or more with repeats = " + s.repeats() + " (repeats repeat the folds)",
        origin);
  }

  private static void onlyFor(
      ModalityKind kind, ModalityKind owner, boolean isSet, String key, ConfigOrigin origin) {
    if (isSet && kind != owner) {
      throw new ConfigException(
          "Cannot use config key '"
              + key
              + "' "
              + origin.of(key)
              + ": it applies to "
              + owner.configName()
              + " modalities only, this one is "
              + kind.configName());
    }
  }

  private static void require(boolean ok, String key, String expected, ConfigOrigin origin) {
    if (!ok) {
      throw new ConfigException(
          "Bad value for config key '" + key + "' " + origin.of(key) + ": expected " + expected);
    }
  }

  private static boolean notBlank(String s) {
    return s != null && !s.isBlank();
  }
}
