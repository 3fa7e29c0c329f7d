package dev.latentstream.stream;

import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.stream.Protocol.Codes;
import dev.latentstream.stream.Protocol.Stream;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.EnumSet;
import java.util.Set;

/**
 * The fields client messages share, each read with its type and range checked: whole numbers, a job
 * (number or id), the streams of a subscribe, optional strings, and a message's id even when the
 * rest of it cannot be read. A wrong field fails with a {@link ProtocolException} naming it.
 *
 * <p>Threads: stateless; any thread.
 */
final class MessageFields {

  private MessageFields() {}

  static void wholeField(Object v, String message, String id) {
    if (wholeNumber(v, 0, Integer.MAX_VALUE) == null) {
      throw new ProtocolException(Codes.BAD_FIELD, message, id);
    }
  }

  /**
   * {@code v} as a long when it is exactly a whole number in {@code [min, max]}, else null: no
   * rounding (1.9), no wrapping (2^32 + 5, 2^63) and no truncation towards zero (-0.9).
   */
  static Long wholeNumber(Object v, long min, long max) {
    long n;
    switch (v) {
      case Integer i -> n = i;
      case Long l -> n = l;
      case Short sh -> n = sh;
      case Byte b -> n = b;
      case BigInteger b -> {
        if (b.bitLength() > 63) {
          return null;
        }
        n = b.longValue();
      }
      case BigDecimal d -> {
        try {
          n = d.longValueExact();
        } catch (ArithmeticException notWhole) {
          return null;
        }
      }
      case Number d -> {
        double x = d.doubleValue();
        // 2^63 as a double rounds to Long.MAX_VALUE when cast; the bounds below are well inside a
        // long.
        if (x != Math.rint(x) || Double.isInfinite(x) || Math.abs(x) >= 0x1p62) {
          return null;
        }
        n = (long) x;
      }
      case null, default -> {
        return null;
      }
    }
    return n < min || n > max ? null : n;
  }

  static Object job(JsonObject m, String id) {
    Object job = m.getValue("job");
    if (job instanceof Number && wholeNumber(job, 0, Integer.MAX_VALUE) == null) {
      throw new ProtocolException(
          Codes.BAD_FIELD,
          "\"job\" must be a job id (string) or number (a whole number from 0)",
          id);
    }
    try {
      return TrainerCommand.jobRef(m.getValue("job"));
    } catch (IllegalArgumentException e) {
      throw new ProtocolException(Codes.BAD_FIELD, e.getMessage(), id);
    }
  }

  static Set<Stream> streams(JsonObject m, String id) {
    Object v = m.getValue("streams");
    if (v == null) {
      return EnumSet.allOf(Stream.class);
    }
    if (!(v instanceof JsonArray arr)) {
      throw new ProtocolException(
          Codes.BAD_FIELD, "\"streams\" must be an array of stream names", id);
    }
    if (arr.isEmpty()) {
      throw new ProtocolException(
          Codes.BAD_FIELD,
          "\"streams\" must name at least one stream (or be left out for all)",
          id);
    }
    EnumSet<Stream> out = EnumSet.noneOf(Stream.class);
    for (Object o : arr) {
      Stream s = o instanceof String name ? Stream.fromWireName(name) : null;
      if (s == null) {
        throw new ProtocolException(
            Codes.BAD_FIELD,
            "unknown stream '"
                + o
                + "' (streams: "
                + java.util.Arrays.stream(Stream.values())
                    .map(Stream::wireName)
                    .collect(java.util.stream.Collectors.joining(", "))
                + ")",
            id);
      }
      out.add(s);
    }
    return out;
  }

  /**
   * The id of a message not otherwise read (too large), so its error still reaches the request;
   * else null.
   */
  static String idOf(String text) {
    try {
      Object id = new JsonObject(text).getValue("id");
      return id instanceof String || id instanceof Number ? id.toString() : null;
    } catch (RuntimeException notJson) {
      return null;
    }
  }

  static String optionalString(JsonObject m, String key, String id) {
    Object v = m.getValue(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw new ProtocolException(Codes.BAD_FIELD, "\"" + key + "\" must be a string", id);
    }
    return s;
  }
}
