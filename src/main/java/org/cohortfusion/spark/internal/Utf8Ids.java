package org.cohortfusion.spark.internal;

import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.types.AbstractDataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.unsafe.Platform;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The subject-id rule as one pass over the id's UTF-8 bytes in Spark's own string ({@link
 * UTF8String}, read with {@link Platform#getByte}), called from generated code ({@link
 * CompiledCall}): an id is malformed when it is empty or only spaces, longer than {@value
 * #MAX_CHARACTERS} characters, holds a control character (U+0000 to U+001F, U+007F) or U+FFFD, or
 * is not valid UTF-8. Kept internal because every row of every table is checked: the same rule on
 * valid UTF-8 as Spark SQL functions ({@code length(trim(id)) = 0 OR length(id) > 256 OR id RLIKE
 * '[\x00-\x1F\x7F]'}) measured several times slower, mostly in the regular expression, which
 * decodes each id to a Java string; a public {@code udf} decodes each id too.
 */
public final class Utf8Ids {
  /** The longest id, in characters. */
  public static final int MAX_CHARACTERS = 256;

  private Utf8Ids() {}

  /** Whether {@code id} is malformed ({@link #test}), as a column (null for a null id). */
  public static Column malformed(Column id) {
    return call("test", id);
  }

  /**
   * Whether {@code id} starts or ends with whitespace ({@link #hasEdgeSpace}), as a column (null
   * for a null id).
   */
  public static Column edgeSpace(Column id) {
    return call("hasEdgeSpace", id);
  }

  private static Column call(String method, Column id) {
    return CompiledCall.of(
        Utf8Ids.class,
        method,
        DataTypes.BooleanType,
        List.of(id),
        List.<AbstractDataType>of(DataTypes.StringType));
  }

  /**
   * True when {@code id} breaks the rule. A byte below 0x20 or equal to 0x7F is a control character
   * wherever it stands: UTF-8 never uses those values inside a multi-byte character, whose bytes
   * are all 0x80 or above. The bytes must also be well-formed UTF-8 (RFC 3629: no stray
   * continuation byte, no truncated sequence, no overlong form, no surrogate, nothing above
   * U+10FFFF): Spark does not check the bytes of a Parquet string, and an invalid sequence decodes
   * later to U+FFFD, so two distinct ids could become one. For the same reason an id holding U+FFFD
   * itself is malformed: it is what a reader that decodes as it reads (Spark's CSV reader) puts in
   * place of bytes that are not UTF-8.
   */
  public static boolean test(UTF8String id) {
    Object base = id.getBaseObject();
    long offset = id.getBaseOffset();
    int bytes = id.numBytes();
    boolean onlySpaces = true;
    int characters = 0;
    int i = 0;
    while (i < bytes) {
      int b = Platform.getByte(base, offset + i) & 0xFF;
      if (b < 0x80) {
        if (b < 0x20 || b == 0x7F) {
          return true;
        }
        onlySpaces &= b == ' ';
        i++;
      } else {
        int length = sequenceLength(base, offset, i, bytes, b);
        if (length == 0 || isReplacementCharacter(base, offset, i, b, length)) {
          return true;
        }
        onlySpaces = false;
        i += length;
      }
      characters++;
    }
    return onlySpaces || characters > MAX_CHARACTERS;
  }

  /** Whether the well-formed sequence of {@code length} bytes at {@code i} is U+FFFD (EF BF BD). */
  private static boolean isReplacementCharacter(
      Object base, long offset, int i, int b, int length) {
    return length == 3
        && b == 0xEF
        && (Platform.getByte(base, offset + i + 1) & 0xFF) == 0xBF
        && (Platform.getByte(base, offset + i + 2) & 0xFF) == 0xBD;
  }

  /**
   * The length of the well-formed multi-byte sequence starting with lead byte {@code b} at {@code
   * i}, or 0 when it is not one (the ranges of the Unicode standard's table 3-7).
   */
  private static int sequenceLength(Object base, long offset, int i, int bytes, int b) {
    int length;
    int low = 0x80;
    int high = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      length = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      length = 3;
      if (b == 0xE0) {
        low = 0xA0; // overlong
      } else if (b == 0xED) {
        high = 0x9F; // surrogates
      }
    } else if (b >= 0xF0 && b <= 0xF4) {
      length = 4;
      if (b == 0xF0) {
        low = 0x90; // overlong
      } else if (b == 0xF4) {
        high = 0x8F; // above U+10FFFF
      }
    } else {
      return 0; // a continuation byte, an overlong lead (0xC0, 0xC1) or above 0xF4
    }
    if (i + length > bytes) {
      return 0;
    }
    int second = Platform.getByte(base, offset + i + 1) & 0xFF;
    if (second < low || second > high) {
      return 0;
    }
    for (int k = 2; k < length; k++) {
      int c = Platform.getByte(base, offset + i + k) & 0xFF;
      if (c < 0x80 || c > 0xBF) {
        return 0;
      }
    }
    return length;
  }

  /**
   * True when the first or the last character of {@code id} is whitespace: a Unicode space
   * separator (category Z: the space, U+00A0 no-break space, U+2000 to U+200A, U+3000, ...) or
   * U+FEFF (a byte-order mark, which spreadsheets leave in front of a CSV file's first cell).
   * Control characters (tab, newline) are not looked for: {@link #test} rejects them anywhere. Only
   * the two end characters are decoded; bytes that are not UTF-8 there count as no space ({@link
   * #test} rejects them).
   */
  public static boolean hasEdgeSpace(UTF8String id) {
    int bytes = id.numBytes();
    if (bytes == 0) {
      return false;
    }
    Object base = id.getBaseObject();
    long offset = id.getBaseOffset();
    if (isSpace(codePointAt(base, offset, 0, bytes))) {
      return true;
    }
    int last = bytes - 1;
    while (last > 0 && last > bytes - 4 && (Platform.getByte(base, offset + last) & 0xC0) == 0x80) {
      last--;
    }
    return isSpace(codePointAt(base, offset, last, bytes));
  }

  private static boolean isSpace(int codePoint) {
    return codePoint == ' '
        || codePoint == 0xFEFF
        || (codePoint > 0x7F && Character.isSpaceChar(codePoint));
  }

  /** The code point whose well-formed sequence starts at {@code i}, or -1. */
  private static int codePointAt(Object base, long offset, int i, int bytes) {
    int b = Platform.getByte(base, offset + i) & 0xFF;
    if (b < 0x80) {
      return b;
    }
    int length = sequenceLength(base, offset, i, bytes, b);
    if (length == 0) {
      return -1;
    }
    int cp = b & (0xFF >> (length + 1));
    for (int k = 1; k < length; k++) {
      cp = (cp << 6) | (Platform.getByte(base, offset + i + k) & 0x3F);
    }
    return cp;
  }
}
