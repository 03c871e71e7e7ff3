package org.cohortfusion.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a config key's value came from, for error messages: the config file, or a {@code --set
 * key=value} override. A key set with {@code --set} (or lying under one, as a list element) is
 * blamed on that override; a section whose error an override beneath it may have caused (the split
 * fractions that must sum to one) names the file and the override.
 */
final class ConfigOrigin {
  private final String file;

  /** The config as the file has it, before any override. */
  private final com.typesafe.config.Config fromFile;

  /** Override key -> the override as given. */
  private final Map<String, String> overrides = new LinkedHashMap<>();

  ConfigOrigin(String file, com.typesafe.config.Config fromFile) {
    this.file = file;
    this.fromFile = fromFile;
  }

  /**
   * Records {@code --set key=value}; a later override of the same key wins, as in the merged
   * config.
   */
  void override(String key, String given) {
    overrides.remove(key);
    overrides.put(key, given);
  }

  /**
   * The phrase that says where {@code key} came from: {@code given with --set 'k=v'} (the key is
   * the override's or lies under it; or an override lies under the key and the file lacks it, as an
   * unknown section {@code --set splitz.seed=1} is reported as key {@code splitz}), {@code in
   * <file> with --set 'k=v'} (a section of the file that an override changed) or {@code in <file>}.
   */
  String of(String key) {
    String exact = null;
    String beneath = null;
    for (Map.Entry<String, String> e : overrides.entrySet()) {
      String set = e.getKey();
      if (key.equals(set) || key.startsWith(set + ".") || key.startsWith(set + "[")) {
        exact = e.getValue();
      } else if (set.startsWith(key + ".")) {
        beneath = e.getValue();
      }
    }
    if (exact != null || (beneath != null && !inFile(key))) {
      return "given with --set '" + (exact != null ? exact : beneath) + "'";
    }
    return "in " + file + (beneath == null ? "" : " with --set '" + beneath + "'");
  }

  private boolean inFile(String key) {
    try {
      return fromFile.hasPathOrNull(key);
    } catch (com.typesafe.config.ConfigException e) {
      return false; // not a path HOCON can parse: it cannot be the file's either
    }
  }

  @Override
  public String toString() {
    return file;
  }
}
