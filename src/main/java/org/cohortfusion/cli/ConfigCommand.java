package org.cohortfusion.cli;

import java.util.concurrent.Callable;
import org.cohortfusion.config.ConfigKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "config",
    mixinStandardHelpOptions = true,
    description =
        "Describe the pipeline config: every key, its type and what it means (from the code's own descriptions).")
final class ConfigCommand implements Callable<Integer> {
  @Option(
      names = "--describe",
      description = "Print every config key with its type and description (the default).")
  boolean describe = true;

  @Option(names = "--markdown", description = "As a Markdown table.")
  boolean markdown;

  @Override
  public Integer call() {
    if (markdown) {
      System.out.println("| key | type | meaning |");
      System.out.println("|---|---|---|");
    }
    for (ConfigKeys.Key k : ConfigKeys.describe()) {
      if (markdown) {
        System.out.printf(
            "| `%s` | %s | %s |%n", k.path(), k.type(), k.description().replace("|", "\\|"));
      } else {
        System.out.printf("%-48s %-22s %s%n", k.path(), k.type(), k.description());
      }
    }
    return 0;
  }
}
