package org.cohortfusion.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException.Parse;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigSyntax;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Reads a pipeline config: a HOCON file, then {@code --set key=value} overrides, bound to {@link
 * PipelineConfig} with unknown keys rejected. Every error names the key and what was expected.
 */
public final class PipelineConfigLoader {
  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS);

  private PipelineConfigLoader() {}

  public static PipelineConfig load(File file, List<String> overrides) {
    if (!file.isFile()) {
      throw new ConfigException("Cannot read pipeline config: no file at " + file);
    }
    Config base;
    try {
      base = ConfigFactory.parseFile(file, ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigException("Cannot parse pipeline config " + file + ": " + e.getMessage(), e);
    }
    return bind(withOverrides(base, overrides), origin(file.toString(), base, overrides));
  }

  /**
   * Reads the config from any Hadoop file system URI or path ({@code hdfs://}, {@code s3a://},
   * {@code file:}; a path without scheme is on the default file system of {@code hadoop}), so the
   * driver of a cluster-mode run can read it from shared storage. HOCON {@code include}s are not
   * followed relative to such a file.
   */
  public static PipelineConfig load(String location, Configuration hadoop, List<String> overrides) {
    Path path = new Path(location);
    String text;
    try (InputStream in = path.getFileSystem(hadoop).open(path)) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (FileNotFoundException e) {
      throw new ConfigException("Cannot read pipeline config: no file at " + location);
    } catch (IOException e) {
      throw new ConfigException(
          "Cannot read pipeline config " + location + ": " + e.getMessage(), e);
    }
    Config base;
    try {
      base =
          ConfigFactory.parseString(
              text, ConfigParseOptions.defaults().setOriginDescription(location));
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigException(
          "Cannot parse pipeline config " + location + ": " + e.getMessage(), e);
    }
    return bind(withOverrides(base, overrides), origin(location, base, overrides));
  }

  public static PipelineConfig parse(String hocon, List<String> overrides) {
    Config base = ConfigFactory.parseString(hocon);
    return bind(withOverrides(base, overrides), origin("<string>", base, overrides));
  }

  /**
   * Where each key came from: the file, or the {@code --set} that gave it (malformed overrides fail
   * in withOverrides).
   */
  private static ConfigOrigin origin(String file, Config fromFile, List<String> overrides) {
    ConfigOrigin origin = new ConfigOrigin(file, fromFile);
    for (String override : overrides) {
      int eq = override.indexOf('=');
      if (eq > 0) {
        origin.override(unquote(override.substring(0, eq).trim()), override.trim());
      }
    }
    return origin;
  }

  /** A HOCON path as the binder names it: quotes around segments removed. */
  private static String unquote(String key) {
    return key.replace("\"", "");
  }

  static Config withOverrides(Config base, List<String> overrides) {
    Config merged = base;
    for (String override : overrides) {
      int eq = override.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException("Cannot apply --set '" + override + "': expected key=value");
      }
      String key = override.substring(0, eq).trim();
      String value = override.substring(eq + 1).trim();
      Config one;
      try {
        one =
            ConfigFactory.parseString(
                key + " = " + value, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF));
      } catch (Parse e) {
        // Not valid HOCON as written (e.g. a path with ':'): take the value as a plain string.
        one = ConfigFactory.parseMap(Map.of(key, value));
      }
      merged = one.withFallback(merged);
    }
    try {
      return merged.resolve();
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigException("Cannot resolve pipeline config: " + e.getMessage(), e);
    }
  }

  private static PipelineConfig bind(Config config, ConfigOrigin origin) {
    String json = config.root().render(ConfigRenderOptions.concise());
    PipelineConfig bound;
    try {
      bound = MAPPER.readValue(json, PipelineConfig.class);
    } catch (UnrecognizedPropertyException e) {
      Set<String> known =
          e.getKnownPropertyIds().stream()
              .map(Object::toString)
              .collect(Collectors.toCollection(java.util.TreeSet::new));
      throw new ConfigException(
          "Unknown config key '"
              + path(e)
              + "' "
              + origin.of(path(e))
              + ": expected one of "
              + known);
    } catch (JsonMappingException e) {
      String cause =
          e.getCause() != null && e.getCause().getMessage() != null
              ? e.getCause().getMessage()
              : e.getOriginalMessage();
      throw new ConfigException(
          "Bad value for config key '"
              + path(e)
              + "' "
              + origin.of(path(e))
              + ": "
              + firstLine(cause),
          e);
    } catch (java.io.IOException e) {
      throw new ConfigException("Cannot bind pipeline config " + origin + ": " + e.getMessage(), e);
    }
    PipelineConfigValidator.validate(bound, origin);
    return bound;
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream()
        .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
        .collect(Collectors.joining("."))
        .replace(".[", "[");
  }

  private static String firstLine(String message) {
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
