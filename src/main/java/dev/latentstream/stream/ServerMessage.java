package dev.latentstream.stream;

import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.wire.PlaneAxes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Server → client JSON messages of the protocol ({@code web/api/protocol.md}), one record per type.
 * A record's type is its simple name in lower camel case ({@code Welcome} → {@code welcome}),
 * except {@link Result}, the reply to a command, whose type is one of {@link #RESULT_TYPES}.
 */
public sealed interface ServerMessage {

  JsonObject toJson();

  default String type() {
    String name = getClass().getSimpleName();
    return name.substring(0, 1).toLowerCase(Locale.ROOT) + name.substring(1);
  }

  /** Reply types of {@link Result}, by request type. */
  Map<String, String> RESULT_TYPES =
      Map.ofEntries(
          Map.entry("start", "started"),
          Map.entry("pause", "paused"),
          Map.entry("resume", "resumed"),
          Map.entry("stop", "stopped"),
          Map.entry("delete", "deleted"),
          Map.entry("set", "set"),
          Map.entry("decode", "decoded"),
          Map.entry("encode", "encoded"),
          Map.entry("interpolate", "interpolated"),
          Map.entry("attribute", "attributed"));

  private static JsonObject typed(ServerMessage m) {
    return new JsonObject().put("type", m.type());
  }

  private static JsonObject replyTo(ServerMessage m, String id) {
    JsonObject j = typed(m);
    if (id != null) {
      j.put("id", id);
    }
    return j;
  }

  // --- sent unasked ---------------------------------------------------------------------------

  /** On connect: the protocol version, whether the connection is authorised, and every job. */
  record Welcome(boolean authorized, List<JsonObject> jobs) implements ServerMessage {
    @Override
    public JsonObject toJson() {
      return typed(this)
          .put("version", Protocol.VERSION)
          .put("authorized", authorized)
          .put("jobs", new JsonArray(jobs));
    }
  }

  /** A job changed; sent to every client. */
  record Status(JsonObject job) implements ServerMessage {
    @Override
    public JsonObject toJson() {
      return typed(this).put("job", job);
    }
  }

  /** The whole loss history of a job; replaces whatever the client holds for it. */
  record History(int job, String jobId, JsonObject columns, JsonObject test, JsonArray settings)
      implements ServerMessage {
    @Override
    public JsonObject toJson() {
      return typed(this)
          .put("job", job)
          .put("jobId", jobId)
          .put("columns", columns)
          .put("test", test)
          .put("settings", settings);
    }
  }

  /** New loss points, in the columnar form of {@link History}. */
  record Loss(int job, JsonObject columns) implements ServerMessage {
    @Override
    public JsonObject toJson() {
      return typed(this).put("job", job).put("columns", columns);
    }
  }

  /**
   * The data range {@code [xMin, xMax, yMin, yMax]} of the next latent frame's square plot area
   * and, when known, which latent point each plane point stands for ({@code origin}, {@code axes}).
   */
  record Plane(int job, long step, float[] range, PlaneAxes axes) implements ServerMessage {
    public Plane(int job, long step, float[] range) {
      this(job, step, range, null);
    }

    @Override
    public JsonObject toJson() {
      JsonArray r = new JsonArray();
      for (float v : range) {
        r.add(v);
      }
      JsonObject o = typed(this).put("job", job).put("step", step).put("range", r);
      if (axes != null) {
        JsonArray origin = new JsonArray();
        for (float v : axes.origin()) {
          origin.add(v);
        }
        o.put("origin", origin)
            .put(
                "axes",
                new JsonArray()
                    .add(new JsonArray(java.util.Arrays.stream(axes.axisU()).boxed().toList()))
                    .add(new JsonArray(java.util.Arrays.stream(axes.axisV()).boxed().toList())));
      }
      return o;
    }
  }

  /**
   * A trainer event viewers receive as it is: {@code epoch}, {@code setting}, {@code log}, {@code
   * deleted}, {@code diagnostics} or {@code warning}. Its JSON is {@link TrainerEvent#toJson}, the
   * one mapping of those events, which the cluster's wire form shares.
   */
  record Event(TrainerEvent event) implements ServerMessage {
    public Event {
      if (!TrainerEvent.forViewers(event)) {
        throw new IllegalArgumentException(
            TrainerEvent.type(event) + " events are not sent to viewers as they are");
      }
    }

    @Override
    public String type() {
      return TrainerEvent.type(event);
    }

    @Override
    public JsonObject toJson() {
      return TrainerEvent.toJson(event);
    }
  }

  // --- replies (echo the request's id) ----------------------------------------------------------

  /**
   * {@code retryAfterMs} (null for none): when a rationed request ({@code busy}) is worth trying
   * again.
   */
  record Error(String id, String code, String message, Long retryAfterMs) implements ServerMessage {
    public Error(String id, String code, String message) {
      this(id, code, message, null);
    }

    @Override
    public JsonObject toJson() {
      JsonObject j = replyTo(this, id).put("code", code).put("message", message);
      return retryAfterMs == null ? j : j.put("retryAfterMs", retryAfterMs);
    }
  }

  record Hello(String id, boolean authorized) implements ServerMessage {
    @Override
    public JsonObject toJson() {
      return replyTo(this, id).put("version", Protocol.VERSION).put("authorized", authorized);
    }
  }

  /** {@code maxFps}: the image frame rate per stream the client will get at most. */
  record Subscribed(String id, JsonObject job, List<String> streams, double maxFps)
      implements ServerMessage {
    @Override
    public JsonObject toJson() {
      return replyTo(this, id)
          .put("job", job)
          .put("streams", new JsonArray(streams))
          .put("maxFps", maxFps);
    }
  }

  record Unsubscribed(String id, int job) implements ServerMessage {
    @Override
    public JsonObject toJson() {
      return replyTo(this, id).put("job", job);
    }
  }

  record Pong(String id) implements ServerMessage {
    @Override
    public JsonObject toJson() {
      return replyTo(this, id);
    }
  }

  /**
   * The trainer's answer to a command: {@code type} is {@link #RESULT_TYPES}' entry for the
   * request.
   */
  record Result(String type, String id, JsonObject result) implements ServerMessage {
    public Result {
      if (!RESULT_TYPES.containsValue(type)) {
        throw new IllegalArgumentException("not a result type: " + type);
      }
    }

    @Override
    public JsonObject toJson() {
      return replyTo(this, id).put("result", result);
    }
  }
}
