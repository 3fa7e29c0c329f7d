package dev.latentstream.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.stream.Protocol.ClientMessage;
import dev.latentstream.stream.Protocol.Codes;
import dev.latentstream.stream.Protocol.Control;
import dev.latentstream.stream.Protocol.Hello;
import dev.latentstream.stream.Protocol.ModelRequest;
import dev.latentstream.stream.Protocol.Ping;
import dev.latentstream.stream.Protocol.SetSetting;
import dev.latentstream.stream.Protocol.Start;
import dev.latentstream.stream.Protocol.Subscribe;
import dev.latentstream.stream.Protocol.Unsubscribe;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

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
          MessageFields.idOf(text));
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
      case "unsubscribe" -> new Unsubscribe(id, MessageFields.job(m, id));
      case "start" -> start(m, id);
      case "pause", "resume", "stop", "delete" -> new Control(id, type, MessageFields.job(m, id));
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
    Long n = MessageFields.wholeNumber(v, 0, Integer.MAX_VALUE);
    if (n == null) {
      throw new ProtocolException(Codes.BAD_FIELD, "\"version\" must be a whole number", id);
    }
    if (n != Protocol.VERSION) {
      throw new ProtocolException(
          Codes.VERSION,
          "this server speaks protocol version " + Protocol.VERSION + ", not " + n,
          id);
    }
    return new Hello(id, Protocol.VERSION, MessageFields.optionalString(m, "token", id));
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
        MessageFields.job(m, id),
        MessageFields.streams(m, id),
        fps == null ? null : ((Number) fps).doubleValue(),
        !"png".equals(latent));
  }

  private static Start start(JsonObject m, String id) {
    String preset = MessageFields.optionalString(m, "preset", id);
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
    Long e = MessageFields.wholeNumber(epochs, 1, JobConfigs.MAX_EPOCHS);
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
    String key = MessageFields.optionalString(m, "key", id);
    if (key == null) {
      throw new ProtocolException(Codes.BAD_FIELD, "set needs a string \"key\"", id);
    }
    if (!(m.getValue("value") instanceof Number v) || !Double.isFinite(v.doubleValue())) {
      throw new ProtocolException(Codes.BAD_FIELD, "set needs a number \"value\"", id);
    }
    return new SetSetting(id, MessageFields.job(m, id), key, v.doubleValue());
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
        MessageFields.wholeField(
            point.getValue("index"),
            "\"" + end + ".index\" must be a test image number (a whole number from 0)",
            id);
      }
    }
    for (String key : List.of("steps", "plus", "minus")) {
      if (m.containsKey(key)) {
        MessageFields.wholeField(
            m.getValue(key), "\"" + key + "\" must be a whole number from 0", id);
      }
    }
    return new ModelRequest(id, type, MessageFields.job(m, id), m);
  }
}
