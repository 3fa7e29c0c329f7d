package dev.latentstream.stream;

import dev.latentstream.bus.TrainerCommand;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Client → server messages of the WebSocket protocol, parsed and checked before anything acts on them.
 * Unknown types and wrongly typed fields fail loudly with an error code (see {@link Codes}).
 */
public final class Protocol {

  public static final int VERSION = 1;

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
    public static final String VERSION = "unsupported_version";
    public static final String INTERNAL = "internal";

    private Codes() {}
  }

  /** The streams a client can subscribe to. */
  public enum Stream {
    loss, recon, samples, latent, manifold, status
  }

  public sealed interface ClientMessage {
    String id();
  }

  public record Hello(String id, int version, String token) implements ClientMessage {}

  public record Subscribe(String id, Object job, Set<Stream> streams) implements ClientMessage {}

  public record Unsubscribe(String id, Object job) implements ClientMessage {}

  /** Starts a job from a preset name or a spec object. */
  public record Start(String id, String preset, JsonObject spec, Integer epochs) implements ClientMessage {}

  /** pause, resume, stop or delete a job. */
  public record Control(String id, String action, Object job) implements ClientMessage {}

  public record SetSetting(String id, Object job, String key, double value) implements ClientMessage {}

  /** decode, encode, interpolate or attribute against the live model; the trainer validates the payload. */
  public record ModelRequest(String id, String op, Object job, JsonObject body) implements ClientMessage {}

  public record Ping(String id) implements ClientMessage {}

  static final List<String> TYPES = List.of("hello", "subscribe", "unsubscribe", "start", "pause", "resume", "stop",
      "delete", "set", "decode", "encode", "interpolate", "attribute", "ping");

  public static ClientMessage parse(String text, int maxBytes) {
    if (text.length() > maxBytes) {
      throw new ProtocolException(Codes.TOO_LARGE, "message of " + text.length() + " characters exceeds the limit of "
          + maxBytes, idOf(text));
    }
    JsonObject m;
    try {
      m = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw new ProtocolException(Codes.BAD_JSON, "not a JSON object: " + firstLine(e.getMessage()), null);
    }
    return parse(m);
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
      case "hello" -> {
        Object v = m.getValue("version");
        if (!(v instanceof Number n) || n.intValue() != n.doubleValue()) {
          throw new ProtocolException(Codes.BAD_FIELD, "\"version\" must be a whole number", id);
        }
        if (n.intValue() != VERSION) {
          throw new ProtocolException(Codes.VERSION, "this server speaks protocol version " + VERSION + ", not " + n, id);
        }
        yield new Hello(id, n.intValue(), optionalString(m, "token", id));
      }
      case "subscribe" -> new Subscribe(id, job(m, id), streams(m, id));
      case "unsubscribe" -> new Unsubscribe(id, job(m, id));
      case "start" -> {
        String preset = optionalString(m, "preset", id);
        Object spec = m.getValue("spec");
        if ((preset == null) == (spec == null)) {
          throw new ProtocolException(Codes.BAD_FIELD, "start needs exactly one of \"preset\" (string) or \"spec\" (object)", id);
        }
        if (spec != null && !(spec instanceof JsonObject)) {
          throw new ProtocolException(Codes.BAD_FIELD, "\"spec\" must be an object", id);
        }
        Object epochs = m.getValue("epochs");
        if (epochs != null && (!(epochs instanceof Number e) || e.intValue() < 1 || e.intValue() != e.doubleValue())) {
          throw new ProtocolException(Codes.BAD_FIELD, "\"epochs\" must be a whole number of at least 1", id);
        }
        yield new Start(id, preset, (JsonObject) spec, epochs == null ? null : ((Number) epochs).intValue());
      }
      case "pause", "resume", "stop", "delete" -> new Control(id, type, job(m, id));
      case "set" -> {
        String key = optionalString(m, "key", id);
        if (key == null) {
          throw new ProtocolException(Codes.BAD_FIELD, "set needs a string \"key\"", id);
        }
        if (!(m.getValue("value") instanceof Number v) || !Double.isFinite(v.doubleValue())) {
          throw new ProtocolException(Codes.BAD_FIELD, "set needs a number \"value\"", id);
        }
        yield new SetSetting(id, job(m, id), key, v.doubleValue());
      }
      case "decode", "encode", "interpolate", "attribute" -> {
        if (id == null) {
          throw new ProtocolException(Codes.BAD_FIELD, type + " needs an \"id\", which the reply echoes", null);
        }
        if ("encode".equals(type) && !(m.getValue("pixels") instanceof JsonArray)) {
          throw new ProtocolException(Codes.BAD_FIELD, "encode needs \"pixels\": an array of 28x28 numbers in [0, 1]", id);
        }
        yield new ModelRequest(id, type, job(m, id), m);
      }
      case "ping" -> new Ping(id);
      default -> throw new ProtocolException(Codes.UNKNOWN_TYPE, "unknown message type '" + type + "' (known: "
          + String.join(", ", TYPES) + ")", id);
    };
  }

  private static Object job(JsonObject m, String id) {
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
      throw new ProtocolException(Codes.BAD_FIELD, "\"streams\" must be an array of stream names", id);
    }
    if (arr.isEmpty()) {
      throw new ProtocolException(Codes.BAD_FIELD, "\"streams\" must name at least one stream (or be left out for all)", id);
    }
    EnumSet<Stream> out = EnumSet.noneOf(Stream.class);
    for (Object o : arr) {
      try {
        out.add(Stream.valueOf(String.valueOf(o)));
      } catch (IllegalArgumentException e) {
        throw new ProtocolException(Codes.BAD_FIELD, "unknown stream '" + o + "' (streams: loss, recon, samples, latent, "
            + "manifold, status)", id);
      }
    }
    return out;
  }

  /** The id of a message not otherwise read (too large), so its error still reaches the request; else null. */
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

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
