package org.cohortfusion.config;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import java.util.ArrayList;
import java.util.List;

/**
 * Every key of the pipeline config with its description, read from the config records' own
 * {@code @JsonPropertyDescription}s, so the help users see is the one the code carries. Map-valued
 * sections (modalities, encoders, fusion models) are shown with a {@code <name>} placeholder.
 */
public final class ConfigKeys {
  private ConfigKeys() {}

  /** A config key, its value type and its description. */
  public record Key(String path, String type, String description) {}

  public static List<Key> describe() {
    ObjectMapper mapper = new ObjectMapper();
    List<Key> keys = new ArrayList<>();
    walk(mapper, mapper.constructType(PipelineConfig.class), "", keys, 0);
    return keys;
  }

  private static void walk(
      ObjectMapper mapper, JavaType type, String prefix, List<Key> out, int depth) {
    BeanDescription bean = mapper.getDeserializationConfig().introspect(type);
    for (BeanPropertyDefinition p : bean.findProperties()) {
      String path = prefix + p.getName();
      JavaType t = p.getPrimaryType();
      String description = p.getMetadata().getDescription();
      JavaType nested = t;
      String shown = simpleName(t);
      if (t.isMapLikeType()) {
        nested = t.getContentType();
        path = path + ".<name>";
        shown = simpleName(nested);
      } else if (t.isCollectionLikeType() && isConfigRecord(t.getContentType())) {
        nested = t.getContentType();
        path = path + "[]";
        shown = simpleName(nested);
      }
      out.add(new Key(path, shown, description == null ? "" : description));
      if (isConfigRecord(nested) && depth < 6) {
        walk(mapper, nested, path + ".", out, depth + 1);
      }
    }
  }

  /**
   * A section of keys: a config record not written as one string (like {@code duplicates =
   * "latest:time"}).
   */
  private static boolean isConfigRecord(JavaType t) {
    Class<?> c = t.getRawClass();
    return c.isRecord()
        && c.getPackageName().equals(ConfigKeys.class.getPackageName())
        && !fromString(c);
  }

  private static boolean fromString(Class<?> c) {
    for (java.lang.reflect.Method m : c.getDeclaredMethods()) {
      if (java.lang.reflect.Modifier.isStatic(m.getModifiers())
          && m.isAnnotationPresent(com.fasterxml.jackson.annotation.JsonCreator.class)) {
        return true;
      }
    }
    return false;
  }

  private static String simpleName(JavaType t) {
    if (t.isCollectionLikeType()) {
      return "list of " + simpleName(t.getContentType());
    }
    if (t.isMapLikeType()) {
      return "map of " + simpleName(t.getContentType());
    }
    Class<?> c = t.getRawClass();
    if (c.isRecord()) {
      return fromString(c) ? "string" : "section";
    }
    if (c.isEnum()) {
      List<String> names = new ArrayList<>();
      for (Object e : c.getEnumConstants()) {
        names.add(((Enum<?>) e).name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
      }
      return String.join("|", names);
    }
    return c.getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }
}
