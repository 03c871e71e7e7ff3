package org.cohortfusion.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.cohortfusion.bench.ExtractBench;
import org.cohortfusion.bench.IngestBench;
import org.cohortfusion.bench.TrainBench;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.spark.Sessions;
import org.cohortfusion.stage.EmbeddingsSpec;
import org.cohortfusion.stage.EvaluateOutputs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks that print ratios against a baseline measured in the same run.",
    subcommands = {
      BenchCommand.Ingest.class,
      BenchCommand.Extract.class,
      BenchCommand.Train.class,
      BenchCommand.Averaging.class,
      BenchCommand.Runs.class,
      BenchCommand.Scale.class,
      BenchCommand.FusionSeeds.class
    })
final class BenchCommand {

  @Command(
      name = "ingest",
      mixinStandardHelpOptions = true,
      description = {
        "Generate a cohort (default 1M subjects x 5 modalities, 16x16 images, 256-float omics) and time",
        "ingest against a bare Spark SQL join of the same tables. Target: ratio <= 1.15."
      })
  static final class Ingest implements Callable<Integer> {
    @Option(
        names = {"-n", "--subjects"},
        defaultValue = "1000000",
        description = "Subjects (default: ${DEFAULT-VALUE}).")
    long subjects;

    @Option(
        names = "--repetitions",
        defaultValue = "4",
        description = {
          "Timed runs of each, an even number (default: ${DEFAULT-VALUE}): in blocks of two, the bare join first once and",
          "ingest first once; the ratio is the median of the blocks' ratios."
        })
    int repetitions;

    @Option(
        names = "--warmup",
        defaultValue = "1",
        description =
            "Untimed runs of each first, for the JIT and Spark's code generation (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(
        names = "--work-dir",
        defaultValue = "work/bench",
        description = "Where the cohort and outputs go (default: ${DEFAULT-VALUE}).")
    String workDir;

    @Option(
        names = "--regenerate",
        description = "Generate the cohort even if one of that size exists.")
    boolean regenerate;

    @Override
    public Integer call() throws Exception {
      IngestBench.Result r =
          IngestBench.run(
              Sessions.getOrCreate("bench ingest"),
              workDir,
              subjects,
              warmup,
              repetitions,
              regenerate);
      System.out.printf(
          "bench ingest: %d subjects, %d core(s): bare join %.1f s, ingest %.1f s (medians); ratio %.2f "
              + "(median of %d blocks of two repetitions, both orders; ratio of medians %.2f) (target <= 1.15)%n",
          r.subjects(),
          Runtime.getRuntime().availableProcessors(),
          r.medianBare(),
          r.medianIngest(),
          r.ratio(),
          r.blocks(),
          r.medianIngest() / r.medianBare());
      return 0;
    }
  }

  @Command(
      name = "extract",
      mixinStandardHelpOptions = true,
      description = {
        "Extraction throughput (subjects/s per core, per modality) and Parquet -> INDArray conversion time",
        "against Spark's own scan of the same columns, in the same run (run ingest and pretrain first). Target: >= 0.8x."
      })
  static final class Extract implements Callable<Integer> {
    @Mixin ConfigOptions options;

    @Option(
        names = "--batch-size",
        defaultValue = "256",
        description = "Subjects per encoder batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
        names = "--repeats",
        defaultValue = "3",
        description = "Passes per measurement; the best is kept (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Override
    public Integer call() {
      PipelineConfig config = options.load();
      ExtractBench.Result r =
          ExtractBench.run(
              Sessions.getOrCreate("bench extract"),
              config.cohortOutputDir(),
              config.pretrainOutputDir(),
              batchSize,
              repeats);
      System.out.println(r.table());
      return 0;
    }
  }

  @Command(
      name = "train",
      mixinStandardHelpOptions = true,
      description = {
        "Training samples/s of each model single-process, with 1 and 2 Spark workers (parameter averaging) and of a",
        "plain DL4J dense network of the same size, all in the same run; ratios printed with their targets. On the",
        "config's embeddings (run the pipeline up to extract first), or with --subjects on a generated compute-bound",
        "case (five modalities of 32/1024/256/128/64 floats, masked attention, projection 64, batch 256)."
      })
  static final class Train implements Callable<Integer> {
    @Option(
        names = {"-c", "--config"},
        description = "Pipeline config whose embeddings and models to bench (not with --subjects).")
    String config;

    @Option(
        names = "--subjects",
        description =
            "Generate the compute-bound case with this many subjects (e.g. 50000) instead.")
    Long subjects;

    @Option(
        names = "--model",
        description =
            "Model(s) to train: fusion.models keys or baselines (default: every fusion model).")
    java.util.List<String> models;

    @Option(
        names = "--epochs",
        defaultValue = "2",
        description = "Epochs per run; the last one is timed (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(
        names = "--work-dir",
        defaultValue = "work/bench/train",
        description = "Where the runs write (default: ${DEFAULT-VALUE}).")
    String workDir;

    @Option(
        names = "--regenerate",
        description = "With --subjects: generate the embeddings even if they exist.")
    boolean regenerate;

    @Option(
        names = "--local-only",
        description = {
          "Only the single-process run and the dense reference (the fusion/dense ratio),",
          "no Spark runs."
        })
    boolean localOnly;

    @Option(
        names = "--repeats",
        defaultValue = "1",
        description = {
          "Single-process run and dense reference repeated in this many",
          "interleaved pairs; prints the median of the pairs' local/dense ratios (default: ${DEFAULT-VALUE})."
        })
    int repeats;

    @Option(
        names = "--averaging-frequency",
        description =
            "Minibatches per worker between averagings (default: as train.averaging-frequency).")
    Integer averagingFrequency;

    @Override
    public Integer call() throws Exception {
      org.apache.spark.sql.SparkSession spark = Sessions.getOrCreate("bench train");
      // The executors write the shards: a relative directory would be each one's own.
      workDir =
          ConfigOptions.absoluteDirectory(
              workDir, () -> spark.sparkContext().hadoopConfiguration());
      PipelineConfig pipeline;
      java.util.List<String> overrides =
          averagingFrequency == null
              ? java.util.List.of()
              : java.util.List.of("train.averaging-frequency=" + averagingFrequency);
      if (subjects != null) {
        String dir = workDir + "/large-" + subjects;
        String embeddings = dir + "/embeddings";
        if (regenerate
            || !java.nio.file.Files.exists(
                java.nio.file.Path.of(embeddings, EmbeddingsSpec.FILE))) {
          System.out.println(
              "bench train: generating " + subjects + " subjects of embeddings in " + embeddings);
          org.cohortfusion.bench.BenchEmbeddings.write(
              spark,
              embeddings,
              subjects,
              org.cohortfusion.bench.BenchEmbeddings.LARGE_DIMS,
              0.2,
              7);
        }
        pipeline =
            org.cohortfusion.config.PipelineConfigLoader.parse(
                TrainBench.largeConfig(dir), overrides);
      } else if (config != null) {
        pipeline =
            org.cohortfusion.config.PipelineConfigLoader.load(new java.io.File(config), overrides);
      } else {
        throw new org.cohortfusion.config.ConfigException(
            "Cannot bench train: give --config or --subjects");
      }
      java.util.List<String> names =
          models != null ? models : new java.util.ArrayList<>(pipeline.fusion().models().keySet());
      System.out.printf(
          "bench train: %d core(s), %d epochs per run, ND4J threads %s%n",
          Runtime.getRuntime().availableProcessors(),
          epochs,
          System.getenv().getOrDefault("OMP_NUM_THREADS", "default"));
      TrainBench.shardFormats(
          spark, pipeline, 5, line -> System.out.println("bench train: " + line));
      for (String model : names) {
        TrainBench.run(
            spark,
            pipeline,
            model,
            epochs,
            workDir + "/runs",
            !localOnly,
            repeats,
            line -> System.out.println("bench train: " + line));
      }
      return 0;
    }
  }

  @Command(
      name = "averaging",
      mixinStandardHelpOptions = true,
      description = {
        "Uniform against presence-weighted parameter averaging (train.averaging) on generated embeddings whose",
        "missingness depends on the site (2 sites, m1 mostly missing at site 1, m2 at site 0), one worker per site:",
        "test AUROC per epoch, the paired DeLong difference at the end, and each mode's training time."
      })
  static final class Averaging implements Callable<Integer> {
    @Option(
        names = "--subjects",
        defaultValue = "20000",
        description = "Subjects, 70% train (default: ${DEFAULT-VALUE}).")
    long subjects;

    @Option(
        names = "--epochs",
        defaultValue = "5",
        description = "Epochs of each mode (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(
        names = "--averaging-frequency",
        defaultValue = "10",
        description = "Minibatches per worker between averagings (default: ${DEFAULT-VALUE}).")
    int averagingFrequency;

    @Option(
        names = "--weighted-first",
        description = "Run presence-weighted before uniform (default: uniform first).")
    boolean weightedFirst;

    @Option(
        names = "--learning-rate",
        defaultValue = "0.005",
        description = "Adam's learning rate (default: ${DEFAULT-VALUE}, train's default).")
    double learningRate;

    @Option(
        names = "--seed",
        defaultValue = "7",
        description =
            "Seed of the cohort, the initialisation and the shard order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(
        names = "--work-dir",
        defaultValue = "work/bench/averaging",
        description = "Where the embeddings and shards go (default: ${DEFAULT-VALUE}).")
    String workDir;

    @Override
    public Integer call() {
      if (epochs < 1 || averagingFrequency < 1 || !(learningRate > 0)) {
        throw new UserInputException(
            "Cannot run bench averaging: --epochs and --averaging-frequency must be at least 1"
                + " and --learning-rate positive");
      }
      org.cohortfusion.bench.AveragingBench.Result r =
          org.cohortfusion.bench.AveragingBench.run(
              Sessions.getOrCreate("bench averaging"),
              workDir,
              subjects,
              epochs,
              averagingFrequency,
              learningRate,
              seed,
              weightedFirst,
              line -> System.out.println("bench averaging: " + line));
      org.cohortfusion.evaluate.PairedAuroc p = r.paired();
      System.out.printf(
          java.util.Locale.ROOT,
          "bench averaging: %d core(s); test AUROC uniform %.4f, presence-weighted %.4f; difference %+.4f"
              + " (DeLong SE %.4f, %.0f%% CI [%+.4f, %+.4f], %d positives, %d negatives);"
              + " training time uniform %.1f s, presence-weighted %.1f s (ratio %.2f)%n",
          Runtime.getRuntime().availableProcessors(),
          p.aurocB(),
          p.aurocA(),
          p.difference(),
          p.standardError(),
          p.confidence() * 100,
          p.lower(),
          p.upper(),
          p.positives(),
          p.negatives(),
          r.uniform().seconds(),
          r.weighted().seconds(),
          r.weighted().seconds() / r.uniform().seconds());
      return 0;
    }
  }

  @Command(
      name = "runs",
      mixinStandardHelpOptions = true,
      description = {
        "Two evaluated runs of the same cohort (e.g. train.averaging = uniform and presence-weighted) compared",
        "model by model on the test subjects both scored: each run's test AUROC and the paired difference (run B",
        "minus run A) by DeLong's method with its 95% CI. Binary outcomes."
      })
  static final class Runs implements Callable<Integer> {
    @Option(
        names = "--run",
        required = true,
        arity = "2",
        paramLabel = "OUTPUT_DIR",
        description = "output.dir of run A, then of run B (each with evaluate/predictions).")
    List<String> runs;

    @Option(
        names = "--model",
        description =
            "Compare only this model (repeatable; default: every model both runs evaluated).")
    List<String> models = new java.util.ArrayList<>();

    @Override
    public Integer call() {
      List<org.cohortfusion.bench.RunsComparison.ModelComparison> rows;
      try {
        rows =
            org.cohortfusion.bench.RunsComparison.compare(
                Sessions.getOrCreate("bench runs"),
                runs.get(0) + "/evaluate/" + EvaluateOutputs.PREDICTIONS,
                runs.get(1) + "/evaluate/" + EvaluateOutputs.PREDICTIONS,
                models);
      } catch (IllegalArgumentException e) {
        throw new UserInputException(e.getMessage());
      }
      System.out.printf(
          java.util.Locale.ROOT, "bench runs: A = %s, B = %s%n", runs.get(0), runs.get(1));
      System.out.printf(
          java.util.Locale.ROOT,
          "%-24s %9s %9s %9s %8s  %-21s %s%n",
          "model",
          "AUROC A",
          "AUROC B",
          "B - A",
          "SE",
          "95% CI",
          "subjects");
      for (org.cohortfusion.bench.RunsComparison.ModelComparison r : rows) {
        org.cohortfusion.evaluate.PairedAuroc p = r.paired();
        System.out.printf(
            java.util.Locale.ROOT,
            "%-24s %9.4f %9.4f %+9.4f %8.4f  [%+.4f, %+.4f]  %d%s%n",
            r.model(),
            p.aurocB(),
            p.aurocA(),
            p.difference(),
            p.standardError(),
            p.lower(),
            p.upper(),
            p.positives() + p.negatives(),
            r.onlyInOneRun() == 0 ? "" : " (" + r.onlyInOneRun() + " in one run only)");
      }
      return 0;
    }
  }

  @Command(
      name = "scale",
      mixinStandardHelpOptions = true,
      description = {
        "The whole pipeline (generate, ingest, pretrain, extract, train, evaluate, report; few epochs) at two or",
        "more cohort sizes, each in a child JVM with the driver memory as its heap; prints each stage's time and the",
        "driver's (and, with a non-local --master, the executors') peak heap per size, and the ratios of the largest",
        "size to the smallest: time per stage (goal <= 1.2 x the size ratio) and driver peak heap (goal <= 1.2;",
        "by pool peaks, after GC, and live samples taken by a forced full collection every --live-heap-every s).",
        "Writes <work-dir>/bench-scale.json."
      })
  static final class Scale implements Callable<Integer> {
    @Option(
        names = {"-c", "--config"},
        defaultValue = "conf/demo.conf",
        description = "Pipeline config (default: ${DEFAULT-VALUE}).")
    String config;

    @Option(
        names = {"-n", "--subjects"},
        split = ",",
        defaultValue = "100000,1000000",
        description = "Cohort sizes, comma-separated (default: ${DEFAULT-VALUE}).")
    java.util.List<Long> subjects;

    @Option(
        names = "--epochs",
        defaultValue = "1",
        description = "Epochs of every encoder and fusion model (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(
        names = "--models",
        split = ",",
        defaultValue = "attention,concat",
        description = "Fusion models to train, comma-separated (default: ${DEFAULT-VALUE}).")
    java.util.List<String> models;

    @Option(
        names = "--work-dir",
        defaultValue = "work/bench/scale",
        description = "Where cohorts, outputs and bench-scale.json go (default: ${DEFAULT-VALUE}).")
    String workDir;

    @Option(
        names = "--driver-memory",
        defaultValue = "2g",
        description = "Heap of each size's JVM, the driver (default: ${DEFAULT-VALUE}).")
    String driverMemory;

    @Option(
        names = "--master",
        description =
            "Spark master of the children (default: this JVM's spark.master, else local[*]).")
    String master;

    @Option(
        names = "--live-heap-every",
        defaultValue = "15",
        description =
            "Seconds between forced full collections that sample the driver's live heap (the"
                + " garbage-free measure; each costs about a second), 0 for none (default:"
                + " ${DEFAULT-VALUE}).")
    int liveHeapEvery;

    @Override
    public Integer call() throws Exception {
      if (liveHeapEvery < 0) {
        throw new UserInputException(
            "Cannot run bench scale: --live-heap-every must be 0 or more, got " + liveHeapEvery);
      }
      if (epochs < 1) {
        throw new UserInputException(
            "Cannot run bench scale: --epochs must be at least 1, got " + epochs);
      }
      java.nio.file.Path dir = java.nio.file.Path.of(workDir).toAbsolutePath();
      java.nio.file.Files.createDirectories(dir);
      ScaleBench.Result r =
          ScaleBench.run(
              config, subjects, epochs, models, dir, driverMemory, master, liveHeapEvery);
      System.out.print(ScaleBench.table(r));
      System.out.println("bench scale: figures in " + dir.resolve("bench-scale.json"));
      return r.complete() ? 0 : 1;
    }
  }

  @Command(
      name = "fusion-seeds",
      mixinStandardHelpOptions = true,
      description = {
        "Fusion against the unimodal baselines (20%% missing), the same on a label without its interaction term and",
        "with no modality missing,",
        "masked fusion against zero-filled concatenation (half missing), and modality dropout under a missingness",
        "shift (complete development splits, half missing at test), each on a generated cohort per seed: every",
        "model's test AUROC per seed, the differences between models per seed, and their mean, min and max.",
        "Asserts nothing."
      })
  static final class FusionSeeds implements Callable<Integer> {
    @Option(
        names = "--seeds",
        split = ",",
        defaultValue = "11,23,5,37,41",
        description =
            "Seeds of the cohorts and of training, comma-separated (default: ${DEFAULT-VALUE}).")
    java.util.List<Long> seeds;

    @Option(
        names = {"-n", "--subjects"},
        description =
            "Subjects of every cohort (default: each comparison's own, 2000 and 1500 and 1500).")
    Integer subjects;

    @Option(
        names = "--conditions",
        split = ",",
        description =
            "Conditions to run, comma-separated (default: all of fusion-vs-unimodal, no-interaction,"
                + " complete, half-missing, missingness-shift).")
    java.util.List<String> conditions;

    @Option(
        names = "--work-dir",
        defaultValue = "work/bench/fusion-seeds",
        description = "Where the cohorts and models go (default: ${DEFAULT-VALUE}).")
    String workDir;

    @Override
    public Integer call() {
      if (seeds.isEmpty() || (subjects != null && subjects < 100)) {
        throw new UserInputException(
            "Cannot run bench fusion-seeds: give at least one seed and at least 100 subjects");
      }
      java.util.List<org.cohortfusion.bench.FusionSeedsBench.Condition> all =
          org.cohortfusion.bench.FusionSeedsBench.conditions();
      java.util.List<String> known =
          all.stream().map(org.cohortfusion.bench.FusionSeedsBench.Condition::name).toList();
      if (conditions != null && !known.containsAll(conditions)) {
        throw new UserInputException(
            "Cannot run bench fusion-seeds: unknown condition in "
                + conditions
                + " (known: "
                + String.join(", ", known)
                + ")");
      }
      java.util.List<org.cohortfusion.bench.FusionSeedsBench.ConditionResult> results =
          org.cohortfusion.bench.FusionSeedsBench.run(
              Sessions.getOrCreate("bench fusion-seeds"),
              workDir,
              seeds,
              subjects,
              all.stream()
                  .filter(c -> conditions == null || conditions.contains(c.name()))
                  .toList(),
              line -> System.out.println("bench fusion-seeds: " + line));
      for (org.cohortfusion.bench.FusionSeedsBench.ConditionResult r : results) {
        System.out.printf(
            java.util.Locale.ROOT,
            "%nbench fusion-seeds: %s, %d subjects per seed: %s; test AUROC%n%s",
            r.condition().name(),
            r.condition().subjects(),
            r.condition().description(),
            r.table());
      }
      return 0;
    }
  }
}
