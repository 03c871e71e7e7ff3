package org.cohortfusion.cohort.ingest;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.objects.StaticInvoke;
import org.apache.spark.sql.types.AbstractDataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.unsafe.Platform;
import org.apache.spark.unsafe.types.UTF8String;
import scala.collection.JavaConverters;

/**
 * The malformed-id rule: a subject_id is malformed when it is empty or only spaces, longer than
 * {@value #MAX_CHARACTERS} characters, or holds a control character (U+0000 to U+001F, U+007F).
 * Every row of every table is checked, so the rule is one pass over the id's UTF-8 bytes, called
 * from Spark's generated code ({@link StaticInvoke}); the same rule as Spark SQL functions
 * ({@code length(trim(id)) = 0 OR length(id) > 256 OR id RLIKE '[\x00-\x1F\x7F]'}) measured
 * several times slower, mostly in the regular expression, which decodes each id to a Java string.
 */
public final class MalformedId {
  static final int MAX_CHARACTERS = 256;

  private MalformedId() {}

  /** The rule as a column over {@code id} (null for a null id). */
  static Column of(Column id) {
    Expression call = new StaticInvoke(MalformedId.class, DataTypes.BooleanType, "test",
        JavaConverters.asScalaBuffer(java.util.List.of(id.expr())).toSeq(),
        JavaConverters.asScalaBuffer(java.util.List.<AbstractDataType>of(DataTypes.StringType)).toSeq(),
        true, false, true);
    return new Column(call);
  }

  /**
   * True when {@code id} breaks the rule. A byte below 0x20 or equal to 0x7F is a control character
   * wherever it stands: UTF-8 never uses those values inside a multi-byte character, whose bytes
   * are all 0x80 or above; a character starts at every byte that is not a continuation byte.
   */
  public static boolean test(UTF8String id) {
    Object base = id.getBaseObject();
    long offset = id.getBaseOffset();
    int bytes = id.numBytes();
    boolean onlySpaces = true;
    int characters = 0;
    for (int i = 0; i < bytes; i++) {
      int b = Platform.getByte(base, offset + i) & 0xFF;
      if (b < 0x20 || b == 0x7F) {
        return true;
      }
      onlySpaces &= b == ' ';
      if ((b & 0xC0) != 0x80) {
        characters++;
      }
    }
    return onlySpaces || characters > MAX_CHARACTERS;
  }
}
