package org.cohortfusion.cli;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.cohortfusion.config.PipelineConfig;
import org.cohortfusion.config.PipelineConfigLoader;
import picocli.CommandLine.Option;

/** The options every stage that reads a pipeline config shares. */
final class ConfigOptions {
  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
      description = "Pipeline config of the cohort (HOCON), e.g. conf/demo.conf.")
  File config;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Override any config key, e.g. --set splits.seed=7 (repeatable).")
  List<String> overrides = new ArrayList<>();

  PipelineConfig load() {
    return PipelineConfigLoader.load(config, overrides);
  }
}
