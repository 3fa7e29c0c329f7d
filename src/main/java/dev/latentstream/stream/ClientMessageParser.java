package dev.latentstream.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.stream.Protocol.ClientMessage;
import dev.latentstream.stream.Protocol.Codes;
import dev.latentstream.stream.Protocol.Control;
import dev.latentstream.stream.Protocol.Hello;
import dev.latentstream.stream.Protocol.ModelRequest;
import dev.latentstream.stream.Protocol.Ping;
import dev.latentstream.stream.Protocol.SetSetting;
import dev.latentstream.stream.Protocol.Start;
import dev.latentstream.stream.Protocol.Stream;
import dev.latentstream.stream.Protocol.Subscribe;
import dev.latentstream.stream.Protocol.Unsubscribe;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a client's message into one of {@link Protocol}'s records, checking every field before
 * anything acts on it: a message over the size limit, invalid JSON (with its line and column), an
 * unknown type or a wrongly typed field fails with a {@link ProtocolException} carrying the error
 * code and the message's id when it has one.
 *
 * <p>Threads: stateless; any thread.
 */
final class ClientMessageParser {

  private ClientMessageParser() {}

  /** Parses {@code text}, which was {@code bytes} long in UTF-8. */
  static ClientMessage parse(String text, long bytes, int maxBytes) {
    if (bytes > maxBytes) {
      throw new ProtocolException(
          Codes.TOO_LARGE,
          "message of " + bytes + " bytes exceeds the limit of " + maxBytes + " bytes",
          idOf(text));
    }
    Object value;
    try {
      value = Json.decodeValue(text);
    } catch (DecodeException e) {
      throw new ProtocolException(Codes.BAD_JSON, "the message is not valid JSON" + where(e), null);
    }
    if (!(value instanceof JsonObject m)) {
      throw new ProtocolException(
          Codes.BAD_JSON,
          "a message must be a JSON object like {\"type\": \"ping\"}, not " + kindOf(value),
          null);
    }
    return parse(m);
  }

  /**
   * " (line L, column C)" from the parser's location, without its internals; "" when it has none.
   */
  private static String where(DecodeException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof JsonProcessingException j && j.getLocation() != null) {
        return " (line "
            + j.getLocation().getLineNr()
            + ", column "
            + j.getLocation().getColumnNr()
            + ")";
      }
    }
    return "";
  }

  private static String kindOf(Object v) {
    return switch (v) {
      case null -> "null";
      case JsonArray a -> "an array";
      case String str -> "a string";
      case Number num -> "a number";
      case Boolean b -> "a boolean";
      default -> "a " + v.getClass().getSimpleName();
    };
  }

  static ClientMessage parse(JsonObject m) {
    Object rawId = m.getValue("id");
    if (rawId != null && !(rawId instanceof String) && !(rawId instanceof Number)) {
      throw new ProtocolException(Codes.BAD_FIELD, "\"id\" must be a string or a number", null);
    }
    String id = rawId == null ? null : rawId.toString();
    if (!(m.getValue("type") instanceof String type)) {
      throw new ProtocolException(Codes.BAD_FIELD, "every message needs a string \"type\"", id);
    }
    return switch (type) {
      case "hello" -> hello(m, id);
      case "subscribe" -> subscribe(m, id);
      case "unsubscribe" -> new Unsubscribe(id, job(m, id));
      case "start" -> start(m, id);
      case "pause", "resume", "stop", "delete" -> new Control(id, type, job(m, id));
      case "set" -> set(m, id);
      case "decode", "encode", "interpolate", "attribute" -> modelRequest(m, type, id);
      case "ping" -> new Ping(id);
      default ->
          throw new ProtocolException(
              Codes.UNKNOWN_TYPE,
              "unknown message type '"
                  + type
                  + "' (known: "
                  + String.join(", ", Protocol.TYPES)
                  + ")",
              id);
    };
  }

  private static Hello hello(JsonObject m, String id) {
    Object v = m.getValue("version");
    Long n = wholeNumber(v, 0, Integer.MAX_VALUE);
    if (n == null) {
      throw new ProtocolException(Codes.BAD_FIELD, "\"version\" must be a whole number", id);
    }
    if (n != Protocol.VERSION) {
      throw new ProtocolException(
          Codes.VERSION,
          "this server speaks protocol version " + Protocol.VERSION + ", not " + n,
          id);
    }
    return new Hello(id, Protocol.VERSION, optionalString(m, "token", id));
  }

  private static Subscribe subscribe(JsonObject m, String id) {
    Object fps = m.getValue("maxFps");
    if (fps != null
        && (!(fps instanceof Number f)
            || !(f.doubleValue() > 0)
            || !Double.isFinite(f.doubleValue()))) {
      throw new ProtocolException(
          Codes.BAD_FIELD,
          "\"maxFps\" must be a number above 0 (image frames per second " + "per stream)",
          id);
    }
    Object latent = m.getValue("latentFormat");
    if (latent != null && !"points".equals(latent) && !"png".equals(latent)) {
      throw new ProtocolException(
          Codes.BAD_FIELD, "\"latentFormat\" must be \"points\" or \"png\"", id);
    }
    return new Subscribe(
        id,
        job(m, id),
        streams(m, id),
        fps == null ? null : ((Number) fps).doubleValue(),
        !"png".equals(latent));
  }

  private static Start start(JsonObject m, String id) {
    String preset = optionalString(m, "preset", id);
    Object spec = m.getValue("spec");
    if ((preset == null) == (spec == null)) {
      throw new ProtocolException(
          Codes.BAD_FIELD,
          "start needs exactly one of \"preset\" (string) or \"spec\" (object)",
          id);
    }
    if (spec != null && !(spec instanceof JsonObject)) {
      throw new ProtocolException(Codes.BAD_FIELD, "\"spec\" must be an object", id);
    }
    Object epochs = m.getValue("epochs");
    // The spec's own bound, so that a start names the limit a job file has (not int's).
    Long e = wholeNumber(epochs, 1, JobConfigs.MAX_EPOCHS);
    if (epochs != null && e == null) {
      throw new ProtocolException(
          Codes.BAD_FIELD,
          "\"epochs\" must be a whole number from 1 to "
              + JobConfigs.MAX_EPOCHS
              + ", got "
              + epochs,
          id);
    }
    Object sweep = m.getValue("sweep");
    if (sweep != null && !(sweep instanceof JsonObject)) {
      throw new ProtocolException(
          Codes.BAD_FIELD,
          "\"sweep\" must be an object of key: [values], e.g. {\"beta\": [1, 4]}",
          id);
    }
    return new Start(
        id, preset, (JsonObject) spec, e == null ? null : e.intValue(), (JsonObject) sweep);
  }

  private static SetSetting set(JsonObject m, String id) {
    String key = optionalString(m, "key", id);
    if (key == null) {
      throw new ProtocolException(Codes.BAD_FIELD, "set needs a string \"key\"", id);
    }
    if (!(m.getValue("value") instanceof Number v) || !Double.isFinite(v.doubleValue())) {
      throw new ProtocolException(Codes.BAD_FIELD, "set needs a number \"value\"", id);
    }
    return new SetSetting(id, job(m, id), key, v.doubleValue());
  }

  private static ModelRequest modelRequest(JsonObject m, String type, String id) {
    if (id == null) {
      throw new ProtocolException(
          Codes.BAD_FIELD, type + " needs an \"id\", which the reply echoes", null);
    }
    if ("encode".equals(type) && !(m.getValue("pixels") instanceof JsonArray)) {
      throw new ProtocolException(
          Codes.BAD_FIELD, "encode needs \"pixels\": an array of 28x28 numbers in [0, 1]", id);
    }
    // Whole-number fields are checked here, exactly: the trainer reads them as ints, and 1.9 or
    // 2^32 + 5
    // must not quietly become 1 or 5. Ranges that depend on the model (how many test images) are
    // its own.
    for (String end : List.of("from", "to")) {
      if (m.getValue(end) instanceof JsonObject point && point.containsKey("index")) {
        wholeField(
            point.getValue("index"),
            "\"" + end + ".index\" must be a test image number (a whole number from 0)",
            id);
      }
    }
    for (String key : List.of("steps", "plus", "minus")) {
      if (m.containsKey(key)) {
        wholeField(m.getValue(key), "\"" + key + "\" must be a whole number from 0", id);
      }
    }
    return new ModelRequest(id, type, job(m, id), m);
  }

  private static void wholeField(Object v, String message, String id) {
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

  private static Object job(JsonObject m, String id) {
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

  private static Set<Stream> streams(JsonObject m, String id) {
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
  private static String idOf(String text) {
    try {
      Object id = new JsonObject(text).getValue("id");
      return id instanceof String || id instanceof Number ? id.toString() : null;
    } catch (RuntimeException notJson) {
      return null;
    }
  }

  private static String optionalString(JsonObject m, String key, String id) {
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
