package org.cohortfusion.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import org.cohortfusion.io.Json;
import org.cohortfusion.io.Locations;
import org.cohortfusion.registry.ModelRegistry;
import org.cohortfusion.registry.RegistryException;
import org.cohortfusion.registry.RunInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The model registry without Spark: {@code registry list|show|log|register|promote|rollback|diff}.
 * Exit codes: 0 ok; 2 bad input (unknown model, version or alias, the lock held); 1 anything else.
 */
@Command(
    name = "registry",
    mixinStandardHelpOptions = true,
    description = {
      "The model registry: numbered immutable versions of trained models, aliases (champion, challenger, ...)",
      "and an event log, under registry.dir (default <output.dir>/registry) or --registry."
    },
    subcommands = {
      RegistryCommand.ListModels.class,
      RegistryCommand.Show.class,
      RegistryCommand.Log.class,
      RegistryCommand.Register.class,
      RegistryCommand.Promote.class,
      RegistryCommand.Rollback.class,
      RegistryCommand.Diff.class,
      CommandLine.HelpCommand.class
    })
final class RegistryCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UserInputException(
        "Cannot run registry: give a subcommand (list, show, log, register, promote, rollback, diff)");
  }

  /** Where the registry is, shared by every subcommand. */
  abstract static class Sub implements Callable<Integer> {
    @Option(
        names = "--registry",
        paramLabel = "DIR|URI",
        description = "Registry root (overrides registry.dir of --config).")
    String registry;

    @Option(
        names = {"-c", "--config"},
        paramLabel = "FILE|URI",
        description = "Pipeline config: registry.dir, else <output.dir>/registry.")
    String config;

    @Option(
        names = "--set",
        paramLabel = "KEY=VALUE",
        description = "Override a config key (repeatable).")
    List<String> overrides = new ArrayList<>();

    abstract int run(ModelRegistry registry);

    @Override
    public Integer call() {
      try {
        return run(open());
      } catch (RegistryException e) {
        throw new UserInputException(e.getMessage(), e);
      }
    }

    private ModelRegistry open() {
      Configuration hadoop = new Configuration();
      if (registry != null && !registry.isBlank()) {
        return ModelRegistry.at(hadoop, registry);
      }
      if (config == null || config.isBlank()) {
        throw new UserInputException(
            "Cannot open the model registry: give --registry DIR or --config FILE");
      }
      File local = new File(config);
      PipelineConfig c =
          !Locations.hasScheme(config) && local.isFile()
              ? PipelineConfigLoader.load(local, overrides)
              : PipelineConfigLoader.load(config, hadoop, overrides);
      return ModelRegistry.at(hadoop, c.registryDir());
    }
  }

  /** Who and why, for the subcommands that log an event. */
  abstract static class Change extends Sub {
    @Option(
        names = "--reason",
        paramLabel = "TEXT",
        description = "Why, recorded in the event log.")
    String reason = "";

    @Option(
        names = "--run-id",
        paramLabel = "ID",
        description = "Run id recorded in the event log (default: a new UUID).")
    String runId;

    private RunInfo run;

    RunInfo run() {
      if (run == null) {
        run = new RunInfo(runId, null, reason);
      }
      return run;
    }

    /**
     * Moves an alias under the registry's lock, so a hand-made promotion or rollback never
     * interleaves with a retrain's: while one runs, this is refused naming it.
     */
    <T> T locked(ModelRegistry r, java.util.function.Supplier<T> change) {
      try (org.cohortfusion.registry.RegistryLock lock =
          r.lock(
              org.cohortfusion.registry.RegistryLock.thisProcess(),
              run().runId(),
              java.time.Duration.ofMinutes(5))) {
        return change.get();
      }
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Every model with its versions and aliases.")
  static final class ListModels extends Sub {
    @Override
    int run(ModelRegistry r) {
      List<ModelRegistry.Entry> all = r.list();
      if (all.isEmpty()) {
        System.out.println("No models in " + r.root());
      }
      for (ModelRegistry.Entry e : all) {
        System.out.println(
            e.model()
                + "  versions "
                + e.versions()
                + "  "
                + e.aliases().entrySet().stream()
                    .map(a -> a.getKey() + "=v" + a.getValue())
                    .collect(Collectors.joining(" ")));
      }
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "One version (default: the newest), verified against its manifest, as JSON.")
  static final class Show extends Sub {
    @Parameters(index = "0", paramLabel = "NAME")
    String model;

    @Option(names = "--version", paramLabel = "N")
    Integer version;

    @Option(names = "--alias", paramLabel = "ALIAS")
    String alias;

    @Override
    int run(ModelRegistry r) {
      if (version != null && alias != null) {
        throw new UserInputException(
            "Cannot show " + model + ": give --version or --alias, not both");
      }
      int v;
      if (version != null) {
        v = version;
      } else if (alias != null) {
        v = r.resolve(model, alias);
      } else {
        List<Integer> all = r.versions(model);
        if (all.isEmpty()) {
          throw new RegistryException("Cannot show " + model + ": not registered");
        }
        v = all.get(all.size() - 1);
      }
      System.out.println(json(r.show(model, v)));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "log",
      mixinStandardHelpOptions = true,
      description = "The event log of a model, oldest first.")
  static final class Log extends Sub {
    @Parameters(index = "0", paramLabel = "NAME")
    String model;

    @Override
    int run(ModelRegistry r) {
      r.events(model)
          .forEach(
              e ->
                  System.out.println(
                      e.seq()
                          + "  "
                          + e.time()
                          + "  "
                          + e.type()
                          + (e.alias() == null ? "" : " " + e.alias())
                          + " v"
                          + e.version()
                          + (e.previous() == null ? "" : " (was v" + e.previous() + ")")
                          + "  run "
                          + e.runId()
                          + "  by "
                          + e.user()
                          + (e.reason().isEmpty() ? "" : "  " + e.reason())));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "register",
      mixinStandardHelpOptions = true,
      description =
          "Copy a trained model (<train-dir>/<model> or its model/ directory) in as the next version.")
  static final class Register extends Change {
    @Parameters(index = "0", paramLabel = "NAME")
    String model;

    @Option(names = "--from", required = true, paramLabel = "DIR")
    String from;

    @Override
    int run(ModelRegistry r) {
      ModelRegistry.Registered reg = r.register(model, from, run());
      System.out.println(
          "Registered "
              + model
              + " v"
              + reg.version()
              + " at "
              + reg.dir()
              + " (manifest SHA-256 "
              + reg.manifestSha256()
              + ")");
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "promote",
      mixinStandardHelpOptions = true,
      description = "Point an alias (default champion) at a version.")
  static final class Promote extends Change {
    @Parameters(index = "0", paramLabel = "NAME")
    String model;

    @Option(names = "--version", required = true, paramLabel = "N")
    int version;

    @Option(names = "--alias", paramLabel = "ALIAS", defaultValue = ModelRegistry.CHAMPION)
    String alias;

    @Override
    int run(ModelRegistry r) {
      ModelRegistry.Moved m = locked(r, () -> r.promote(model, version, alias, run()));
      System.out.println(
          model
              + "@"
              + alias
              + " -> v"
              + m.version()
              + (m.previous() == null ? "" : " (was v" + m.previous() + ")"));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "rollback",
      mixinStandardHelpOptions = true,
      description =
          "Point an alias (default champion) back at its previous version, as the event log records it.")
  static final class Rollback extends Change {
    @Parameters(index = "0", paramLabel = "NAME")
    String model;

    @Option(names = "--alias", paramLabel = "ALIAS", defaultValue = ModelRegistry.CHAMPION)
    String alias;

    @Override
    int run(ModelRegistry r) {
      ModelRegistry.Moved m = locked(r, () -> r.rollback(model, alias, run()));
      System.out.println(
          model
              + "@"
              + alias
              + " -> v"
              + m.version()
              + " (rolled back from v"
              + m.previous()
              + ")");
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "diff",
      mixinStandardHelpOptions = true,
      description =
          "Config, data lineage and metrics of two versions (numbers, vN or aliases), as JSON.")
  static final class Diff extends Sub {
    @Parameters(index = "0", paramLabel = "NAME")
    String model;

    @Parameters(index = "1", paramLabel = "A")
    String a;

    @Parameters(index = "2", paramLabel = "B")
    String b;

    @Override
    int run(ModelRegistry r) {
      System.out.println(json(r.diff(model, r.select(model, a), r.select(model, b))));
      return ExitCodes.OK;
    }
  }

  private static String json(Object value) {
    try {
      return Json.MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot render JSON: " + e.getMessage(), e);
    }
  }
}
