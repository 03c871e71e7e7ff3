package org.cohortfusion.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;

/** JSON and text files on any Hadoop file system, with one shared, pretty-printing mapper. */
public final class Json {
  public static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).findAndRegisterModules();

  private Json() {}

  public static void write(Configuration conf, String path, Object value) {
    try {
      writeText(conf, path, MAPPER.writeValueAsString(value));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + path, e);
    }
  }

  public static void writeText(Configuration conf, String path, String text) {
    Path p = new Path(path);
    try (FSDataOutputStream out = p.getFileSystem(conf).create(p, true)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + path, e);
    }
  }

  public static <T> T read(Configuration conf, String path, Class<T> type) {
    Path p = new Path(path);
    try (InputStream in = p.getFileSystem(conf).open(p)) {
      return MAPPER.readValue(in, type);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + path, e);
    }
  }

  public static String readText(Configuration conf, String path) {
    Path p = new Path(path);
    try (InputStream in = p.getFileSystem(conf).open(p)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + path, e);
    }
  }
}
