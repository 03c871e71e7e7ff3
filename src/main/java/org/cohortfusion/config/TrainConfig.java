package org.cohortfusion.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * The {@code train} section: how fusion models are fitted (single process or Spark parameter
 * averaging).
 */
public record TrainConfig(
    @JsonPropertyDescription(
            "local (one process, ComputationGraph.fit) or spark (SparkComputationGraph + parameter averaging); default spark.")
        Mode mode,
    @JsonPropertyDescription("Maximum number of epochs (default 20).") Integer epochs,
    @JsonProperty("batch-size")
        @JsonPropertyDescription("Minibatch size (per worker in spark mode; default 64).")
        Integer batchSize,
    @JsonPropertyDescription(
            "Spark workers (parameter-averaging replicas; default: Spark's default parallelism).")
        Integer workers,
    @JsonProperty("averaging-frequency")
        @JsonPropertyDescription(
            "Minibatches each worker fits between parameter averagings in spark mode (default: chosen per run"
                + " so that an epoch has at most 2 averaging rounds and each round at least 5 minibatches per worker; the choice is logged).")
        Integer averagingFrequency,
    @JsonPropertyDescription("adam (default), sgd or nesterovs.") Updater updater,
    @JsonProperty("learning-rate")
        @JsonPropertyDescription("Initial learning rate (default 0.005).")
        Double learningRate,
    @JsonPropertyDescription(
            "Learning-rate schedule over epochs: constant (default), step or exponential.")
        Schedule schedule,
    @JsonProperty("schedule-decay")
        @JsonPropertyDescription(
            "step: factor per step; exponential: factor per epoch (default 0.5 / 0.95).")
        Double scheduleDecay,
    @JsonProperty("schedule-step")
        @JsonPropertyDescription("step: epochs per decay step (default 10).")
        Integer scheduleStep,
    @JsonPropertyDescription(
            "Early stopping: epochs without improvement of the early-stopping measure before stopping (default 5).")
        Integer patience,
    @JsonPropertyDescription(
            "Seed of weight initialisation, shuffling and modality dropout (default 42).")
        Long seed,
    @JsonProperty("shards-dir")
        @JsonPropertyDescription(
            "Where spark mode (train and pretrain) writes the training split once per run as minibatch shard"
                + " files, deleted when the run ends; on a cluster a Hadoop URI every executor can read (default <output.dir>/_shards).")
        String shardsDir,
    @JsonProperty("shard-format")
        @JsonPropertyDescription(
            "Format of the training shards of train: arrow (Apache Arrow IPC, readable by pyarrow) or dl4j"
                + " (DL4J's MultiDataSet serialisation); default arrow, the faster of the two in bench train.")
        ShardFormat shardFormat,
    @JsonPropertyDescription(
            "Classical baselines (Spark ML, on the raw aligned cohort): see train.classical.*.")
        ClassicalConfig classical,
    @JsonProperty("early-stopping")
        @JsonPropertyDescription(
            "What early stopping and the published epoch follow: loss (validation log loss, a proper "
                + "scoring rule: it rewards calibration as well as ranking; default) or auroc (validation AUROC, which a small "
                + "validation split makes noisy and which keeps overfitted, overconfident epochs).")
        EarlyStopping earlyStopping,
    @JsonPropertyDescription(
            "Where the validation split is scored after every epoch: driver (collected once, scored in"
                + " the driver JVM), executors (the model broadcast, every partition scored where it lives, only sums and the"
                + " exact AUROC's distributed sort leave the executors: nothing proportional to the split on the driver, but"
                + " a survival model's risk and code per subject for Harrell's C) or auto"
                + " (default: executors from "
                + VALIDATION_ON_EXECUTORS_FROM
                + " validation examples on). Late fusion is scored"
                + " on the driver either way.")
        ValidationOn validation,
    @JsonPropertyDescription(
            "How spark mode averages the workers' parameters: uniform (default; dl4j-spark's"
                + " ParameterAveragingTrainingMaster, every worker weighted equally) or presence-weighted (a round of"
                + " this project's: each parameter owned by one modality - its projection, its encoder layers in an"
                + " end-to-end graph - weighted by the examples with that modality present each worker trained on,"
                + " shared fusion and head parameters uniformly; updater state weighted like its parameter; each"
                + " worker keeps a fixed contiguous run of the shards, or whole groups under shard-by = group).")
        Averaging averaging,
    @JsonProperty("shard-by")
        @JsonPropertyDescription(
            "How spark mode cuts the train split into the workers' shards: subject (default; shards in"
                + " subject-hash order, so every worker sees about the same mix of sites and missingness) or group"
                + " (every shard holds one group of the subjects table's group column, e.g. a site, and every worker"
                + " keeps whole groups for the run, as when each site trains on its own data; averaging then runs"
                + " on this project's rounds, uniform or presence-weighted as train.averaging says). At most "
                + MAX_SHARD_GROUPS
                + " groups.")
        ShardBy shardBy) {

  /**
   * Most groups {@code shard-by = group} accepts: each group's shards are written by a Spark job of
   * their own, which suits sites, not families.
   */
  public static final int MAX_SHARD_GROUPS = 64;

  /** How the train split is cut into the workers' shards in spark mode. */
  public enum ShardBy {
    SUBJECT,
    GROUP;

    @JsonCreator
    public static ShardBy parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("expected subject or group, got '" + value + "'");
      }
    }

    @JsonValue
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Validation splits of at least this many labeled examples are scored on the executors under
   * validation = auto.
   */
  public static final long VALIDATION_ON_EXECUTORS_FROM = 50_000;

  /** Where the validation split is scored. */
  public enum ValidationOn {
    DRIVER,
    EXECUTORS,
    AUTO;

    @JsonCreator
    public static ValidationOn parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "expected driver, executors or auto, got '" + value + "'");
      }
    }

    @JsonValue
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** How the workers' parameters are averaged in spark mode. */
  public enum Averaging {
    UNIFORM,
    PRESENCE_WEIGHTED;

    @JsonCreator
    public static Averaging parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "expected uniform or presence-weighted, got '" + value + "'");
      }
    }

    @JsonValue
    public String configName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /** The validation measure early stopping follows. */
  public enum EarlyStopping {
    LOSS,
    AUROC;

    @JsonCreator
    public static EarlyStopping parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("expected loss or auroc, got '" + value + "'");
      }
    }

    @JsonValue
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public enum ShardFormat {
    DL4J,
    ARROW;

    @JsonCreator
    public static ShardFormat parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("expected dl4j or arrow, got '" + value + "'");
      }
    }

    @JsonValue
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public enum Mode {
    LOCAL,
    SPARK;

    @JsonCreator
    public static Mode parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("expected local or spark, got '" + value + "'");
      }
    }

    @JsonValue
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public enum Updater {
    ADAM,
    SGD,
    NESTEROVS;

    @JsonCreator
    public static Updater parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("expected adam, sgd or nesterovs, got '" + value + "'");
      }
    }

    @JsonValue
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public enum Schedule {
    CONSTANT,
    STEP,
    EXPONENTIAL;

    @JsonCreator
    public static Schedule parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "expected constant, step or exponential, got '" + value + "'");
      }
    }

    @JsonValue
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public TrainConfig {
    mode = mode == null ? Mode.SPARK : mode;
    epochs = epochs == null ? 20 : epochs;
    batchSize = batchSize == null ? 64 : batchSize;
    updater = updater == null ? Updater.ADAM : updater;
    learningRate = learningRate == null ? 0.005 : learningRate;
    schedule = schedule == null ? Schedule.CONSTANT : schedule;
    scheduleDecay =
        scheduleDecay == null ? (schedule == Schedule.STEP ? 0.5 : 0.95) : scheduleDecay;
    scheduleStep = scheduleStep == null ? 10 : scheduleStep;
    patience = patience == null ? 5 : patience;
    seed = seed == null ? 42L : seed;
    shardFormat = shardFormat == null ? ShardFormat.ARROW : shardFormat;
    classical = classical == null ? ClassicalConfig.defaults() : classical;
    earlyStopping = earlyStopping == null ? EarlyStopping.LOSS : earlyStopping;
    validation = validation == null ? ValidationOn.AUTO : validation;
    averaging = averaging == null ? Averaging.UNIFORM : averaging;
    shardBy = shardBy == null ? ShardBy.SUBJECT : shardBy;
  }

  public static TrainConfig defaults() {
    return new TrainConfig(
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null);
  }

  /** A copy with another mode. */
  public TrainConfig withMode(Mode m) {
    return copy(c -> c.mode = m);
  }

  /** A copy with another epoch count. */
  public TrainConfig withEpochs(int e) {
    return copy(c -> c.epochs = e);
  }

  /** A copy with another worker count. */
  public TrainConfig withWorkers(Integer w) {
    return copy(c -> c.workers = w);
  }

  /** A copy with another seed. */
  public TrainConfig withSeed(long s) {
    return copy(c -> c.seed = s);
  }

  /** A copy with another patience (early stopping). */
  public TrainConfig withPatience(int p) {
    return copy(c -> c.patience = p);
  }

  /** A copy with another shard format. */
  public TrainConfig withShardFormat(ShardFormat f) {
    return copy(c -> c.shardFormat = f);
  }

  /** A copy scoring the validation split where {@code v} says. */
  public TrainConfig withValidation(ValidationOn v) {
    return copy(c -> c.validation = v);
  }

  /** A copy with another averaging frequency (null: chosen per run). */
  public TrainConfig withAveragingFrequency(Integer f) {
    return copy(c -> c.averagingFrequency = f);
  }

  /** A copy with another averaging mode. */
  public TrainConfig withAveraging(Averaging a) {
    return copy(c -> c.averaging = a);
  }

  /** A copy that cuts the train split's shards as {@code s} says. */
  public TrainConfig withShardBy(ShardBy s) {
    return copy(c -> c.shardBy = s);
  }

  /** A copy writing its shards under {@code dir} (null: under output.dir). */
  public TrainConfig withShardsDir(String dir) {
    return copy(c -> c.shardsDir = dir);
  }

  /** This record with the change {@code change} makes to a mutable copy of its fields. */
  private TrainConfig copy(java.util.function.Consumer<Fields> change) {
    Fields f = new Fields(this);
    change.accept(f);
    return f.build();
  }

  /** The record's fields, mutable, for {@link #copy}. */
  private static final class Fields {
    Mode mode;
    Integer epochs;
    Integer batchSize;
    Integer workers;
    Integer averagingFrequency;
    Updater updater;
    Double learningRate;
    Schedule schedule;
    Double scheduleDecay;
    Integer scheduleStep;
    Integer patience;
    Long seed;
    String shardsDir;
    ShardFormat shardFormat;
    ClassicalConfig classical;
    EarlyStopping earlyStopping;
    ValidationOn validation;
    Averaging averaging;
    ShardBy shardBy;

    Fields(TrainConfig t) {
      mode = t.mode;
      epochs = t.epochs;
      batchSize = t.batchSize;
      workers = t.workers;
      averagingFrequency = t.averagingFrequency;
      updater = t.updater;
      learningRate = t.learningRate;
      schedule = t.schedule;
      scheduleDecay = t.scheduleDecay;
      scheduleStep = t.scheduleStep;
      patience = t.patience;
      seed = t.seed;
      shardsDir = t.shardsDir;
      shardFormat = t.shardFormat;
      classical = t.classical;
      earlyStopping = t.earlyStopping;
      validation = t.validation;
      averaging = t.averaging;
      shardBy = t.shardBy;
    }

    TrainConfig build() {
      return new TrainConfig(
          mode,
          epochs,
          batchSize,
          workers,
          averagingFrequency,
          updater,
          learningRate,
          schedule,
          scheduleDecay,
          scheduleStep,
          patience,
          seed,
          shardsDir,
          shardFormat,
          classical,
          earlyStopping,
          validation,
          averaging,
          shardBy);
    }
  }
}
