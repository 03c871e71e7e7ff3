package org.cohortfusion.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ConfigKeysTest {
  /**
   * Every key a user can set is described; the listing reaches into every section, maps included.
   */
  @Test
  void everyKeyIsDescribedAndEverySectionIsListed() {
    List<ConfigKeys.Key> keys = ConfigKeys.describe();
    List<String> undescribed =
        keys.stream().filter(k -> k.description().isBlank()).map(ConfigKeys.Key::path).toList();
    assertTrue(undescribed.isEmpty(), "config keys without a description: " + undescribed);
    Set<String> paths = keys.stream().map(ConfigKeys.Key::path).collect(Collectors.toSet());
    for (String expected :
        List.of(
            "cohort-dir",
            "subjects.path",
            "modalities.<name>.kind",
            "splits.stratify",
            "pretrain.encoders.<name>.embedding-size",
            "fusion.models.<name>.how",
            "train.shards-dir",
            "train.shard-format",
            "evaluate.min-pattern-size",
            "output.dir",
            "subjects.id-whitespace",
            "modalities.<name>.id-whitespace",
            "train.classical.models",
            "train.classical.linear.reg-param",
            "train.classical.gbt.max-depth",
            "train.classical.image-components",
            "retrain.gate.auroc-margin",
            "retrain.warm-start")) {
      assertTrue(paths.contains(expected), expected + " listed; have " + paths);
    }
  }

  @Test
  void idWhitespaceIsDescribedWithItsValues() {
    ConfigKeys.Key key =
        ConfigKeys.describe().stream()
            .filter(k -> k.path().equals("modalities.<name>.id-whitespace"))
            .findFirst()
            .orElseThrow();
    assertTrue(key.type().contains("reject") && key.type().contains("trim"), key.type());
    assertTrue(key.description().contains("whitespace"), key.description());
  }
}
