package dev.latentstream.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.wire.FrameHeader;
import dev.latentstream.wire.FrameKind;
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
 * Client → server messages of the WebSocket protocol, parsed and checked before anything acts on
 * them. Unknown types and wrongly typed fields fail loudly with an error code (see {@link Codes}).
 */
public final class Protocol {

  public static final int VERSION = FrameHeader.VERSION;

  private Protocol() {}

  /** Error codes, as sent in {@code error} messages. */
  public static final class Codes {
    public static final String BAD_JSON = "bad_json";
    public static final String UNKNOWN_TYPE = "unknown_type";
    public static final String BAD_FIELD = "bad_field";
    public static final String UNKNOWN_JOB = "unknown_job";
    public static final String TOO_LARGE = "too_large";
    public static final String UNAUTHORIZED = "unauthorized";
    public static final String BAD_REQUEST = "bad_request";
    public static final String CONFLICT = "conflict";
    public static final String UNAVAILABLE = "unavailable";

    /**
     * A rationed request (interactive model requests in flight) refused at once; the error carries
     * {@code retryAfterMs}.
     */
    public static final String BUSY = "busy";

    /**
     * The client has more unsent bytes than {@code writeQueueBytes}; a client that keeps asking is
     * closed.
     */
    public static final String TOO_BUSY = "too_busy";

    public static final String VERSION = "unsupported_version";
    public static final String INTERNAL = "internal";

    private Codes() {}
  }

  /**
   * The streams a client can subscribe to. The image streams are the frame kinds and take their
   * names from {@link FrameKind}; the others are named here.
   */
  public enum Stream {
    loss,
    recon(FrameKind.RECON),
    samples(FrameKind.SAMPLES),
    latent(FrameKind.LATENT),
    manifold(FrameKind.MANIFOLD),
    status,
    diagnostics;

    private final FrameKind kind;

    Stream() {
      this(null);
    }

    Stream(FrameKind kind) {
      this.kind = kind;
    }

    /** The stream's name in {@code subscribe} and {@code subscribed}. */
    public String wireName() {
      return kind == null ? name() : kind.wireName();
    }

    /** The image stream that carries {@code kind}'s frames. */
    public static Stream of(FrameKind kind) {
      for (Stream s : values()) {
        if (s.kind == kind) {
          return s;
        }
      }
      throw new IllegalArgumentException("no stream carries " + kind + " frames");
    }

    /** The stream named {@code name} on the wire, or null. */
    static Stream fromWireName(String name) {
      for (Stream s : values()) {
        if (s.wireName().equals(name)) {
          return s;
        }
      }
      return null;
    }
  }

  public sealed interface ClientMessage {
    String id();
  }

  public record Hello(String id, int version, String token) implements ClientMessage {}

  /**
   * {@code maxFps}: the highest image frame rate per stream the client wants, or null for the
   * server's. {@code latentPoints}: the latent scatter as point data (binary format 2, the default)
   * rather than a PNG.
   */
  public record Subscribe(
      String id, Object job, Set<Stream> streams, Double maxFps, boolean latentPoints)
      implements ClientMessage {}

  public record Unsubscribe(String id, Object job) implements ClientMessage {}

  /** Starts a job from a preset name or a spec object. */
  public record Start(String id, String preset, JsonObject spec, Integer epochs, JsonObject sweep)
      implements ClientMessage {}

  /** pause, resume, stop or delete a job. */
  public record Control(String id, String action, Object job) implements ClientMessage {}

  public record SetSetting(String id, Object job, String key, double value)
      implements ClientMessage {}

  /**
   * decode, encode, interpolate or attribute against the live model; the trainer validates the
   * payload.
   */
  public record ModelRequest(String id, String op, Object job, JsonObject body)
      implements ClientMessage {}

  public record Ping(String id) implements ClientMessage {}

  /** The interactive requests against a job's model. */
  public static final List<String> MODEL_REQUESTS =
      List.of("decode", "encode", "interpolate", "attribute");

  static final List<String> TYPES =
      List.of(
          "hello",
          "subscribe",
          "unsubscribe",
          "start",
          "pause",
          "resume",
          "stop",
          "delete",
          "set",
          "decode",
          "encode",
          "interpolate",
          "attribute",
          "ping");

  /** Parses {@code text}; the limit counts its UTF-8 bytes, as they came over the wire. */
  public static ClientMessage parse(String text, int maxBytes) {
    return parse(text, utf8Length(text), maxBytes);
  }

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

  /** The UTF-8 length of {@code s} (a lone surrogate counts as the 3 bytes of its replacement). */
  static long utf8Length(CharSequence s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n++;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
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

  public static ClientMessage parse(JsonObject m) {
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
              "unknown message type '" + type + "' (known: " + String.join(", ", TYPES) + ")",
              id);
    };
  }

  private static Hello hello(JsonObject m, String id) {
    Object v = m.getValue("version");
    Long n = wholeNumber(v, 0, Integer.MAX_VALUE);
    if (n == null) {
      throw new ProtocolException(Codes.BAD_FIELD, "\"version\" must be a whole number", id);
    }
    if (n != VERSION) {
      throw new ProtocolException(
          Codes.VERSION, "this server speaks protocol version " + VERSION + ", not " + n, id);
    }
    return new Hello(id, VERSION, optionalString(m, "token", id));
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
